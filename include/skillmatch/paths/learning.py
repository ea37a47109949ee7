"""Learning paths: for each candidate, the missing skills that raise their match with their best targets most.

For a candidate and their top ``targets`` postings, learning a missing skill ``s`` raises the skill-coverage part
of each target's score by ``w_cov * weight(s) * (1 - credit(s)) / denominator(posting)`` (the match engine's own
formula: weight = IDF, halved for a skill the posting marks preferred; credit = the soft credit a related held
skill already gives), so its **expected gain** is the mean of that over the targets. Steps are taken greedily
(the skill that raises the average target score most, then the next given the first); because coverage adds up,
the gain of a skill does not change once another is learned, and greedy is exact (the soft credits a newly
learned skill would give its relatives are not counted: a path never promises more than it delivers).

Alternatives: where a target names skills as a choice ("Python or Java", ``matching.requirements``) and the
candidate holds none of them, one of them is the step for that target: the one that meets the most of the targets'
needs (asked for on its own or in other choices), then the one the candidate is closest to (the largest soft
credit), then the most asked-for; its gain is the group's (one requirement, weighing its heaviest member), and the
others are named in the step's reason. Each group thus stands behind one skill, so gains still add up and greedy
stays exact.

Priority = gain x market factor x (1 + 0.25 if the skill is a sibling, in the ESCO hierarchy, of one the candidate
holds): market demand and learnability. The market factor is ``log(1 + d) / log(1 + d_max)`` for a skill asked for
by ``d`` postings (``d_max``: the most asked-for skill). The gain alone favours the rarest skills: a skill one
posting in the market asks for carries the largest IDF, so one of a candidate's few targets asking for it outweighed
skills most of their field asks for ("host wine-tasting events" was a step for 117 resumes, from one posting). On a
log scale demand offsets that IDF: among skills asked for by as many targets, those asked for by a few dozen to a
few hundred postings come first, and a one-posting skill needs about ten times the gain of the most asked-for one.

Prerequisites come first: ESCO broader skills, and pairs mined from the postings (A before B when nearly every
posting asking for B also asks for A but not the reverse). A prerequisite inherits the priority of the step it
unlocks, so the path's priority never rises from one step to the next and the expected score never falls.

Skills to learn and skills to show. The soft skills of ESCO's thinking, self-management and social / communication
groups (attend to detail, manage time, work independently, lead others...) and ISCED-F's personal skills and
development (communication), and a short list of cross-sector skills filed under a soft skill (cooperate with
colleagues, meet deadlines: :data:`SHOW_SKILLS`, which also holds computer literacy) are asked for by many postings
and named by few resumes: a resume that does not name them does not say the candidate lacks them. They are not
learning steps (``action = "learn"``, ranked first, at most ``max_steps``); up to ``max_show_steps`` of them follow
as ``action = "show"``: "if you have it, say where you used it", ranked the same way and with the same expected
gain. Priority and gain never rise within one action.

Skills learned on the job. A few concepts name the hiring employer's own rules and goals (:data:`ON_THE_JOB`:
company policies, apply company policies, identify with the company's goals). Postings ask for them ("adhere to
company policies"), so they stay requirements of the match, but no candidate can learn or show the next employer's
policies before being hired: they are neither steps to learn nor steps to show.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, write_parquet_atomic
from skillmatch.matching.engine import alternative_sets, coverage_weights, preferred_sets, skill_weight

log = logging.getLogger(__name__)

STEP_COLUMNS = ["candidate_id", "step", "skill_id", "skill_label", "action", "expected_gain", "expected_score_after",
                "priority", "demand_postings", "demand_index", "prerequisite_ids", "targets_needing",
                "targets_considered", "target_posting_ids", "reason"]
SIBLING_BONUS = 0.25
# ESCO v1.1.1 skill groups (and ISCED-F field) whose member skills a path shows rather than teaches (module docstring)
SHOW_GROUPS = {
    "http://data.europa.eu/esco/skill/8267ecb5-c976-4b6a-809b-4ceecb954967": "thinking skills and competences (T2)",
    "http://data.europa.eu/esco/skill/021a23e1-907e-4627-b05a-555f889cbb65": "self-management skills and competences (T3)",
    "http://data.europa.eu/esco/skill/552c4f35-a2d1-49c2-8fda-afe26695c44a":
        "social and communication skills and competences (T4)",
    "http://data.europa.eu/esco/isced-f/003": "personal skills and development (ISCED-F 003)",
}
# Cross-sector skills that read as soft but sit under a soft skill rather than a group, so SHOW_GROUPS does not
# reach them; every narrower skill of a soft one would take in occupational ones too ("work in textile
# manufacturing teams" under work in teams, "analyse big data" under think analytically), hence a list.
SHOW_SKILLS = {
    "http://data.europa.eu/esco/skill/082967d4-b94c-4305-aa13-35a6aa8c5c7c": "cooperate with colleagues",
    "http://data.europa.eu/esco/skill/91abe492-18be-4cce-93c7-0dca07072363": "meet deadlines",
    "http://data.europa.eu/esco/skill/0b144726-21c2-46ed-8d13-c03d27f61604": "perform multiple tasks at the same time",
    "http://data.europa.eu/esco/skill/1258cc12-37bb-4a12-b219-9c3d6b294533": "work in an organised manner",
    "http://data.europa.eu/esco/skill/1bb3a4b7-c0e4-434a-850d-0d2874a9c251": "exercise patience",
    "http://data.europa.eu/esco/skill/d15f8745-28f8-4abf-a7b6-6cb8a304efd2": "tolerate stress",
    # not soft, but as rarely named: "strong computer skills" is asked for by 58 postings and named by 98 resumes,
    # while most resumes list the programs they use (Excel, Outlook) instead
    "http://data.europa.eu/esco/skill/d15ce60f-ddab-41ce-ba56-398451b77b60": "have computer literacy",
}

# Concepts that name the hiring employer's own rules and goals: requirements a path cannot meet (module docstring)
ON_THE_JOB = {
    "http://data.europa.eu/esco/skill/f75b740c-b36c-495e-bc67-efe347bbc6b5": "company policies",
    "http://data.europa.eu/esco/skill/0a43729f-2a79-4dae-9faa-95520daae79f": "apply company policies",
    "http://data.europa.eu/esco/skill/fc54bd7f-0c03-4fdd-af8c-5eb4021e716d": "identify with the company's goals",
}


def market_factor(demand: int, max_demand: int) -> float:
    """How much of a learning step's gain counts towards its priority given the postings asking for the skill:
    ``log(1 + demand) / log(1 + max_demand)``, 1 for the most asked-for skill."""
    return float(np.log1p(max(demand, 0)) / np.log1p(max(max_demand, 1)))


def mine_prerequisites(posting_skills: pd.DataFrame, min_support: int = 5, given: float = 0.8,
                       reverse_max: float = 0.5) -> dict[str, set[str]]:
    """{B: {A, ...}}: A is a prerequisite of B when >= ``given`` of the postings asking for B also ask for A,
    <= ``reverse_max`` of those asking for A ask for B, and B is asked for by >= ``min_support`` postings."""
    from scipy import sparse

    ps = posting_skills[["doc_id", "skill_id"]].drop_duplicates()
    support = ps["skill_id"].value_counts()
    frequent = support[support >= min_support].index
    ps = ps[ps["skill_id"].isin(frequent)]
    if ps.empty:
        return {}
    docs, d_idx = np.unique(ps["doc_id"].to_numpy(), return_inverse=True)
    skills, s_idx = np.unique(ps["skill_id"].to_numpy(), return_inverse=True)
    x = sparse.csr_matrix((np.ones(len(ps), np.float32), (d_idx, s_idx)), shape=(len(docs), len(skills)))
    co = (x.T @ x).tocoo()
    n = np.asarray(x.sum(0)).ravel()
    out: dict[str, set[str]] = {}
    for a, b, c in zip(co.row, co.col, co.data):
        if a != b and c / n[b] >= given and c / n[a] <= reverse_max:
            out.setdefault(str(skills[b]), set()).add(str(skills[a]))
    return out


def broader_prerequisites(hierarchy: pd.DataFrame, known: set[str]) -> dict[str, set[str]]:
    """{skill: {broader skill}} for hierarchy edges whose both ends are skills (not groups) in ``known``."""
    h = hierarchy[hierarchy["skill_id"].isin(known) & hierarchy["broader_id"].isin(known)]
    return h.groupby("skill_id")["broader_id"].apply(set).to_dict()


def show_skills(hierarchy: pd.DataFrame | None, known: set[str], groups: Iterable[str] = SHOW_GROUPS,
                skills: Iterable[str] = SHOW_SKILLS) -> set[str]:
    """The skills in ``known`` filed directly under one of ``groups`` or their subgroups (group-to-group edges only:
    "work in textile manufacturing teams", a narrower skill of "work in teams", stays a skill to learn), and the
    listed ``skills`` (without a hierarchy, those alone)."""
    listed = set(skills) & known
    if hierarchy is None:
        return listed
    edges = hierarchy[["skill_id", "broader_id"]]
    between_groups = edges[~edges["skill_id"].isin(known)]
    closure, frontier = set(groups), set(groups)
    while frontier:
        frontier = set(between_groups.loc[between_groups["broader_id"].isin(frontier), "skill_id"]) - closure
        closure |= frontier
    return listed | set(edges.loc[edges["skill_id"].isin(known) & edges["broader_id"].isin(closure), "skill_id"])


def rank_learning_steps(fact_match: pd.DataFrame, posting_skills: pd.DataFrame, labels: dict[str, str],
                        targets: int, max_steps: int, coverage_weight: float = 0.35,
                        held: dict[str, set[str]] | None = None, parents: dict[str, set[str]] | None = None,
                        prerequisites: dict[str, set[str]] | None = None, n_postings: int | None = None,
                        credits: dict[str, dict[str, float]] | None = None,
                        demand_factor: Callable[[int, int], float] = market_factor,
                        show: set[str] | None = None, max_show_steps: int = 3,
                        on_the_job: Iterable[str] = ON_THE_JOB) -> pd.DataFrame:
    """Ordered learning steps per candidate from their top ``targets`` postings (pure function).

    ``fact_match`` needs candidate_id, posting_id, rank_for_candidate, score, missing_skill_ids; ``held`` maps a
    candidate to the skills they hold and ``parents`` a skill to its broader concepts (for learnability);
    ``prerequisites`` maps a skill to the skills to learn before it; ``n_postings`` is the market size the match
    engine used for IDF (default: the postings in ``posting_skills``); a ``requirement`` column in
    ``posting_skills`` weighs preferred skills as the match engine does, and ``credits`` (the candidates' soft
    credits, ``matching.soft``) lower the gain of a skill a related held one already partly covers.
    ``demand_factor(postings asking for the skill, postings asking for the most asked-for skill)`` weighs the gain
    by market demand in the priority (:func:`market_factor`; benchmarks compare other weightings through it).
    Skills in ``show`` (:func:`show_skills`) are not learning steps: up to ``max_show_steps`` of them follow the
    learning steps as ``action = "show"``. Skills in ``on_the_job`` (:data:`ON_THE_JOB`) are no steps at all.
    """
    held, parents, prerequisites, credits = held or {}, parents or {}, prerequisites or {}, credits or {}
    show, on_the_job = show or set(), set(on_the_job)
    preferred, alternatives = preferred_sets(posting_skills), alternative_sets(posting_skills)
    ps = posting_skills.drop_duplicates(["doc_id", "skill_id"])
    demand = ps.groupby("skill_id")["doc_id"].nunique()
    max_demand = int(demand.max()) if len(demand) else 1
    idf, denom = coverage_weights(ps, n_postings)
    top = fact_match[fact_match["rank_for_candidate"].notna() & (fact_match["rank_for_candidate"] <= targets)]
    rows = []
    for cid, grp in top.sort_values("rank_for_candidate").groupby("candidate_id", sort=True):
        pids = grp["posting_id"].tolist()
        scores = grp["score"].to_numpy(dtype=float) if "score" in grp else np.zeros(len(grp))
        soft = credits.get(cid, {})
        need: dict[str, list[int]] = {}
        others: dict[str, set[str]] = {}  # a step's skill -> the alternatives it stands for in some target
        gaps = [set(m) - on_the_job for m in grp["missing_skill_ids"]]
        choices = [[g for g in alternatives.get(p, ()) if len(g & gap) > 1] for p, gap in zip(pids, gaps)]
        # how many of the targets' needs a skill would meet (on its own, or as a member of a choice): the member
        # that meets the most is taken, so one step meets every choice that shares it; then the closest
        wanted = Counter(s for gap, cs in zip(gaps, choices) for s in gap - set().union(*cs))
        wanted.update(x for cs in choices for g in cs for x in g)
        for t, (gap, cs) in enumerate(zip(gaps, choices)):
            for g in cs:  # one member stands for the group
                pick = min(g & gap, key=lambda x: (-wanted[x], -soft.get(x, 0.0), -int(demand.get(x, 0)),
                                                   labels.get(x, x), x))
                gap -= g - {pick}
                others.setdefault(pick, set()).update(g - {pick})
            for s in sorted(gap):
                need.setdefault(s, []).append(t)
        if not need:
            continue
        # per-target score increase from learning s
        inc = {s: np.array([coverage_weight * skill_weight(idf, pids[t], s, preferred, alternatives)
                            * (1.0 - soft.get(s, 0.0)) / float(denom.get(pids[t], 1.0)) if t in ts else 0.0
                            for t in range(len(pids))])
               for s, ts in need.items()}
        held_parents = set().union(*(parents.get(h, set()) for h in held.get(cid, set()))) if held.get(cid) else set()
        prio = {}
        for s in need:
            sibling = bool(parents.get(s, set()) & held_parents)
            prio[s] = (float(inc[s].mean()) * demand_factor(int(demand.get(s, 0)), max_demand)
                       * (1 + (SIBLING_BONUS if sibling else 0.0)))
        learn = {s: t for s, t in need.items() if s not in show}
        shown = {s: t for s, t in need.items() if s in show}
        order = ([("learn", s, p, learn) for s, p in
                  _order_with_prerequisites(learn, prio, prerequisites, demand, labels)[:max_steps]]
                 + [("show", s, p, shown) for s, p in
                    _order_with_prerequisites(shown, prio, prerequisites, demand, labels)[:max_show_steps]])
        current = scores.copy()
        for step, (action, s, p, group) in enumerate(order, start=1):
            before = float(np.clip(current, 0, 1).mean())
            current = current + inc[s]
            after = float(np.clip(current, 0, 1).mean())
            pre = sorted(prerequisites.get(s, set()) & set(group))
            n_t, d = len(need[s]), int(demand.get(s, 0))
            gain = (f"raises your average match with your top {len(pids)} postings by {after - before:.3f} "
                    f"(to {after:.2f})")
            if action == "learn":
                reason = f"{gain}; asked for by {n_t} of them and by {d} postings overall"
            else:
                reason = (f"asked for by {n_t} of your top {len(pids)} postings and by {d} postings overall, and your "
                          f"resume does not show it: if you have it, say where you used it; that {gain}")
            if pre:
                reason += ("; learn after " if action == "learn" else "; show after ") + ", ".join(
                    labels.get(x, x) for x in pre)
            if s in others:
                reason += "; " + " or ".join(sorted(labels.get(x, x) for x in others[s])) + \
                    " would do as well where a posting names them as a choice"
            rows.append({"candidate_id": cid, "step": step, "skill_id": s, "skill_label": labels.get(s, s),
                         "action": action, "expected_gain": round(after - before, 6),
                         "expected_score_after": round(after, 6),
                         "priority": round(p, 6), "demand_postings": d,
                         "demand_index": round(float(demand.get(s, 0)) / max_demand, 6), "prerequisite_ids": pre,
                         "targets_needing": n_t, "targets_considered": len(pids),
                         "target_posting_ids": [pids[t] for t in need[s]], "reason": reason})
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def _order_with_prerequisites(need: dict[str, list[int]], prio: dict[str, float], prerequisites: dict[str, set[str]],
                              demand: pd.Series, labels: dict[str, str]) -> list[tuple[str, float]]:
    """Greedy by priority; a missing prerequisite is placed just before the first step that needs it and carries
    that step's priority (cycles in mined pairs are broken by ignoring the edge that closes them)."""
    ranked = sorted(need, key=lambda s: (-prio[s], -int(demand.get(s, 0)), labels.get(s, s), s))
    done: set[str] = set()
    out: list[tuple[str, float]] = []

    def emit(s: str, p: float, stack: set[str]) -> None:
        for a in sorted(prerequisites.get(s, set()) & set(need), key=lambda x: (-prio[x], labels.get(x, x), x)):
            if a not in done and a not in stack:
                emit(a, p, stack | {s})
        if s not in done:
            done.add(s)
            out.append((s, p))

    for s in ranked:
        if s not in done:
            emit(s, prio[s], set())
    return out


