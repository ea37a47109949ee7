"""Learning-path quality on the lake of the last nightly run: how the steps are weighted by market demand.

Reruns ``paths.learning.rank_learning_steps`` on the lake's own inputs (``fact_match``, skill facts, taxonomy,
soft credits: what the nightly paths task reads) under several priority weightings and target counts, and prints
one table. Nothing is written.

Columns:
- *first steps asked for by <= 5 postings*: the share of candidates whose first step is a skill at most 5 of the
  market's postings ask for; *steps ...*: the same over every step;
- *most resumes given one rare skill*: the largest number of candidates given one same skill asked for by <= 2
  postings (one posting that sits in many candidates' top targets hands its oddest skill to all of them);
- *field share*: over the first 5 steps of candidates whose resume category (the shared data's folders) has
  >= 20 postings whose title maps to it (the published rules of ``match_category_precision.py``), the mean share of
  those postings asking for the step's skill: how much of the candidate's own field asks for what they are told
  to learn; *field excess* the same share less the share of all postings asking for it (0 for a skill every field
  asks for as often, like communication; positive for what the candidate's field asks for more than others);
- *score after 5 steps*: the mean expected average target score after the first 5 steps (after the last step when
  a path is shorter): what the weighting costs in match score;
- *held-out hit@5 / hit@10*: one skill each candidate holds and one of their top 5 targets asks for, drawn at
  random (seed 0), is taken away (from their skills, their credits and those targets' matched skills); the share
  of candidates whose path then puts it back in its first 5 / 10 steps; *held-out shown*: the share whose path
  puts it back as a skill to show (``action = "show"``, the rows that show soft skills);
- *soft first / soft steps*: the share of first steps, and of all steps, that are soft skills
  (``paths.learning.show_skills``: ESCO's thinking, self-management, social and communication groups and personal
  development), whichever their action.

  .venv/bin/python benchmarks/learning_path_quality.py [DATA_DIR]      # default ./data
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from match_category_precision import title_category  # noqa: E402


def _linear(d: int, max_d: int) -> float:
    return 1 + 0.5 * d / max_d  # the weighting before 2026-12-05


def _none(d: int, max_d: int) -> float:
    return 1.0


def _variants():  # noqa: ANN202
    from skillmatch.paths.learning import market_factor

    return [("gain x (1 + 0.5 x demand / max) (before 2026-12-05)", 5, _linear),
            ("gain only", 5, _none),
            ("gain x log market factor", 5, market_factor),
            ("gain x (1 + 0.5 x demand / max)", 10, _linear),
            ("gain x sqrt(log market factor)", 10, lambda d, m: market_factor(d, m) ** 0.5),
            ("gain x log market factor (adopted 2026-12-05)", 10, market_factor),
            ("the same, soft skills shown after the skills to learn (adopted)", 10, market_factor, True)]


def hide_one_skill(fm: pd.DataFrame, held: dict[str, set[str]], seed: int = 0):  # noqa: ANN201
    """(fact_match, held, hidden): per candidate, one held skill one of their top 5 targets matched, moved to those
    targets' missing skills (rank <= 10) and out of their skills."""
    rng = np.random.default_rng(seed)
    top5 = fm[fm["rank_for_candidate"].notna() & (fm["rank_for_candidate"] <= 5)]
    hidden: dict[str, str] = {}
    for cid, grp in top5.sort_values(["candidate_id", "rank_for_candidate"]).groupby("candidate_id", sort=True):
        pool = sorted(set().union(*map(set, grp["matched_skill_ids"])) & held.get(cid, set()))
        if pool:
            hidden[cid] = pool[int(rng.integers(len(pool)))]
    fm = fm.copy()
    fm["missing_skill_ids"] = [
        list(miss) + [hidden[c]] if c in hidden and hidden[c] in set(match) and pd.notna(r) else list(miss)
        for c, r, match, miss in zip(fm["candidate_id"], fm["rank_for_candidate"], fm["matched_skill_ids"],
                                     fm["missing_skill_ids"])]
    held = {c: (s - {hidden[c]} if c in hidden else s) for c, s in held.items()}
    return fm, held, hidden


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data")
    os.environ["SKILLMATCH_DATA_DIR"] = str(data.resolve())
    from skillmatch.config import load_settings
    from skillmatch.paths.learning import load_path_inputs, rank_learning_steps

    settings = load_settings()
    t0 = time.time()
    x = load_path_inputs(settings)
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    cand_cat = dict(con.execute("SELECT candidate_id, category FROM marts.dim_candidate").fetchall())
    post_cat = {p: title_category(t) for p, t in
                con.execute("SELECT posting_id, title FROM marts.dim_job_posting").fetchall()}
    con.close()
    ps = x.posting_skills.drop_duplicates(["doc_id", "skill_id"])
    demand = ps.groupby("skill_id")["doc_id"].nunique()
    ps = ps.assign(cat=ps["doc_id"].map(post_cat))
    cat_size = pd.Series(post_cat).value_counts()
    fields = set(cat_size[cat_size >= 20].index)
    asking = ps[ps["cat"].isin(fields)].groupby(["cat", "skill_id"])["doc_id"].nunique()
    share = (asking / cat_size.reindex(asking.index.get_level_values(0)).to_numpy()).to_dict()
    overall = (demand / len(post_cat)).to_dict()
    credits = x.credits()
    fm_h, held_h, hidden = hide_one_skill(x.fact_match, x.held)
    credits_h = x.credits(held_h)
    print(f"lake {data}: {x.fact_match['candidate_id'].nunique():,} candidates, {len(demand):,} skills asked for by "
          f"{x.n_postings:,} postings; fields with >= 20 mapped postings: {len(fields)}; candidates with a held-out "
          f"skill: {len(hidden):,}; inputs {time.time() - t0:.1f} s")
    print("\n| weighting | targets | first steps asked for by <= 5 postings | steps asked for by <= 5 postings | "
          "median postings asking for a step | most resumes given one rare skill | field share (first 5 steps) | "
          "field excess (first 5 steps) | score after 5 steps | held-out hit@5 | held-out hit@10 | held-out shown | "
          "soft first | soft steps | time (s) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, targets, factor, *show in _variants():
        t0 = time.time()
        kw = dict(coverage_weight=settings.weights.skill_coverage, parents=x.parents, prerequisites=x.prerequisites,
                  n_postings=x.n_postings, demand_factor=factor, show=x.show if show else None,
                  max_show_steps=settings.path_max_show_steps)
        steps = rank_learning_steps(x.fact_match, x.posting_skills, x.labels, targets, settings.path_max_steps,
                                    held=x.held, credits=credits, **kw)
        secs = time.time() - t0
        first = steps[steps["step"] == 1]
        rare = steps[steps["demand_postings"] <= 2].groupby("skill_id")["candidate_id"].nunique()
        top5 = steps[steps["step"] <= 5].assign(cat=lambda f: f["candidate_id"].map(cand_cat))
        top5 = top5[top5["cat"].isin(fields)]
        fshare = np.array([float(share.get((c, s), 0.0)) for c, s in zip(top5["cat"], top5["skill_id"])])
        excess = fshare - np.array([overall.get(s, 0.0) for s in top5["skill_id"]])
        after5 = steps[steps["step"] <= 5].groupby("candidate_id")["expected_score_after"].last()
        held_out = rank_learning_steps(fm_h, x.posting_skills, x.labels, targets, settings.path_max_steps,
                                       held=held_h, credits=credits_h, **kw)
        back = held_out[held_out["skill_id"] == held_out["candidate_id"].map(hidden)]
        learned = back[back["action"] == "learn"]
        hit5 = (learned["step"] <= 5).sum() / len(hidden)
        hit10 = (learned["step"] <= 10).sum() / len(hidden)
        shown = (back["action"] == "show").sum() / len(hidden)
        soft_first, soft = first["skill_id"].isin(x.show).mean(), steps["skill_id"].isin(x.show).mean()
        print(f"| {name} | {targets} | {(first['demand_postings'] <= 5).mean():.3f} | "
              f"{(steps['demand_postings'] <= 5).mean():.3f} | {steps['demand_postings'].median():.0f} | "
              f"{int(rare.max()) if len(rare) else 0} | {fshare.mean():.3f} | {excess.mean():+.4f} | {after5.mean():.4f} | "
              f"{hit5:.3f} | {hit10:.3f} | {shown:.3f} | {soft_first:.3f} | {soft:.3f} | {secs:.1f} |")


if __name__ == "__main__":
    main()
