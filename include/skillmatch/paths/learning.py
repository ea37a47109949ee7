"""Learning paths: for each candidate, the skills missing from their best-matching postings, most needed first.

A step's rank comes from how many of the candidate's top target postings ask for the skill, then from how many
postings in the whole market ask for it (demand); ties break on the label so the output is deterministic.
"""
from __future__ import annotations

import logging

import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, write_parquet_atomic

log = logging.getLogger(__name__)

STEP_COLUMNS = ["candidate_id", "step", "skill_id", "skill_label", "targets_needing", "targets_considered",
                "demand_postings", "target_posting_ids", "reason"]


def rank_learning_steps(fact_match: pd.DataFrame, posting_skills: pd.DataFrame, labels: dict[str, str],
                        targets: int, max_steps: int) -> pd.DataFrame:
    """Ordered learning steps per candidate from their top ``targets`` postings (pure function)."""
    demand = posting_skills.groupby("skill_id")["doc_id"].nunique()
    top = fact_match[fact_match["rank_for_candidate"].notna() & (fact_match["rank_for_candidate"] <= targets)]
    rows = []
    for cid, grp in top.sort_values("rank_for_candidate").groupby("candidate_id", sort=True):
        need: dict[str, list[str]] = {}
        for pid, missing in zip(grp["posting_id"], grp["missing_skill_ids"]):
            for s in missing:
                need.setdefault(s, []).append(pid)
        order = sorted(need, key=lambda s: (-len(need[s]), -int(demand.get(s, 0)), labels.get(s, s)))
        for step, s in enumerate(order[:max_steps], start=1):
            n, d = len(need[s]), int(demand.get(s, 0))
            rows.append({"candidate_id": cid, "step": step, "skill_id": s, "skill_label": labels.get(s, s),
                         "targets_needing": n, "targets_considered": len(grp), "demand_postings": d,
                         "target_posting_ids": need[s],
                         "reason": f"asked for by {n} of your top {len(grp)} matching postings and by {d} postings overall"})
    return pd.DataFrame(rows, columns=STEP_COLUMNS)


def compute_learning_paths(settings: Settings) -> dict[str, int]:
    """Build ``fact_learning_step`` from ``fact_match`` and the posting skills in the lake."""
    fm = read_parquet(settings.lake("gold", "fact_match.parquet"))
    ps = read_parquet(settings.lake("gold", "fact_posting_skill.parquet"), columns=["doc_id", "skill_id"])
    dim = read_parquet(settings.lake("taxonomy", "dim_skill.parquet"), columns=["skill_id", "preferred_label"])
    steps = rank_learning_steps(fm, ps, dict(zip(dim["skill_id"], dim["preferred_label"])),
                                settings.path_targets, settings.path_max_steps)
    write_parquet_atomic(steps, settings.lake("gold", "fact_learning_step.parquet"))
    counts = {"candidates_with_path": int(steps["candidate_id"].nunique()), "steps": len(steps)}
    log.info("paths: %s", counts)
    return counts