@dataclass
class PathInputs:
    """What :func:`rank_learning_steps` reads from the lake (``relations`` and ``strengths`` make the credits)."""

    fact_match: pd.DataFrame
    posting_skills: pd.DataFrame
    labels: dict[str, str]
    held: dict[str, set[str]]
    parents: dict[str, set[str]]
    prerequisites: dict[str, set[str]]
    n_postings: int
    relations: pd.DataFrame
    strengths: dict[str, dict[str, float]]
    show: set[str]

    def credits(self, held: dict[str, set[str]] | None = None) -> dict[str, dict[str, float]]:
        """The candidates' soft credits (``matching.soft``) for ``held`` (default: the skills they hold)."""
        from skillmatch.matching.soft import candidate_credits

        return candidate_credits(self.held if held is None else held, self.relations, self.strengths)


def load_path_inputs(settings: Settings) -> PathInputs:
    """``fact_match``, the skill facts, the taxonomy and the mined prerequisites, from the lake."""
    from skillmatch.matching.evidence import strengths
    from skillmatch.matching.soft import load_relations

    ps = read_parquet(settings.lake("gold", "posting_skill_requirement.parquet"))  # written by the match stage
    cs = read_parquet(settings.lake("gold", "fact_candidate_skill.parquet"), columns=["doc_id", "skill_id"])
    dim = read_parquet(settings.lake("taxonomy", "dim_skill.parquet"), columns=["skill_id", "preferred_label"])
    hier = read_parquet(settings.lake("taxonomy", "dim_skill_hierarchy.parquet"))
    prereq = mine_prerequisites(ps)
    for b, a in broader_prerequisites(hier, set(dim["skill_id"])).items():
        prereq.setdefault(b, set()).update(a)
    return PathInputs(
        fact_match=read_parquet(settings.lake("gold", "fact_match.parquet")), posting_skills=ps,
        labels=dict(zip(dim["skill_id"], dim["preferred_label"])),
        held=cs.groupby("doc_id")["skill_id"].apply(set).to_dict(),
        parents=hier.groupby("skill_id")["broader_id"].apply(set).to_dict(), prerequisites=prereq,
        n_postings=len(read_parquet(settings.lake("gold", "embedding_postings.parquet"), columns=["doc_id"])),
        relations=load_relations(settings),
        strengths=strengths(read_parquet(settings.lake("gold", "candidate_skill_evidence.parquet"))),
        show=show_skills(hier, set(dim["skill_id"])))


