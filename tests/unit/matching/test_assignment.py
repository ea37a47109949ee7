"""optimal_assignment: exact against brute force on small random top-k graphs, dense and sparse solvers agree."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from skillmatch.matching.engine import ASSIGNMENT_COLUMNS, optimal_assignment


def _random_pairs(rng: np.random.Generator, n_c: int, n_p: int, density: float) -> pd.DataFrame:
    rows = [(f"c{i}", f"p{j}", round(float(rng.uniform(0.05, 1.0)), 4))
            for i in range(n_c) for j in range(n_p) if rng.random() < density]
    fm = pd.DataFrame(rows, columns=["candidate_id", "posting_id", "score"])
    fm["rank_for_candidate"] = fm.groupby("candidate_id")["score"].rank(ascending=False, method="first").astype("Int64")
    fm["rank_for_posting"] = fm.groupby("posting_id")["score"].rank(ascending=False, method="first").astype("Int64")
    return fm


def _brute_force_best(fm: pd.DataFrame) -> float:
    w = {(c, p): s for c, p, s in zip(fm["candidate_id"], fm["posting_id"], fm["score"])}
    cands = sorted(fm["candidate_id"].unique())
    posts = sorted(fm["posting_id"].unique()) + [None] * len(cands)  # None = stay unassigned
    best = 0.0
    for perm in itertools.permutations(posts, len(cands)):
        best = max(best, sum(w.get((c, p), 0.0) for c, p in zip(cands, perm) if p is not None))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_assignment_is_optimal_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    fm = _random_pairs(rng, n_c=int(rng.integers(2, 6)), n_p=int(rng.integers(2, 5)), density=0.6)
    if fm.empty:
        pytest.skip("random graph without edges")
    out = optimal_assignment(fm)
    assert list(out.columns) == ASSIGNMENT_COLUMNS
    assert out["candidate_id"].is_unique and out["posting_id"].is_unique
    # only real pairs, with their own scores
    merged = out.merge(fm, on=["candidate_id", "posting_id"], suffixes=("", "_fm"))
    assert len(merged) == len(out) and (merged["score"] == merged["score_fm"]).all()
    assert out["score"].sum() == pytest.approx(_brute_force_best(fm), abs=1e-9)
    sparse = optimal_assignment(fm, max_dense_cells=0)
    assert sparse["score"].sum() == pytest.approx(out["score"].sum(), abs=1e-9)
    assert sparse["candidate_id"].is_unique and sparse["posting_id"].is_unique


def test_greedy_is_not_optimal_here_but_assignment_is() -> None:
    # greedy would give c1 its best (p1, 0.9) and leave c2 with p2 (0.1): total 1.0; optimal is 0.8 + 0.85
    fm = pd.DataFrame({"candidate_id": ["c1", "c1", "c2", "c2"], "posting_id": ["p1", "p2", "p1", "p2"],
                       "score": [0.9, 0.8, 0.85, 0.1], "rank_for_candidate": [1, 2, 1, 2],
                       "rank_for_posting": [1, 1, 2, 2]})
    out = optimal_assignment(fm).set_index("candidate_id")["posting_id"].to_dict()
    assert out == {"c1": "p2", "c2": "p1"}
    assert optimal_assignment(fm.iloc[0:0]).empty
