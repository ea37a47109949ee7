"""Match quality proxy: precision@10 of category agreement, our matcher vs the seed's TF-IDF baseline.

The shared resume PDFs sit in category folders (INFORMATION-TECHNOLOGY, HR, ...). Posting titles are mapped to
the same categories with the published keyword rules below (first rule that matches wins; unmapped titles count
as disagreement). For each resume, P@10 = share of its top-10 postings whose title category equals the resume's
folder. Both systems rank the same postings for the same resumes:

- ours: `fact_match` top-10 per candidate from the last nightly run (`make run`), read from the warehouse;
- seed baseline: TF-IDF (max_features=1000) over the same silver texts + sklearn NearestNeighbors (cosine, brute).

  .venv/bin/python benchmarks/match_category_precision.py [DATA_DIR]      # default ./data
  .venv/bin/python benchmarks/match_category_precision.py --sweep [DATA_DIR]
  .venv/bin/python benchmarks/match_category_precision.py --evidence [DATA_DIR]
  .venv/bin/python benchmarks/match_category_precision.py --alternatives [DATA_DIR]

``--evidence`` rescores the same lake at the configured weights with and without the resume-side evidence
strength (``matching.evidence``), to show what it changes; ``--alternatives`` the same with the skills a posting
names as a choice counted as one requirement (the engine) and as separate skills, and for the postings with a
required choice, the share of their top-10 candidates who meet every such choice (hold a member of each). ``--sweep`` rescores the same lake (the nightly run's skills, embeddings and profiles) with a grid of component
weights and prints P@10 per weighting, next to the baseline; it writes nothing but the posting skill requirements
the match stage writes too.
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

# (category, title pattern): order matters, the first match wins
TITLE_RULES: list[tuple[str, str]] = [
    ("CHEF", r"\b(chef|cook|culinary|sous|kitchen)\b"),
    ("TEACHER", r"\b(teacher|tutor|instructor|educator|professor|lecturer|teaching)\b"),
    ("FITNESS", r"\b(fitness|personal trainer|yoga|coach(?!ing))\b"),
    ("AVIATION", r"\b(pilot|aviation|aircraft|flight|airline|avionics)\b"),
    ("AUTOMOBILE", r"\b(automotive|vehicle|mechanic|car sales|auto)\b"),
    ("AGRICULTURE", r"\b(agricultur\w*|farm\w*|agronom\w*|crop|horticultur\w*)\b"),
    ("APPAREL", r"\b(apparel|fashion|garment|textile|merchandis\w*)\b"),
    ("ADVOCATE", r"\b(attorney|lawyer|legal|paralegal|counsel|advocate|litigation)\b"),
    ("HEALTHCARE", r"\b(nurse|nursing|clinical|medical|health\w*|physician|therapist|pharmac\w*|patient|dental|"
                   r"caregiver|hospital)\b"),
    ("HR", r"\b(hr|human resources|recruit\w*|talent|people (ops|operations|partner)|payroll|benefits)\b"),
    ("ACCOUNTANT", r"\b(accountant|accounting|bookkeep\w*|auditor|audit|tax|cpa|controller|accounts (payable|receivable))\b"),
    ("BANKING", r"\b(bank\w*|teller|loan|mortgage|credit (analyst|officer)|underwrit\w*)\b"),
    ("FINANCE", r"\b(financ\w*|investment|analyst.*(finance|financial)|treasury|fp&a|actuar\w*|portfolio|trader)\b"),
    ("PUBLIC-RELATIONS", r"\b(public relations|pr |communications|media relations|publicist)\b"),
    ("DIGITAL-MEDIA", r"\b(digital media|social media|content|seo|video|marketing|copywriter|editor|journalist)\b"),
    ("DESIGNER", r"\b(designer|design|ux|ui|graphic|illustrator|art director)\b"),
    ("ARTS", r"\b(artist|arts|musician|actor|photograph\w*|animator|curator)\b"),
    ("BPO", r"\b(call center|customer (service|support|success)|bpo|support (agent|representative|specialist))\b"),
    ("SALES", r"\b(sales|account executive|account manager|sdr|bdr|retail)\b"),
    ("BUSINESS-DEVELOPMENT", r"\b(business development|partnership\w*|bizdev|growth)\b"),
    ("CONSULTANT", r"\b(consultant|consulting|advisor|advisory)\b"),
    ("CONSTRUCTION", r"\b(construction|civil|site (manager|engineer)|carpenter|electrician|plumber|estimator|"
                     r"superintendent|architect(?!ure))\b"),
    ("INFORMATION-TECHNOLOGY", r"\b(software|developer|devops|sre|data|machine learning|ml|ai|it|network|"
                               r"security|cloud|backend|frontend|full[- ]?stack|programmer|sysadmin|system "
                               r"administrator|database|qa|test|platform|infrastructure|web|mobile|ios|android|"
                               r"engineer(ing)? manager|cto|tech lead)\b"),
    ("ENGINEERING", r"\b(engineer\w*|mechanical|electrical|manufacturing|chemical|process|hardware)\b"),
]
_RULES = [(c, re.compile(p, re.I)) for c, p in TITLE_RULES]


def title_category(title: str | None) -> str | None:
    """The resume category a posting title maps to, or None."""
    for cat, rx in _RULES:
        if title and rx.search(title):
            return cat
    return None


def precision_at_10(ranked: dict[str, list[str]], cand_cat: dict[str, str], post_cat: dict[str, str | None]) -> float:
    """Mean over candidates of the share of their top-10 postings in the candidate's category."""
    vals = [sum(post_cat.get(p) == cand_cat[c] for p in ps[:10]) / 10 for c, ps in ranked.items()]
    return float(np.mean(vals)) if vals else float("nan")


