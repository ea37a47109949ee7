"""Unit tests for skillmatch.matching.engine on a tiny hand-made case (3 candidates x 4 postings)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.matching.engine import MIN_SKILLS_FOR_FULL_COVERAGE, skill_idf, top_k_matches
from tests.unit.matching.brute_force import assert_top_k_is_brute_force

DIM = 384
K = 2

POST_IDS = ["P1", "P2", "P3", "P4"]
CAND_IDS = ["C1", "C2", "C3"]
POST_SKILLS = {"P1": {"a", "b", "c"}, "P2": {"a"}, "P3": {"d", "e"}, "P4": {"b", "d"}}
# C1 holds every skill of P1; C2 holds one skill of P3 and P4; C3 holds a skill no posting asks for
CAND_SKILLS = {"C1": {"a", "b", "c"}, "C2": {"d"}, "C3": {"zzz"}}


def _posting_skills() -> pd.DataFrame:
    rows = [(p, s) for p in POST_IDS for s in sorted(POST_SKILLS[p])]
    rows.append(("P1", "a"))  # a duplicate row must not count as a second posting
    return pd.DataFrame(rows, columns=["doc_id", "skill_id"])


def _unit(*head: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(head)] = head
    return v / np.linalg.norm(v)


def _embeddings() -> tuple[np.ndarray, np.ndarray]:
    post = np.stack([_unit(*([0.0] * j + [1.0])) for j in range(4)]).astype(np.float32)  # one-hot P1..P4
    cand = np.stack([
        _unit(0.9, 0.3, 0.1, 0.2),
        _unit(0.1, 0.2, 0.8, 0.5),
        _unit(-0.5, 0.6, 0.35, 0.45),  # negative cosine with P1: clipped to 0
    ]).astype(np.float32)
    return cand, post


@pytest.fixture()
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_TOP_K", str(K))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    s = load_settings()
    assert s.top_k == K and s.device == "cpu"
    return s


def _expected_idf() -> dict[str, float]:
    n = len(POST_IDS)
    df = {}
    for p, skills in POST_SKILLS.items():
        for s in skills:
            df[s] = df.get(s, 0) + 1
    return {s: math.log((1 + n) / (1 + d)) + 1.0 for s, d in df.items()}


def _expected_matrices(settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage, semantic and score matrices computed independently of the engine (numpy, float64)."""
    idf = _expected_idf()
    floor = MIN_SKILLS_FOR_FULL_COVERAGE * (sum(idf.values()) / len(idf))
    cand, post = _embeddings()
    cov = np.zeros((len(CAND_IDS), len(POST_IDS)))
    for i, c in enumerate(CAND_IDS):
        for j, p in enumerate(POST_IDS):
            need = POST_SKILLS[p]
            total = sum(idf[s] for s in need)
            cov[i, j] = sum(idf[s] for s in need & CAND_SKILLS[c]) / max(total, floor)
    sem = np.clip(cand.astype(np.float64) @ post.astype(np.float64).T, 0, 1)
    w = settings.weights
    return cov, sem, w.skill_coverage * cov + w.semantic * sem


def _run(settings: Settings, block: int = 1024) -> pd.DataFrame:
    cand, post = _embeddings()
    idf = skill_idf(_posting_skills(), len(POST_IDS))
    return top_k_matches(CAND_SKILLS, POST_SKILLS, idf, cand, post, CAND_IDS, POST_IDS, settings, block=block)


def test_skill_idf_rarer_skill_weighs_more() -> None:
    idf = skill_idf(_posting_skills(), len(POST_IDS))
    exp = _expected_idf()
    assert set(idf.index) == set(exp)
    for s, v in exp.items():
        assert idf[s] == pytest.approx(v)
    # c and e appear in one posting, a/b/d in two: rarer skills weigh more
    assert idf["c"] > idf["a"]
    assert idf["e"] > idf["d"]
    assert idf["a"] == pytest.approx(idf["b"])


def test_skill_idf_counts_distinct_postings() -> None:
    ps = pd.DataFrame({"doc_id": ["X", "X", "X", "Y"], "skill_id": ["s", "s", "s", "t"]})
    idf = skill_idf(ps, 2)
    # s sits in one posting (three rows), t in one: same weight
    assert idf["s"] == pytest.approx(idf["t"]) == pytest.approx(math.log(3 / 2) + 1.0)


