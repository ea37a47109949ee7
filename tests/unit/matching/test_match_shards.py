"""The match stage fanned out over candidate shards (plan -> shards -> merge) gives exactly the in-process result,
full and incremental, and refuses to merge what it cannot vouch for."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.extraction.encoder import encoder_id
from skillmatch.lake import read_parquet, write_parquet_atomic
from skillmatch.matching.engine import compute_matches
from skillmatch.matching.shards import has_plan, match_shard, merge_match, plan_match

SKILLS = [f"skill:{i}" for i in range(40)]
TITLES = ["data analyst", "nurse", "software engineer", "accountant", "chef"]
N_C, N_P, SHARD = 61, 37, 9  # 7 shards, the last one short


def _write_lake(root: Path, seed: int = 3) -> None:
    """A small lake as the extract stage leaves it: silver documents, skill facts, embeddings, taxonomy, and the
    title vectors already cached (so no encoder is needed)."""
    rng = np.random.default_rng(seed)

    common = rng.normal(size=384)

    def unit(n: int) -> list[list[float]]:  # around one shared direction: cosines positive, so no score is tied
        x = (rng.normal(size=(n, 384)) + 0.5 * common).astype(np.float32)
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).tolist()

    c_ids, p_ids = [f"cand_{i:03d}" for i in range(N_C)], [f"post_{j:03d}" for j in range(N_P)]
    p_titles = [TITLES[j % len(TITLES)] for j in range(N_P)]
    write_parquet_atomic(pd.DataFrame({
        "posting_id": p_ids, "title": p_titles, "seniority": None,
        "location": [["Austin, TX", "Remote", "Boston, MA"][j % 3] for j in range(N_P)],
        "remote": [j % 3 == 1 for j in range(N_P)],
        "text": [f"{t}. Requirements: skills. Nice to have: more. {3 + j % 5}+ years of experience."
                 for j, t in enumerate(p_titles)]}), root / "silver" / "postings.parquet")
    resumes = [f"{TITLES[i % len(TITLES)].title()}\nAustin, TX\nSkills\nlisted\nExperience\nAcme 20{10 + i % 9} - 2020"
               f"\nused\n" for i in range(N_C)]
    write_parquet_atomic(pd.DataFrame({"candidate_id": c_ids, "text": resumes,
                                       "years_experience": [float(i % 12) for i in range(N_C)]}),
                         root / "silver" / "resumes.parquet")
    ps = [(p, s) for p in p_ids for s in rng.choice(SKILLS, size=int(rng.integers(3, 9)), replace=False)]
    write_parquet_atomic(pd.DataFrame({"doc_id": [p for p, _ in ps], "skill_id": [s for _, s in ps],
                                       "char_start": rng.integers(0, 80, len(ps)), "char_end": 90}),
                         root / "gold" / "fact_posting_skill.parquet")
    cs = [(c, s) for c in c_ids for s in rng.choice(SKILLS, size=int(rng.integers(2, 12)), replace=False)]
    write_parquet_atomic(pd.DataFrame({"doc_id": [c for c, _ in cs], "skill_id": [s for _, s in cs],
                                       "char_start": rng.integers(0, 60, len(cs)),
                                       "mention_starts": [[int(x)] for x in rng.integers(0, 60, len(cs))]}),
                         root / "gold" / "fact_candidate_skill.parquet")
    for entity, ids in (("postings", p_ids), ("resumes", c_ids)):
        write_parquet_atomic(pd.DataFrame({"doc_id": ids, "embedding": unit(len(ids))}),
                             root / "gold" / f"embedding_{entity}.parquet")
    write_parquet_atomic(pd.DataFrame({"skill_id": SKILLS, "preferred_label": [s.replace(":", " ") for s in SKILLS],
                                       "taxonomy_version": "test"}), root / "taxonomy" / "dim_skill.parquet")
    write_parquet_atomic(pd.DataFrame({"skill_id": SKILLS[:10], "related_id": SKILLS[10:20], "credit": 0.5,
                                       "relation": "broader", "taxonomy_version": "test"}),
                         root / "taxonomy" / "skill_relation.parquet")
    titles = sorted({t for t in p_titles} | {t for t in TITLES})
    write_parquet_atomic(pd.DataFrame({"title": titles, "encoder": encoder_id("cpu"), "embedding": unit(len(titles))}),
                         root / "gold" / "title_embedding.parquet")


@pytest.fixture()
def lakes(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """Two identical lakes: one for the in-process stage, one for the sharded DAG path."""
    a, b = tmp_path / "in-process", tmp_path / "sharded"
    _write_lake(a)
    shutil.copytree(a, b)
    monkeypatch.setenv("SKILLMATCH_TOP_K", "4")
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    return a, b


def _settings(root: Path, monkeypatch) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(root))
    return load_settings()


def _run_sharded(s: Settings, run_id: str) -> tuple[dict, dict]:
    plan = plan_match(s, run_id, SHARD)
    for shard in range(plan["shards"]):
        match_shard(s, run_id, shard)
    return plan, merge_match(s, run_id)


def _table(root: Path, name: str) -> pd.DataFrame:
    df = read_parquet(root / "gold" / f"{name}.parquet")
    return df.sort_values(["candidate_id", "posting_id"]).reset_index(drop=True)


def _same(a: Path, b: Path) -> None:
    for name in ("fact_match", "fact_assignment"):
        x, y = _table(a, name), _table(b, name)
        assert len(x) == len(y) > 0, name
        num = x.select_dtypes("number").columns
        pd.testing.assert_frame_equal(x.drop(columns=num), y.drop(columns=num), check_dtype=False)
        np.testing.assert_allclose(x[num].to_numpy(float), y[num].to_numpy(float), atol=1e-5, equal_nan=True)


def test_sharded_full_recompute_equals_the_in_process_one(lakes, monkeypatch) -> None:
    a, b = lakes
    full = compute_matches(_settings(a, monkeypatch))
    s = _settings(b, monkeypatch)
    plan, merged = _run_sharded(s, "night-1")
    assert plan["mode"] == "full" and plan["shards"] == -(-N_C // SHARD) == 7
    assert merged["shards"] == 7 and merged["mode"] == "full" and merged["match_rows"] == full["match_rows"]
    _same(a, b)
    assert not has_plan(s, "night-1")  # the merge cleans up its plan and parts
    # both left a state the next night can go incremental from
    assert json.loads((b / "gold" / "match_state" / "model.json").read_text())["top_k"] == 4


def test_an_incremental_night_plans_no_shards_and_the_merge_rescores(lakes, monkeypatch) -> None:
    a, b = lakes
    compute_matches(_settings(a, monkeypatch))
    _run_sharded(_settings(b, monkeypatch), "night-1")
    for root in (a, b):  # one resume changes its embedding
        emb = read_parquet(root / "gold" / "embedding_resumes.parquet")
        emb.at[5, "embedding"] = list(-np.asarray(emb.at[5, "embedding"]))
        write_parquet_atomic(emb, root / "gold" / "embedding_resumes.parquet")
    inc = compute_matches(_settings(a, monkeypatch))
    plan, merged = _run_sharded(_settings(b, monkeypatch), "night-2")
    assert plan["mode"] == inc["mode"] == merged["mode"] == "incremental"
    assert plan["shards"] == 0 and plan["changed_candidates"] == 1 == merged["changed_candidates"]
    _same(a, b)


def test_the_merge_refuses_a_missing_shard_and_changed_inputs(lakes, monkeypatch) -> None:
    _, b = lakes
    s = _settings(b, monkeypatch)
    plan = plan_match(s, "night-1", SHARD)
    for shard in range(plan["shards"] - 1):
        match_shard(s, "night-1", shard)
    with pytest.raises(FileNotFoundError, match="shard 7/7 of run night-1 left no"):
        merge_match(s, "night-1")
    assert not (b / "gold" / "fact_match.parquet").exists()  # nothing half-written
    with pytest.raises(ValueError, match="outside the plan's 7 shard"):
        match_shard(s, "night-1", 7)
    # silver changes under the run: a shard and the merge both stop rather than mix two inputs
    res = read_parquet(b / "silver" / "resumes.parquet")
    res.loc[0, "years_experience"] = 30.0
    write_parquet_atomic(res, b / "silver" / "resumes.parquet")
    with pytest.raises(RuntimeError, match="changed since run night-1 planned"):
        match_shard(s, "night-1", plan["shards"] - 1)