# (skill coverage, semantic, title, seniority, location)
SWEEP = [(0.35, 0.65, 0, 0, 0), (0.3, 0.5, 0.2, 0, 0), (0.3, 0.4, 0.3, 0, 0), (0.25, 0.35, 0.4, 0, 0),
         (0.3, 0.45, 0.15, 0.05, 0.05), (0.3, 0.4, 0.2, 0.05, 0.05), (0.25, 0.35, 0.3, 0.05, 0.05),
         (0.3, 0.35, 0.2, 0.1, 0.05), (0.2, 0.3, 0.4, 0.05, 0.05)]


def _rescorer(data: Path):  # noqa: ANN202 - (settings, inputs, score(settings, credits) -> ranked, secs)
    """The lake's match inputs and a function that ranks every candidate's top-10 under given settings / credits."""
    import os

    os.environ["SKILLMATCH_DATA_DIR"] = str(data.resolve())
    from skillmatch.config import load_settings
    from skillmatch.matching.engine import lake_match_inputs, top_k_matches
    from skillmatch.matching.incremental import fit_scoring_model

    settings = load_settings()
    t0 = time.time()
    x = lake_match_inputs(settings)
    model = fit_scoring_model(x.ps, x.post_emb, x.cand_emb, x.post_prof, x.cand_prof)
    ce, pe = model.centred(x.cand_emb), model.centred(x.post_emb)
    cp, pp = model.centred_titles(x.cand_prof), model.centred_titles(x.post_prof)
    print(f"\ninputs and title embeddings: {time.time() - t0:.1f} s; resumes with a headline title: "
          f"{int(x.cand_prof.frame['title'].notna().sum()):,} of {len(x.cand_prof.frame):,}")

    def score(s, credits, alternatives=x.alternatives):  # noqa: ANN001, ANN202
        t0 = time.time()
        pairs = top_k_matches(x.cand_skills, x.post_skills, model.idf, ce, pe, x.cand_ids, x.post_ids, s,
                              preferred=x.preferred, credits=credits, cand_prof=cp, post_prof=pp,
                              alternatives=alternatives)
        top = pairs[pairs["rank_for_candidate"].notna()].sort_values(["candidate_id", "rank_for_candidate"])
        return top.groupby("candidate_id")["posting_id"].apply(list).to_dict(), time.time() - t0, pairs

    return settings, x, score