def test_expected_scores_have_no_ties(settings: Settings) -> None:
    # precondition of the rank assertions below: the hand-made case has a unique ordering
    _, _, score = _expected_matrices(settings)
    for row in score:
        assert len(set(np.round(row, 6))) == row.size
    for col in score.T:
        assert len(set(np.round(col, 6))) == col.size


def _assert_top_k(out: pd.DataFrame, score: np.ndarray, side: str) -> None:
    """Each candidate (side="candidate") or posting (side="posting") has exactly K ranked rows, best first, in
    the order of the brute-force score matrix."""
    own, other = (CAND_IDS, POST_IDS) if side == "candidate" else (POST_IDS, CAND_IDS)
    other_col = "posting_id" if side == "candidate" else "candidate_id"
    mat = score if side == "candidate" else score.T
    ranked = out[out[f"rank_for_{side}"].notna()]
    for i, x in enumerate(own):
        g = ranked[ranked[f"{side}_id"] == x].sort_values(f"rank_for_{side}")
        assert g[f"rank_for_{side}"].tolist() == list(range(1, K + 1))
        assert g["score"].is_monotonic_decreasing
        assert g[other_col].tolist() == [other[j] for j in np.argsort(-mat[i])[:K]]
    assert len(ranked) == K * len(own)


def test_each_candidate_gets_k_ranked_rows(settings: Settings) -> None:
    _assert_top_k(_run(settings), _expected_matrices(settings)[2], "candidate")


def test_each_posting_gets_k_ranked_rows(settings: Settings) -> None:
    out = _run(settings)
    _assert_top_k(out, _expected_matrices(settings)[2], "posting")
    # every row is ranked one way or the other, and no (candidate, posting) pair repeats
    assert (out["rank_for_candidate"].notna() | out["rank_for_posting"].notna()).all()
    assert not out.duplicated(["candidate_id", "posting_id"]).any()


def test_full_coverage_candidate_uses_idf_floor(settings: Settings) -> None:
    out = _run(settings)
    idf = _expected_idf()
    total = idf["a"] + idf["b"] + idf["c"]
    floor = MIN_SKILLS_FOR_FULL_COVERAGE * (sum(idf.values()) / len(idf))
    expected = total / max(total, floor)
    row = out[(out["candidate_id"] == "C1") & (out["posting_id"] == "P1")]
    assert len(row) == 1
    assert row["skill_coverage"].iat[0] == pytest.approx(expected, abs=1e-5)
    # P2 asks for one generic skill: holding it must not give full coverage (the floor applies)
    row2 = out[(out["candidate_id"] == "C1") & (out["posting_id"] == "P2")]
    assert len(row2) == 1
    assert row2["skill_coverage"].iat[0] == pytest.approx(idf["a"] / floor, abs=1e-5)
    assert row2["skill_coverage"].iat[0] < 1.0


def test_components_and_score_formula(settings: Settings) -> None:
    out = _run(settings)
    cov, sem, score = _expected_matrices(settings)
    w = settings.weights
    assert not out.empty
    for r in out.itertuples():
        i, j = CAND_IDS.index(r.candidate_id), POST_IDS.index(r.posting_id)
        assert r.skill_coverage == pytest.approx(cov[i, j], abs=1e-5)
        assert r.semantic_similarity == pytest.approx(sem[i, j], abs=1e-5)
        assert 0.0 <= r.semantic_similarity <= 1.0
        assert r.score == pytest.approx(w.skill_coverage * r.skill_coverage + w.semantic * r.semantic_similarity,
                                        abs=1e-5)
        assert r.score == pytest.approx(score[i, j], abs=1e-5)


def test_negative_cosine_is_clipped_and_unknown_skills_give_zero_coverage(settings: Settings) -> None:
    out = _run(settings)
    c3 = out[out["candidate_id"] == "C3"]
    assert not c3.empty
    assert (c3["skill_coverage"] == 0).all()  # C3's only skill is asked for by no posting
    # C3 ranks P1 last (cosine < 0 -> 0): it is never in C3's top-k
    assert "P1" not in c3[c3["rank_for_candidate"].notna()]["posting_id"].tolist()