def lake_show_skills(settings: Settings) -> set[str]:
    """:func:`show_skills` of the lake's taxonomy (the listed skills alone without its hierarchy, e.g. the offline
    fallback's)."""
    path = settings.lake("taxonomy", "dim_skill_hierarchy.parquet")
    dim = read_parquet(settings.lake("taxonomy", "dim_skill.parquet"), columns=["skill_id"])
    return show_skills(read_parquet(path) if path.exists() else None, set(dim["skill_id"]))


def compute_learning_paths(settings: Settings) -> dict[str, int]:
    """Build ``fact_learning_step`` from ``fact_match``, the skill facts and the taxonomy in the lake."""
    x = load_path_inputs(settings)
    steps = rank_learning_steps(x.fact_match, x.posting_skills, x.labels, settings.path_targets,
                                settings.path_max_steps, settings.weights.skill_coverage, held=x.held,
                                parents=x.parents, prerequisites=x.prerequisites, n_postings=x.n_postings,
                                credits=x.credits(), show=x.show, max_show_steps=settings.path_max_show_steps)
    write_parquet_atomic(steps, settings.lake("gold", "fact_learning_step.parquet"))
    counts = {"candidates_with_path": int(steps["candidate_id"].nunique()), "steps": len(steps),
              "show_steps": int((steps["action"] == "show").sum()),
              "mined_prerequisite_pairs": sum(len(v) for v in x.prerequisites.values())}
    log.info("paths: %s", counts)
    return counts