def sweep(data: Path, cand_cat: dict[str, str], post_cat: dict[str, str | None], achievable: set[str]) -> None:
    """P@10 of the engine under each weighting of ``SWEEP`` on the lake in ``data``."""
    from dataclasses import replace

    from skillmatch.config import MatchWeights

    settings, x, score = _rescorer(data)
    print("\n| coverage | semantic | title | seniority | location | P@10 all | P@10 achievable | time (s) |\n"
          "|---|---|---|---|---|---|---|---|")
    for w in SWEEP:
        ranked, secs, _ = score(replace(settings, weights=MatchWeights(*w)), x.credits)
        sub = {c: v for c, v in ranked.items() if c in achievable}
        print(f"| {' | '.join(f'{v:g}' for v in w)} | {precision_at_10(ranked, cand_cat, post_cat):.3f} | "
              f"{precision_at_10(sub, cand_cat, post_cat):.3f} | {secs:.1f} |")


def evidence_ablation(data: Path, cand_cat: dict[str, str], post_cat: dict[str, str | None],
                      achievable: set[str]) -> None:
    """P@10 at the configured weights with and without the resume-side evidence strength."""
    from skillmatch.lake import read_parquet
    from skillmatch.matching.soft import candidate_credits, load_relations

    settings, x, score = _rescorer(data)
    ev = read_parquet(settings.lake("gold", "candidate_skill_evidence.parquet"))
    print(f"\nresume skills {len(ev):,}; by section of the strongest mention: "
          + ", ".join(f"{k} {v:,}" for k, v in ev["evidence_section"].value_counts().items())
          + f"; mean strength {ev['evidence_strength'].mean():.3f}")
    plain = candidate_credits(x.cand_skills, load_relations(settings))
    print("\n| resume skills count | P@10 all | P@10 achievable | time (s) |\n|---|---|---|---|")
    for name, credits in (("fully (no evidence strength)", plain), ("by evidence strength", x.credits)):
        ranked, secs, _ = score(settings, credits)
        sub = {c: v for c, v in ranked.items() if c in achievable}
        print(f"| {name} | {precision_at_10(ranked, cand_cat, post_cat):.3f} | "
              f"{precision_at_10(sub, cand_cat, post_cat):.3f} | {secs:.1f} |")


def alternatives_ablation(data: Path, cand_cat: dict[str, str], post_cat: dict[str, str | None],
                          achievable: set[str]) -> None:
    """P@10, and who the postings that name skills as a choice rank first, with each choice counted as one
    requirement (the engine) and with its members counted as separate skills (as before 2026-12-05)."""
    settings, x, score = _rescorer(data)
    required = {p: [g for g in gs if not g <= x.preferred.get(p, set())] for p, gs in x.alternatives.items()}
    required = {p: gs for p, gs in required.items() if gs}
    print(f"\npostings naming skills as a choice: {len(x.alternatives):,} ({sum(map(len, x.alternatives.values())):,}"
          f" choices); with a required choice: {len(required):,}")
    print("\n| a choice counts as | P@10 all | P@10 achievable | choice postings' top 10: meet every required "
          "choice | meet none | mean required_coverage | time (s) |\n|---|---|---|---|---|---|---|")
    from skillmatch.matching.engine import with_skill_lists

    for name, alts in (("its members, each a skill", {}), ("one requirement (any one member)", x.alternatives)):
        ranked, secs, pairs = score(settings, x.credits, alts)
        sub = {c: v for c, v in ranked.items() if c in achievable}
        top = pairs[pairs["posting_id"].isin(required) & (pairs["rank_for_posting"] <= 10)]
        met = [[bool(g & x.cand_skills.get(c, set())) for g in required[p]]
               for c, p in zip(top["candidate_id"], top["posting_id"])]
        req_cov = with_skill_lists(top, x.cand_skills, x.post_skills, pd.Series(dtype=float), {}, x.preferred,
                                   x.credits, x.alternatives)["required_coverage"].mean()
        print(f"| {name} | {precision_at_10(ranked, cand_cat, post_cat):.3f} | "
              f"{precision_at_10(sub, cand_cat, post_cat):.3f} | {np.mean([all(m) for m in met]):.3f} | "
              f"{np.mean([not any(m) for m in met]):.3f} | {req_cov:.3f} | {secs:.1f} |")


