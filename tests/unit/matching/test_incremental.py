"""Incremental match recompute equals a full recompute with the same scoring model; the run plan falls back to
full when it must."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.matching import incremental as inc
from skillmatch.matching.engine import top_k_matches
from skillmatch.matching.profile import Profiles
from skillmatch.matching.soft import candidate_credits

K = 4
# s_i partly covers s_(i+1) and s_(i+20)
RELATIONS = pd.DataFrame([(f"s{i}", f"s{(i + d) % 40}", c, "test") for i in range(40) for d, c in ((1, 0.5), (20, 0.3))],
                         columns=["skill_id", "related_id", "credit", "relation"])


@pytest.fixture()
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_TOP_K", str(K))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    weights = {"SKILL_COVERAGE": "0.3", "SEMANTIC": "0.4", "TITLE": "0.1", "SENIORITY": "0.1", "LOCATION": "0.1"}
    for k, v in weights.items():
        monkeypatch.setenv(f"SKILLMATCH_WEIGHT_{k}", v)  # every component in play
    return load_settings()


def _corpus(rng: np.random.Generator, n_c: int, n_p: int):  # noqa: ANN202
    vocab = [f"s{i}" for i in range(40)]

    def unit(n: int) -> np.ndarray:
        x = rng.normal(size=(n, 12)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    cand = {f"C{i}": (set(rng.choice(vocab, size=rng.integers(1, 9), replace=False)), v)
            for i, v in enumerate(unit(n_c))}
    post = {f"P{j}": (set(rng.choice(vocab, size=rng.integers(1, 7), replace=False)), v)
            for j, v in enumerate(unit(n_p))}
    return vocab, cand, post, unit


def _score_all(model: inc.ScoringModel, cand: dict, post: dict, settings: Settings, c_ids=None, p_ids=None):  # noqa: ANN001, ANN202
    c_ids = list(cand) if c_ids is None else c_ids
    p_ids = list(post) if p_ids is None else p_ids
    ce = model.centred(np.stack([cand[c][1] for c in c_ids])) if c_ids else np.zeros((0, 12), np.float32)
    pe = model.centred(np.stack([post[p][1] for p in p_ids])) if p_ids else np.zeros((0, 12), np.float32)
    held = {c: v[0] for c, v in cand.items()}
    asked = {p: v[0] for p, v in post.items()}
    # soft coverage and preferred skills in play too: both follow from the documents' own skill sets
    preferred = {p: {x for x in sk if int(x[1:]) % 3 == 0} for p, sk in asked.items()}
    return top_k_matches(held, asked, model.idf, ce, pe, c_ids, p_ids, settings, preferred=preferred,
                         credits=candidate_credits(held, RELATIONS), cand_prof=_profiles(list(cand), True),
                         post_prof=_profiles(list(post), False))


def _profiles(ids: list[str], candidate: bool) -> Profiles:
    """Profiles that follow from the document id (so they change only with the document)."""
    places = [frozenset(), frozenset({("US", "IL")}), frozenset({("US", "TX")})]
    n = [int(d[1:]) for d in ids]
    frame = pd.DataFrame({"title": "t", "years_min": [float(x % 12) if candidate else [math.nan, 2.0, 6.0][x % 3]
                                                      for x in n],
                          "years_max": math.inf, "remote": [None if candidate or x % 4 else True for x in n],
                          "places": [places[x % 3] for x in n]}, index=ids)
    def title(x: int) -> np.ndarray:  # continuous, so scores have no exact ties; some resumes have no title
        v = np.random.default_rng(1000 * candidate + x).normal(size=6).astype(np.float32)
        return v / np.linalg.norm(v) * (0 if candidate and x % 7 == 0 else 1)

    emb = np.stack([title(x) for x in n]) if ids else np.zeros((0, 6), np.float32)
    return Profiles(frame, emb)


def _fp(docs: dict) -> pd.Series:
    ids = list(docs)
    return inc.fingerprints(ids, {d: docs[d][0] for d in ids}, np.stack([docs[d][1] for d in ids]))


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["candidate_id", "posting_id"]).reset_index(drop=True)[inc.PAIR_COLUMNS]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_incremental_equals_full_recompute_with_the_same_model(settings: Settings, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vocab, cand, post, unit = _corpus(rng, 60, 45)
    ps = pd.DataFrame([(p, s) for p, (sk, _) in post.items() for s in sk], columns=["doc_id", "skill_id"])
    model = inc.fit_scoring_model(ps, np.stack([v for _, v in post.values()]), np.stack([v for _, v in cand.values()]))
    before = _score_all(model, cand, post, settings)
    fp_c0, fp_p0 = _fp(cand), _fp(post)

    # the night's changes: postings expire (some sit in top-k lists), arrive and change; resumes too
    top_postings = before[before["rank_for_candidate"] == 1]["posting_id"].value_counts().index.tolist()
    for p in set(top_postings[:2]) | {"P44"}:
        post.pop(p)
    for j in range(45, 49):
        post[f"P{j}"] = (set(rng.choice(vocab, size=4, replace=False)), unit(1)[0])
    p_changed = next(iter(post))
    post[p_changed] = (post[p_changed][0] | {"s0", "s1"}, post[p_changed][1])
    top_cands = before[before["rank_for_posting"] == 1]["candidate_id"].value_counts().index.tolist()
    for c in top_cands[:2]:
        cand.pop(c)
    for i in range(60, 64):
        cand[f"C{i}"] = (set(rng.choice(vocab, size=5, replace=False)), unit(1)[0])
    changed = next(c for c in cand if c not in top_cands[:2])
    cand[changed] = (cand[changed][0], unit(1)[0])

    d = inc.delta(before, fp_c0, fp_p0, _fp(cand), _fp(post))
    assert d.removed_postings and d.removed_candidates and d.changed_postings and d.changed_candidates
    assert len(d.dirty_candidates) < len(cand) and len(d.dirty_postings) < len(post)  # it is incremental

    def score_pairs(c_sub: list[str], p_sub: list[str]) -> pd.DataFrame:
        return _score_all(model, cand, post, settings, c_sub, p_sub)

    got = inc.incremental_pairs(before, d, score_pairs, list(cand), list(post), K)
    full = _score_all(model, cand, post, settings)
    pd.testing.assert_frame_equal(_canonical(got), _canonical(full), check_dtype=False)


def test_nothing_changed_rescores_nothing(settings: Settings) -> None:
    rng = np.random.default_rng(9)
    _, cand, post, _ = _corpus(rng, 20, 15)
    ps = pd.DataFrame([(p, s) for p, (sk, _) in post.items() for s in sk], columns=["doc_id", "skill_id"])
    model = inc.fit_scoring_model(ps, np.stack([v for _, v in post.values()]), np.stack([v for _, v in cand.values()]))
    before = _score_all(model, cand, post, settings)
    d = inc.delta(before, _fp(cand), _fp(post), _fp(cand), _fp(post))
    assert d.summary() == {k: 0 for k in d.summary()}
    calls = []
    got = inc.incremental_pairs(before, d, lambda c, p: calls.append((c, p)), list(cand), list(post), K)
    assert calls == []
    pd.testing.assert_frame_equal(_canonical(got), _canonical(before), check_dtype=False)


def test_fingerprint_changes_with_skills_or_embedding_only() -> None:
    v = np.ones((1, 4), np.float32) / 2
    a = inc.fingerprints(["x"], {"x": {"s1", "s2"}}, v)["x"]
    assert a == inc.fingerprints(["x"], {"x": {"s2", "s1"}}, v.copy())["x"]
    assert a != inc.fingerprints(["x"], {"x": {"s1"}}, v)["x"]
    assert a != inc.fingerprints(["x"], {"x": {"s1", "s2"}}, v * 0.9)["x"]


def test_run_plan_falls_back_to_full_when_it_must(settings: Settings, tmp_path, monkeypatch) -> None:
    from skillmatch.lake import write_parquet_atomic

    rng = np.random.default_rng(4)
    _, cand, post, unit = _corpus(rng, 30, 20)
    ps = pd.DataFrame([(p, s) for p, (sk, _) in post.items() for s in sk], columns=["doc_id", "skill_id"])
    model = inc.fit_scoring_model(ps, np.stack([v for _, v in post.values()]), np.stack([v for _, v in cand.values()]))
    state, fm_path = settings.lake("gold", "match_state"), settings.lake("gold", "fact_match.parquet")
    fp_c, fp_p = _fp(cand), _fp(post)
    assert inc.plan_run(state, fm_path, fp_c, fp_p, settings).reason == "no previous match state"

    write_parquet_atomic(_score_all(model, cand, post, settings), fm_path)
    inc.save_state(state, model, fp_c, fp_p, settings, refit=True)
    plan = inc.plan_run(state, fm_path, fp_c, fp_p, settings)
    assert not plan.full and plan.delta.summary()["rescored_candidates"] == 0
    assert plan.model.idf.equals(model.idf)

    # a few changes stay incremental; too many go full
    few = fp_c.copy()
    few.iloc[0] = "changed"
    assert not inc.plan_run(state, fm_path, few, fp_p, settings).full
    many = fp_c.copy()
    many.iloc[:10] = "changed"  # a third of the resumes
    assert "of resumes changed" in inc.plan_run(state, fm_path, many, fp_p, settings).reason
    # where this process scores on a GPU, any change goes full (SKILLMATCH_MATCH_FULL_SHARE_GPU, 0 by default); an
    # unchanged night stays incremental (nothing to rescore)
    from skillmatch.extraction import encoder

    on_cpu = encoder.resolve_device
    monkeypatch.setattr(encoder, "resolve_device", lambda requested="auto": "cuda")
    assert inc.plan_run(state, fm_path, few, fp_p, settings).reason == "3% of resumes changed (> 0% on a GPU)"
    assert not inc.plan_run(state, fm_path, fp_c, fp_p, settings).full
    monkeypatch.setenv("SKILLMATCH_MATCH_FULL_SHARE_GPU", "0.25")
    assert not inc.plan_run(state, fm_path, few, fp_p, load_settings()).full
    monkeypatch.delenv("SKILLMATCH_MATCH_FULL_SHARE_GPU")
    monkeypatch.setattr(encoder, "resolve_device", on_cpu)

    monkeypatch.setenv("SKILLMATCH_TOP_K", str(K + 1))
    assert inc.plan_run(state, fm_path, fp_c, fp_p, load_settings()).reason == "top-k or weights changed"
    monkeypatch.setenv("SKILLMATCH_TOP_K", str(K))
    monkeypatch.setenv("SKILLMATCH_MATCH_REFIT_DAYS", "0")
    assert "days old" in inc.plan_run(state, fm_path, fp_c, fp_p, load_settings()).reason
    monkeypatch.setenv("SKILLMATCH_MATCH_REFIT_DAYS", "7")
    monkeypatch.setenv("SKILLMATCH_MATCH_FULL", "1")
    assert inc.plan_run(state, fm_path, fp_c, fp_p, load_settings()).reason.startswith("forced")
    monkeypatch.setenv("SKILLMATCH_MATCH_FULL", "0")

    # a fact_match written without its state (a run that died in between) is not trusted
    write_parquet_atomic(_score_all(model, cand, post, settings).head(5), fm_path)
    assert inc.plan_run(state, fm_path, fp_c, fp_p, load_settings()).reason == \
        "fact_match does not belong to the saved state"
