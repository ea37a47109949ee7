"""The check both engine tests make against a brute-force score matrix."""
from __future__ import annotations

import numpy as np
import pandas as pd


def assert_top_k_is_brute_force(out: pd.DataFrame, score: np.ndarray, cand_ids: list[str], post_ids: list[str],
                                k: int) -> None:
    """Every candidate's and posting's ranked rows in ``out`` are the k best of ``score`` (candidates x postings),
    best first, with the brute-force scores (robust to exact ties)."""
    for i, c in enumerate(cand_ids):
        got = out[(out["candidate_id"] == c) & out["rank_for_candidate"].notna()].sort_values("rank_for_candidate")
        brute = [score[i, post_ids.index(p)] for p in got["posting_id"]]
        assert np.allclose(brute, np.sort(score[i])[::-1][:k], atol=1e-5)
        assert np.allclose(got["score"], brute, atol=1e-5)
    for j, p in enumerate(post_ids):
        got = out[(out["posting_id"] == p) & out["rank_for_posting"].notna()].sort_values("rank_for_posting")
        brute = [score[cand_ids.index(c), j] for c in got["candidate_id"]]
        assert np.allclose(brute, np.sort(score[:, j])[::-1][:k], atol=1e-5)
        assert np.allclose(got["score"], brute, atol=1e-5)
