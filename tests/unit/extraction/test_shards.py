"""Sharded extraction (the nightly DAG's fan-out): plan -> one part per shard -> merge gives the snapshot that
one in-process extraction gives, never loses or repeats a document, and fails loudly on a missing or stale part."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.extraction.stage import extract_entity, extract_shard, has_plan, merge_shards, plan_shards
from skillmatch.lake import read_parquet, sha256_text, write_parquet_atomic
from tests.unit.extraction.test_extract import tiny_dim_skill

TEXTS = ["We use Python and Kubernetes daily.", "SQL daily. SQL again.", "Lead a team of five engineers.",
         "Bake bread at dawn; Python scripts for the ovens.", "k8s clusters and structured query language.",
         "Nothing relevant here at all.", "Python, SQL and Kubernetes on call.", "You will manage a team.",
         "Kubernetes operators in Python.", "SQL reporting for finance."]


def _settings(tmp_path, name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / name))
    monkeypatch.setenv("SKILLMATCH_LOCAL_DIR", str(tmp_path / "local"))  # one label-embedding cache for both lakes
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    monkeypatch.setenv("SKILLMATCH_USE_TAGGER", "0")
    s = load_settings()
    write_parquet_atomic(tiny_dim_skill(), s.lake("taxonomy", "dim_skill.parquet"))
    _silver(s, TEXTS)
    return s


def _silver(s: Settings, texts: list[str]) -> None:
    ids = [f"p{i:02d}" for i in range(len(texts))]
    write_parquet_atomic(pd.DataFrame({"posting_id": ids, "content_key": [sha256_text(t) for t in texts],
                                       "text": texts}), s.lake("silver", "postings.parquet"))


def _snapshot(s: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    fact = read_parquet(s.lake("gold", "fact_posting_skill.parquet"))
    emb = read_parquet(s.lake("gold", "embedding_postings.parquet"))
    return fact, emb


def _run_sharded(s: Settings, run_id: str, shard_docs: int) -> dict:
    plan = plan_shards(s, "postings", run_id, shard_docs)
    for shard in reversed(range(plan["shards"])):  # any order, as workers pick them up
        extract_shard(s, "postings", run_id, shard)
    return {**plan, **merge_shards(s, "postings", run_id)}


def test_sharded_extraction_equals_one_process_and_reconciles(tmp_path, monkeypatch) -> None:
    single = _settings(tmp_path, "single", monkeypatch)
    extract_entity(single, "postings")
    sharded = _settings(tmp_path, "sharded", monkeypatch)
    counts = _run_sharded(sharded, "scheduled__1", shard_docs=3)
    assert (counts["to_extract"], counts["shards"], counts["documents"]) == (10, 4, 10)
    assert not has_plan(sharded, "postings", "scheduled__1")  # the parts are gone once merged
    (f1, e1), (f2, e2) = _snapshot(single), _snapshot(sharded)
    key = ["doc_id", "skill_id", "method", "char_start", "char_end", "surface_form", "mention_count"]
    pd.testing.assert_frame_equal(f1[key].reset_index(drop=True), f2[key].reset_index(drop=True))
    assert np.allclose(f1["score"], f2["score"], atol=1e-5)
    assert list(e1["doc_id"]) == list(e2["doc_id"]) == sorted(e1["doc_id"])  # each document once
    assert np.allclose(np.vstack(e1["embedding"]), np.vstack(e2["embedding"]), atol=1e-5)
    assert counts["skill_rows"] == len(f2) and counts["extracted"] == 10

    # the next run: one document changed, one added -> two to extract, one shard; the rest carried over
    _silver(sharded, [*TEXTS[:3], "Python only.", *TEXTS[4:], "Kubernetes on call."])
    counts = _run_sharded(sharded, "scheduled__2", shard_docs=3)
    assert (counts["to_extract"], counts["shards"], counts["cached"], counts["documents"]) == (2, 1, 9, 11)
    fact, emb = _snapshot(sharded)
    assert len(emb) == 11 and emb["doc_id"].is_unique
    assert set(fact.loc[fact["doc_id"] == "p03", "skill_id"]) == {"esco:python"}  # bread is gone with the edit
    assert set(fact.loc[fact["doc_id"] == "p10", "skill_id"]) == {"onet:kubernetes"}


def test_merge_fails_on_a_missing_part_or_documents_that_changed_under_the_run(tmp_path, monkeypatch) -> None:
    s = _settings(tmp_path, "lake", monkeypatch)
    plan = plan_shards(s, "postings", "run_a", 4)
    assert plan["shards"] == 3
    with pytest.raises(ValueError, match="shard 3 is outside the plan's 3 shard"):
        extract_shard(s, "postings", "run_a", 3)
    extract_shard(s, "postings", "run_a", 0)
    extract_shard(s, "postings", "run_a", 2)
    with pytest.raises(FileNotFoundError, match="shard 2/3 of run run_a left no"):
        merge_shards(s, "postings", "run_a")
    assert not s.lake("gold", "fact_posting_skill.parquet").exists()  # nothing half-merged
    extract_shard(s, "postings", "run_a", 1)
    _silver(s, [*TEXTS[:9], "A new text for the last posting."])  # silver changes before the merge
    with pytest.raises(RuntimeError, match=r"do not hold the planned documents exactly once \(1 missing, 1 extra"):
        merge_shards(s, "postings", "run_a")
    with pytest.raises(FileNotFoundError, match="no extraction plan for postings in run run_b"):
        extract_shard(s, "postings", "run_b", 0)


def test_versions_are_known_without_loading_the_tagger_or_the_automaton(tmp_path, monkeypatch) -> None:
    """Plan and merge tasks need only the versions: asking for them loads neither the tagger nor the alias
    automaton, and gives the string extraction itself stamps on its rows."""
    from skillmatch.extraction.extract import SkillIndex

    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    monkeypatch.setenv("SKILLMATCH_USE_TAGGER", "1")  # the repo's models/ (make model), or none promoted
    index = SkillIndex(tiny_dim_skill(), load_settings())
    lazy = index.model_version
    assert index._matcher is None and not index._tagger_loaded
    tagger = index.tagger  # what extraction loads
    assert lazy == index.model_version
    linker, threshold = index.sentence_model  # sentences through a promoted linker: its version and threshold last
    tail = f"{tagger.key if tagger is not None else 'no-tagger'}:s24-tag4000-1000+3000-l0.75"  # then what is read
    assert lazy.endswith(f"{tail}:{linker.name}:t{threshold:g}" if linker is not None else tail)
    # reading more of each document changes the facts: a new version, so the next run re-extracts them
    monkeypatch.setenv("SKILLMATCH_MAX_TAGGED_LIST_CHARS_PER_RESUME", "0")
    assert ":s24-tag4000-1000+0-l0.75" in SkillIndex(tiny_dim_skill(), load_settings()).model_version
