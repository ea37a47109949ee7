"""The per-text cache: a text an earlier run encoded or tagged is served from the lake, never computed again, and
what it serves is what was computed (so a night's facts equal a cacheless extraction's)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from skillmatch.extraction.stage import extract_entity, text_caches
from skillmatch.extraction.extract import SkillIndex
from skillmatch.extraction.text_cache import TextCache, compact, text_key
from skillmatch.lake import read_parquet, write_parquet_atomic
from skillmatch.taxonomy.build import read_dim_skill
from tests.unit.extraction.test_shards import TEXTS, _settings, _silver, _snapshot


def test_through_computes_only_unseen_texts_and_a_new_run_reads_them_back(tmp_path) -> None:
    calls: list[list[str]] = []

    def fake_encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)

    cache = TextCache(tmp_path / "emb", "embedding")
    first = cache.through(["alpha", "beta", "alpha"], fake_encode)
    assert calls == [["alpha", "beta"]]  # each distinct text once
    np.testing.assert_array_equal(first[0], first[2])
    assert (cache.hits, cache.computed) == (1, 2)
    assert cache.save() == 2 and cache.save() == 0  # nothing new the second time

    again = TextCache(tmp_path / "emb", "embedding")
    out = again.through(["beta", "gamma"], fake_encode)
    assert calls[-1] == ["gamma"]  # beta came from the lake
    np.testing.assert_array_equal(out[0], np.array([4, 1, 1], np.float32))
    assert out[0].dtype == np.float32 and "1 of 2 texts served (50 %)" in again.summary()


def test_tags_round_trip_and_compaction_keeps_every_entry(tmp_path) -> None:
    spans = {"Python and SQL": [(0, 1, "knowledge", 0.91), (2, 3, "knowledge", 0.875)], "Nothing here": []}
    for text, found in spans.items():  # one part per run
        c = TextCache(tmp_path / "tags", "tags")
        c.through([text], lambda todo, found=found: [found])
        c.save()
    assert compact(tmp_path / "tags", max_parts=5) == 2  # few parts: left alone
    assert compact(tmp_path / "tags", max_parts=1) == 1
    c = TextCache(tmp_path / "tags", "tags")
    got = c.through(list(spans), lambda todo: (_ for _ in ()).throw(AssertionError(f"recomputed {todo}")))
    assert got == list(spans.values())


def test_a_night_reuses_sentences_seen_before_and_its_facts_equal_a_cacheless_run(tmp_path, monkeypatch) -> None:
    s = _settings(tmp_path, "lake", monkeypatch)
    extract_entity(s, "postings")
    caches = text_caches(s, "postings", SkillIndex(read_dim_skill(s), s))
    stored = caches.sentences.known  # the linker's vectors when one is promoted (models/), else the encoder's
    assert text_key("SQL reporting for finance.") in stored and caches.tags is None  # no tagger in this lake

    # the next night: one new document made of two sentences seen before and one new sentence
    new_text = "SQL reporting for finance. Kubernetes operators in Python. Terraform for the clusters."
    _silver(s, [*TEXTS, new_text])
    extract_entity(s, "postings")
    fresh = _settings(tmp_path, "fresh", monkeypatch)  # the same documents, no cache
    _silver(fresh, [*TEXTS, new_text])
    extract_entity(fresh, "postings")
    (f1, e1), (f2, e2) = _snapshot(s), _snapshot(fresh)
    key = ["doc_id", "skill_id", "method", "char_start", "char_end", "surface_form", "mention_count"]
    pd.testing.assert_frame_equal(f1[key].reset_index(drop=True), f2[key].reset_index(drop=True))
    assert np.allclose(np.vstack(e1["embedding"]), np.vstack(e2["embedding"]), atol=1e-5)
    reloaded = text_caches(s, "postings", SkillIndex(read_dim_skill(s), s)).sentences.known
    assert text_key("Terraform for the clusters.") in reloaded and len(reloaded) > len(stored)


def test_what_the_cache_holds_is_what_extraction_uses(tmp_path, monkeypatch) -> None:
    """A poisoned entry shows the cache is read: the new document's embedding is built from the stored vector."""
    s = _settings(tmp_path, "lake", monkeypatch)
    extract_entity(s, "postings")
    folder = text_caches(s, "postings", SkillIndex(read_dim_skill(s), s)).sentences.folder
    poison = np.zeros(384, np.float32)
    poison[0] = 1.0
    write_parquet_atomic(pd.DataFrame({"key": [text_key("A sentence nobody wrote before today.")],
                                       "value": [poison]}), folder / "part-poison.parquet")
    _silver(s, [*TEXTS, "A sentence nobody wrote before today."])
    extract_entity(s, "postings")
    emb = read_parquet(s.lake("gold", "embedding_postings.parquet")).set_index("doc_id")["embedding"]
    np.testing.assert_allclose(emb["p10"], poison, atol=1e-6)  # one sentence: the doc vector is its vector