@pytest.mark.parametrize("block", [1, 2])
def test_blocking_does_not_change_the_answer(settings: Settings, block: int) -> None:
    key = ["candidate_id", "posting_id"]
    big = _run(settings, block=1024).sort_values(key).reset_index(drop=True)
    small = _run(settings, block=block).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(big, small)


def test_k_larger_than_inputs_is_capped(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_TOP_K", "50")
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    out = _run(load_settings(), block=2)
    # every pair is in someone's top-k, ranked both ways
    assert len(out) == len(CAND_IDS) * len(POST_IDS)
    assert out["rank_for_candidate"].notna().all() and out["rank_for_posting"].notna().all()
    assert out.groupby("candidate_id")["rank_for_candidate"].max().tolist() == [len(POST_IDS)] * len(CAND_IDS)
    assert out.groupby("posting_id")["rank_for_posting"].max().tolist() == [len(CAND_IDS)] * len(POST_IDS)


def test_center_embeddings_removes_the_common_direction() -> None:
    from skillmatch.matching.engine import CENTER_MIN_DOCS, center_embeddings

    rng = np.random.default_rng(0)
    common = np.ones(8, np.float32)
    post = rng.normal(size=(150, 8)).astype(np.float32) * 0.1 + common
    cand = rng.normal(size=(150, 8)).astype(np.float32) * 0.1 + common
    p2, c2 = center_embeddings(post, cand)
    np.testing.assert_allclose(np.linalg.norm(p2, axis=1), 1.0, atol=1e-5)
    assert abs(float((p2 @ c2.T).mean())) < 0.05  # raw vectors are all near-parallel; centred ones are not
    assert float((post @ cand.T).mean()) > 0.5
    small_p, small_c = center_embeddings(post[:5], cand[:5])  # too few documents: unchanged
    assert np.array_equal(small_p, post[:5])
    assert np.array_equal(small_c, cand[:5]) and 10 < CENTER_MIN_DOCS


@pytest.mark.parametrize("seed,block", [(0, 1), (1, 7), (2, None)])
def test_top_k_both_ways_equals_brute_force_on_random_data(tmp_path, monkeypatch, seed: int, block) -> None:
    """Random skills and embeddings: every candidate's and posting's ranked rows are exactly the brute-force
    top-k of the full score matrix (numpy float64), whatever the block size."""
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_TOP_K", "3")
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    s = load_settings()
    rng = np.random.default_rng(seed)
    vocab = [f"s{i}" for i in range(30)]
    cand_ids, post_ids = [f"C{i}" for i in range(23)], [f"P{j}" for j in range(17)]
    cs = {c: set(rng.choice(vocab, size=rng.integers(0, 8), replace=False)) for c in cand_ids}
    ps = {p: set(rng.choice(vocab, size=rng.integers(0, 6), replace=False)) for p in post_ids}
    cand = rng.normal(size=(len(cand_ids), 16)).astype(np.float32)
    post = rng.normal(size=(len(post_ids), 16)).astype(np.float32)
    cand /= np.linalg.norm(cand, axis=1, keepdims=True)
    post /= np.linalg.norm(post, axis=1, keepdims=True)
    rows = pd.DataFrame([(p, x) for p in post_ids for x in sorted(ps[p])], columns=["doc_id", "skill_id"])
    idf = skill_idf(rows, len(post_ids))
    floor = MIN_SKILLS_FOR_FULL_COVERAGE * float(idf.mean())
    cov = np.array([[sum(idf[x] for x in ps[p] & cs[c]) / max(sum(idf[x] for x in ps[p]), floor) if ps[p] else 0.0
                     for p in post_ids] for c in cand_ids])
    score = s.weights.skill_coverage * cov + s.weights.semantic * np.clip(cand.astype(float) @ post.T.astype(float), 0, 1)
    out = top_k_matches(cs, ps, idf, cand, post, cand_ids, post_ids, s, block=block)
    assert_top_k_is_brute_force(out, score, cand_ids, post_ids, 3)
    assert not out.duplicated(["candidate_id", "posting_id"]).any()
    assert len(out) <= 3 * (len(cand_ids) + len(post_ids))


def test_head_and_tail_coverage_split_is_exact() -> None:
    """However many skills go to the dense head (the CUDA default) rather than the sparse product (all of them on
    the CPU), the scores are the same."""
    from scipy import sparse

    from skillmatch.matching.engine import topk_both_ways

    rng = np.random.default_rng(5)
    cand = sparse.random(40, 60, density=0.15, random_state=1, format="csr", dtype=np.float32)
    cand.data[:] = 1.0
    post = sparse.random(25, 60, density=0.2, random_state=2, format="csr", dtype=np.float32)
    denom = np.maximum(np.asarray(post.sum(1)).ravel(), 1.0).astype(np.float32)
    ce = rng.normal(size=(40, 8)).astype(np.float32)
    pe = rng.normal(size=(25, 8)).astype(np.float32)
    cov = (cand @ post.T).toarray() / denom
    score = 0.35 * cov + 0.65 * np.clip(ce @ pe.T, 0, 1)
    for head in (0, 5, 60):
        t = topk_both_ways(cand, post, denom, ce, pe, 4, 4, 0.35, 0.65, head_skills=head, block=9)
        assert np.allclose(t["c_score"], -np.sort(-score, axis=1)[:, :4], atol=1e-5)
        assert np.allclose(t["c_cov"], np.take_along_axis(cov, t["c_idx"], 1), atol=1e-5)
        assert np.allclose(t["p_score"], -np.sort(-score, axis=0)[:4], atol=1e-5)
        assert np.allclose(t["p_cov"], np.take_along_axis(cov, t["p_idx"], 0), atol=1e-5)


@pytest.mark.parametrize("n,group", [(4096, 64), (640, 16), (1000, 64), (50, 8)])
def test_top_k_down_equals_torch_topk(n: int, group: int) -> None:
    """The grouped top-k per column gives torch.topk's values and indices: on random scores, with -inf pad rows,
    with duplicated values, and (sizes that are no multiple of the group, too few groups) by falling back."""
    import torch

    from skillmatch.matching.engine import top_k_down

    rng = np.random.default_rng(n)
    score = torch.from_numpy(rng.normal(size=(n, 37)).astype(np.float32))
    score[: n // 3, 5] = 2.0  # one column's maximum repeated across many groups: ties at the top
    if n % group == 0:
        score[-group:] = -torch.inf  # a pad group
    s, i = top_k_down(score, 10, group)
    ref_s, _ = torch.topk(score, 10, dim=0)
    assert torch.equal(s, ref_s)
    assert torch.equal(score.gather(0, i), s)  # the indices point at those values
    assert all(len(set(i[:, c].tolist())) == 10 for c in range(score.shape[1]))  # ten distinct rows per column


def _random_case(seed: int, n_c: int, n_p: int, skills: int, density: tuple[float, float],
                 w: tuple[float, float]) -> tuple:
    """(candidate credits, posting weights, denominators, both embeddings, coverage, score): random sparse skills
    and unit embeddings, with the coverage and the score computed by numpy (float64) as the brute-force reference."""
    from scipy import sparse

    rng = np.random.default_rng(seed)
    cand = sparse.random(n_c, skills, density=density[0], random_state=seed + 1, format="csr", dtype=np.float32)
    post = sparse.random(n_p, skills, density=density[1], random_state=seed + 2, format="csr", dtype=np.float32)
    denom = np.maximum(np.asarray(post.sum(1)).ravel(), 0.5).astype(np.float32)
    ce = rng.normal(size=(n_c, 16)).astype(np.float32)
    pe = rng.normal(size=(n_p, 16)).astype(np.float32)
    ce /= np.linalg.norm(ce, axis=1, keepdims=True)
    pe /= np.linalg.norm(pe, axis=1, keepdims=True)
    cov = (cand @ post.T).toarray() / denom
    return cand, post, denom, ce, pe, cov, w[0] * cov + w[1] * np.clip(ce.astype(float) @ pe.T.astype(float), 0, 1)


def test_top_k_both_ways_on_many_postings_equals_brute_force() -> None:
    """Enough postings for the grouped candidate top-k (and a pad group): both sides equal the brute force."""
    from skillmatch.matching.engine import topk_both_ways

    cand, post, denom, ce, pe, cov, score = _random_case(11, 30, 3000, 80, (0.1, 0.05), (0.35, 0.65))
    t = topk_both_ways(cand, post, denom, ce, pe, 10, 5, 0.35, 0.65, block=7)
    assert np.array_equal(t["c_idx"], np.argsort(-score, axis=1, kind="stable")[:, :10])
    assert np.allclose(t["c_score"], np.take_along_axis(score, t["c_idx"], 1), atol=1e-5)
    assert np.allclose(t["c_sem"], np.clip(np.take_along_axis(ce @ pe.T, t["c_idx"], 1), 0, 1), atol=1e-5)
    assert np.array_equal(t["p_idx"], np.argsort(-score, axis=0, kind="stable")[:5])
    assert np.allclose(t["p_cov"], np.take_along_axis(cov, t["p_idx"], 0), atol=1e-5)


@pytest.mark.parametrize("block", [704, 640, 2000])
def test_wide_blocks_equal_brute_force(block: int) -> None:
    """Blocks wide enough for the postings' grouped reading (a multiple of 32 rows, at least 2 k groups), a short
    last block that is no multiple of 32 (704 + 704 + 592), one single block: both sides equal the brute force."""
    from skillmatch.matching.engine import ColumnTopK, topk_both_ways

    cand, post, denom, ce, pe, cov, score = _random_case(block, 2000, 300, 120, (0.08, 0.06), (0.3, 0.4))
    seen = []
    add = ColumnTopK.add

    def spy(self, s, row0, parts):  # noqa: ANN001, ANN202 - record each block's width
        seen.append(s.shape[1])
        return add(self, s, row0, parts)

    ColumnTopK.add = spy
    try:
        t = topk_both_ways(cand, post, denom, ce, pe, 10, 10, 0.3, 0.4, block=block)
    finally:
        ColumnTopK.add = add
    assert seen == {704: [704, 704, 592], 640: [640, 640, 640, 80], 2000: [2000]}[block]
    assert np.array_equal(t["c_idx"], np.argsort(-score, axis=1, kind="stable")[:, :10])
    assert np.array_equal(t["p_idx"], np.argsort(-score, axis=0, kind="stable")[:10])
    assert np.allclose(t["p_score"], np.take_along_axis(score, t["p_idx"], 0), atol=1e-5)
    assert np.allclose(t["p_cov"], np.take_along_axis(cov, t["p_idx"], 0), atol=1e-5)
    assert np.allclose(t["p_sem"], np.clip(np.take_along_axis(ce @ pe.T, t["p_idx"], 0), 0, 1), atol=1e-5)


def test_column_top_k_keeps_the_entries_at_its_bounds() -> None:
    """The postings' running top-k on blocks built against its shortcuts: a first block whose k best entries are
    each alone in its group (the seed bound is the k-th of them, which must be kept), then an entry that beats the
    current k-th best by a hair, in a group-read block or in a short last block (cells compared one by one),
    while the other block brings only an entry just below it."""
    import torch

    from skillmatch.matching.engine import ColumnTopK

    rng = np.random.default_rng(3)
    k, n = 10, 5
    first = rng.uniform(0, 0.1, size=(n, 640)).astype(np.float32)
    for g in range(k):  # one large entry in each of the first k groups of 32
        first[:, 32 * g + 7] = 1.0 + 0.01 * g
    grouped, short = rng.uniform(0, 0.1, size=(n, 640)), rng.uniform(0, 0.1, size=(n, 100))
    hair, below = np.float32(1.0001), np.float32(1.00005)  # the k-th best so far is 1.0
    scenarios = {"first block alone": [first],
                 "in a grouped block": [first, np.where(np.arange(640) == 321, hair, grouped),
                                        np.where(np.arange(100) == 50, below, short)],
                 "in a short block": [first, np.where(np.arange(640) == 321, below, grouped),
                                      np.where(np.arange(100) == 50, hair, short)]}
    for name, blocks in scenarios.items():
        topk, row0 = ColumnTopK(n, k, "cpu"), 0
        for b in blocks:
            t = torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32))
            topk.add(t, row0, [t * 2])
            row0 += b.shape[1]
        s, r, part = topk.result(k)
        every = np.concatenate([np.asarray(b, dtype=np.float32) for b in blocks], 1)
        want = np.sort(every, axis=1)[:, ::-1][:, :k]
        assert np.array_equal(s.numpy().T, want), name
        assert np.array_equal(np.take_along_axis(every, r.numpy().T, 1), want), name
        assert np.allclose(part.numpy().T, 2 * want), name
