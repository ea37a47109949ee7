"""Unit tests for skillmatch.paths.learning.rank_learning_steps (a pure function) on hand-made frames."""
from __future__ import annotations

import pandas as pd
import pytest

from skillmatch.paths.learning import STEP_COLUMNS, rank_learning_steps

LABELS = {"x": "Xray", "y": "Yak shaving", "z": "Zookeeping", "w": "Welding", "q": "Quilting",
          # label order is the reverse of id order, so a tie must be broken on the label, not the id
          "id_a": "Beta tool", "id_b": "Alpha tool"}


def _fact_match() -> pd.DataFrame:
    rows = [
        # C1: rows deliberately out of rank order
        ("C1", "P2", 2, ["x", "z", "id_b"]),
        ("C1", "P1", 1, ["x", "y", "id_a"]),
        ("C1", "P3", 3, ["w"]),  # beyond targets=2
        ("C1", "P4", None, ["q"]),  # only ranked for the posting, not for the candidate
        # C2: a perfect match, nothing to learn
        ("C2", "P3", 1, []),
        # C3: one target
        ("C3", "P1", 1, ["y"]),
    ]
    fm = pd.DataFrame(rows, columns=["candidate_id", "posting_id", "rank_for_candidate", "missing_skill_ids"])
    fm["rank_for_candidate"] = fm["rank_for_candidate"].astype("Int64")
    return fm


def _posting_skills() -> pd.DataFrame:
    # market demand (distinct postings): x 2, z 3, y 2, id_a 1, id_b 1, w 4, q 1
    rows = [("P1", "x"), ("P2", "x"),
            ("P2", "z"), ("P5", "z"), ("P6", "z"), ("P6", "z"),  # duplicate row: still 3 postings
            ("P1", "y"), ("P7", "y"),
            ("P1", "id_a"), ("P2", "id_b"),
            ("P3", "w"), ("P5", "w"), ("P6", "w"), ("P7", "w"),
            ("P4", "q")]
    return pd.DataFrame(rows, columns=["doc_id", "skill_id"])


def _steps(targets: int = 2, max_steps: int = 10) -> pd.DataFrame:
    return rank_learning_steps(_fact_match(), _posting_skills(), LABELS, targets=targets, max_steps=max_steps)


def _for(steps: pd.DataFrame, cid: str) -> pd.DataFrame:
    return steps[steps["candidate_id"] == cid].sort_values("step").reset_index(drop=True)


def test_columns() -> None:
    assert list(_steps().columns) == STEP_COLUMNS


def test_skill_missing_from_every_top_target_is_step_one() -> None:
    c1 = _for(_steps(), "C1")
    first = c1.iloc[0]
    assert first["step"] == 1
    assert first["skill_id"] == "x"
    assert first["skill_label"] == "Xray"
    assert first["targets_needing"] == 2
    assert first["targets_considered"] == 2
    assert first["demand_postings"] == 2
    assert list(first["target_posting_ids"]) == ["P1", "P2"]  # in rank order


def test_ties_broken_by_demand_then_label() -> None:
    c1 = _for(_steps(), "C1")
    # x (2 targets) first; then one-target skills by demand: z (3) > y (2) > id_a, id_b (1 each),
    # and between those two, the label decides: "Alpha tool" (id_b) before "Beta tool" (id_a)
    assert c1["skill_id"].tolist() == ["x", "z", "y", "id_b", "id_a"]
    assert c1["step"].tolist() == [1, 2, 3, 4, 5]
    assert c1["demand_postings"].tolist() == [2, 3, 2, 1, 1]
    assert c1["targets_needing"].tolist() == [2, 1, 1, 1, 1]


def test_max_steps_respected() -> None:
    steps = _steps(max_steps=3)
    c1 = _for(steps, "C1")
    assert c1["skill_id"].tolist() == ["x", "z", "y"]
    assert steps.groupby("candidate_id")["step"].max().max() <= 3


def test_postings_beyond_targets_and_unranked_rows_are_ignored() -> None:
    steps = _steps(targets=2)
    assert "w" not in steps["skill_id"].tolist()  # only P3 (rank 3) asks for it
    assert "q" not in steps["skill_id"].tolist()  # only the unranked P4 row asks for it
    wider = _for(_steps(targets=3), "C1")
    assert "w" in wider["skill_id"].tolist()
    assert "q" not in wider["skill_id"].tolist()
    assert (wider["targets_considered"] == 3).all()
    # w is asked for by one of three targets but has the highest market demand among those
    assert wider["skill_id"].tolist() == ["x", "w", "z", "y", "id_b", "id_a"]


def test_candidates_are_independent() -> None:
    steps = _steps()
    assert "C2" not in steps["candidate_id"].tolist()  # nothing missing, no steps
    c3 = _for(steps, "C3")
    assert c3["skill_id"].tolist() == ["y"]
    assert c3["targets_considered"].tolist() == [1]
    assert list(c3["target_posting_ids"].iat[0]) == ["P1"]


def test_reason_mentions_the_counts() -> None:
    c1 = _for(_steps(), "C1")
    assert c1["reason"].iat[0] == "asked for by 2 of your top 2 matching postings and by 2 postings overall"
    assert c1["reason"].iat[1] == "asked for by 1 of your top 2 matching postings and by 3 postings overall"


def test_unknown_label_falls_back_to_id_and_empty_input() -> None:
    fm = pd.DataFrame({"candidate_id": ["C9"], "posting_id": ["P1"], "rank_for_candidate": [1],
                       "missing_skill_ids": [["nolabel"]]})
    steps = rank_learning_steps(fm, _posting_skills(), LABELS, targets=5, max_steps=5)
    assert steps["skill_label"].tolist() == ["nolabel"]
    assert steps["demand_postings"].tolist() == [0]
    empty = rank_learning_steps(fm.iloc[0:0], _posting_skills(), LABELS, targets=5, max_steps=5)
    assert empty.empty and list(empty.columns) == STEP_COLUMNS


@pytest.mark.parametrize("max_steps", [0, 1])
def test_small_max_steps(max_steps: int) -> None:
    c1 = _for(_steps(max_steps=max_steps), "C1")
    assert c1["skill_id"].tolist() == ["x"][:max_steps]