def main() -> None:
    args = [a for a in sys.argv[1:] if a not in ("--sweep", "--evidence", "--alternatives")]
    data = Path(args[0]) if args else Path("data")
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    posts = con.execute("SELECT posting_id, title FROM marts.dim_job_posting").df()
    cands = con.execute("SELECT candidate_id, category FROM marts.dim_candidate").df()
    fm = con.execute("SELECT candidate_id, posting_id, rank_for_candidate FROM marts.fact_match "
                     "WHERE rank_for_candidate <= 10 ORDER BY candidate_id, rank_for_candidate").df()
    con.close()
    post_cat = {p: title_category(t) for p, t in zip(posts["posting_id"], posts["title"])}
    cand_cat = dict(zip(cands["candidate_id"], cands["category"]))
    ours = fm.groupby("candidate_id")["posting_id"].apply(list).to_dict()

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    silver_p = pd.read_parquet(data / "silver" / "postings.parquet", columns=["posting_id", "title", "text"])
    silver_r = pd.read_parquet(data / "silver" / "resumes.parquet", columns=["candidate_id", "text"])
    silver_p = silver_p[silver_p["posting_id"].isin(post_cat)].reset_index(drop=True)
    silver_r = silver_r[silver_r["candidate_id"].isin(cand_cat)].reset_index(drop=True)
    t0 = time.time()
    vec = TfidfVectorizer(max_features=1000, stop_words="english")
    vec.fit(pd.concat([silver_p["text"], silver_r["text"]]).fillna(""))
    nn = NearestNeighbors(n_neighbors=10, metric="cosine", algorithm="brute").fit(vec.transform(silver_p["text"].fillna("")))
    _, idx = nn.kneighbors(vec.transform(silver_r["text"].fillna("")))
    base = {c: [silver_p["posting_id"].iat[j] for j in row] for c, row in zip(silver_r["candidate_id"], idx)}
    base_s = time.time() - t0

    mapped = pd.Series(post_cat).value_counts(dropna=False)
    achievable = {c for c, cat in cand_cat.items() if cat in set(post_cat.values())}
    print(f"postings {len(posts):,} (titles mapped to a category: {sum(v is not None for v in post_cat.values()):,}); "
          f"resumes {len(cands):,} ({len(achievable):,} in a category some posting maps to)")
    print("\n| system | P@10 all resumes | P@10 resumes whose category has postings | time (s) |\n|---|---|---|---|")
    for name, ranked, secs in [("skillmatch fact_match (nightly run)", ours, None),
                               ("seed baseline: TF-IDF 1000 + NearestNeighbors cosine", base, base_s)]:
        sub = {c: v for c, v in ranked.items() if c in achievable}
        print(f"| {name} | {precision_at_10(ranked, cand_cat, post_cat):.3f} | "
              f"{precision_at_10(sub, cand_cat, post_cat):.3f} | {'' if secs is None else f'{secs:.1f}'} |")
    if "--sweep" in sys.argv[1:]:
        sweep(data, cand_cat, post_cat, achievable)
    if "--evidence" in sys.argv[1:]:
        evidence_ablation(data, cand_cat, post_cat, achievable)
    if "--alternatives" in sys.argv[1:]:
        alternatives_ablation(data, cand_cat, post_cat, achievable)
    print("\npostings per mapped category:\n" + mapped.to_string())


if __name__ == "__main__":
    main()
