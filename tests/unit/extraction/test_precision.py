"""Inference precision on the CPU (``SKILLMATCH_CPU_PRECISION``): the setting, bf16 autocast against fp32 on real
sentences, and per-text caches kept apart per precision so a switch never mixes vectors of both.

The rest of the suite runs in fp32 (tests/conftest.py): bf16 results move with the batch a text shares (by ~1e-5),
and the suite's equality checks (cached vs cacheless, incremental vs full) compare runs batched differently.
"""
from __future__ import annotations

import numpy as np
import pytest

from skillmatch.extraction import encoder
from skillmatch.extraction.encoder import ENCODER_NAME, encode, encoder_id, inference_precision
from skillmatch.extraction.extract import SkillIndex
from skillmatch.extraction.stage import extract_entity, text_caches
from skillmatch.taxonomy.build import read_dim_skill
from tests.unit.extraction.test_shards import _settings, _snapshot

SENTENCES = ["You have strong experience with Python and SQL and can manage stakeholder relationships.",
             "Experience with Kubernetes, Docker and CI/CD pipelines is a plus.",
             "Prepare monthly financial statements and reconcile general ledger accounts.",
             "Registered nurse with two years of acute care experience.",
             "Design and maintain ETL pipelines in Apache Spark and Airflow.",
             "Excellent written and verbal communication skills in English and French.",
             "Operate forklifts safely and keep the warehouse clean.",
             "Build React front ends backed by Node.js services on AWS."]


def test_the_cpu_precision_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "fp32")
    assert inference_precision("cpu") == "fp32" and encoder_id("cpu") == ENCODER_NAME
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", " BF16 ")
    assert inference_precision("cpu") == "bf16" and encoder_id("cpu") == f"{ENCODER_NAME}-bf16"
    assert inference_precision("cuda:0") == "fp16"  # CUDA models are cast to fp16 whatever the CPU setting
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "auto")
    monkeypatch.setattr(encoder, "cpu_bf16_native", lambda: True)
    assert inference_precision("cpu") == "bf16"
    monkeypatch.setattr(encoder, "cpu_bf16_native", lambda: False)  # emulated bf16 would be slower than fp32
    assert inference_precision("cpu") == "fp32"
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "int4")
    with pytest.raises(ValueError, match="SKILLMATCH_CPU_PRECISION must be one of auto, fp32, bf16, not 'int4'"):
        inference_precision("cpu")


def test_bf16_embeddings_stay_within_rounding_of_fp32(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "fp32")
    full = encode(SENTENCES, "cpu")
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "bf16")
    half = encode(SENTENCES, "cpu")
    assert not np.array_equal(full, half)  # the bf16 path ran
    assert half.dtype == np.float32 and np.allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)
    cos = (full * half).sum(1)
    assert cos.min() > 0.999, cos
    # every sentence keeps its nearest other sentence
    sim_f, sim_h = full @ full.T, half @ half.T
    np.fill_diagonal(sim_f, -1)
    np.fill_diagonal(sim_h, -1)
    assert (sim_f.argmax(1) == sim_h.argmax(1)).all()


def test_each_precision_fills_caches_of_its_own_with_the_same_facts(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same lake extracted in fp32 and in bf16: the per-text caches sit apart (a switch never mixes vectors of
    both), the facts are equal on these texts and the document vectors within bf16 rounding of each other."""
    snaps, folders = {}, {}
    for precision in ("fp32", "bf16"):
        s = _settings(tmp_path, precision, monkeypatch)
        monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", precision)
        counts = extract_entity(s, "postings")
        assert counts["extracted"] == counts["documents"] > 0
        folders[precision] = text_caches(s, "postings", SkillIndex(read_dim_skill(s), s)).sentences.folder
        assert folders[precision].name.endswith(precision) and any(folders[precision].iterdir())
        snaps[precision] = _snapshot(s)
    assert folders["fp32"].name != folders["bf16"].name
    (f32, e32), (f16, e16) = snaps["fp32"], snaps["bf16"]
    key = ["doc_id", "skill_id", "method", "char_start", "char_end"]
    assert len(f32) and f16[key].reset_index(drop=True).equals(f32[key].reset_index(drop=True))
    v32, v16 = np.vstack(e32["embedding"]), np.vstack(e16["embedding"])
    assert not np.array_equal(v32, v16)
    cos = (v32 * v16).sum(1)
    assert cos.min() > 0.999, cos


def test_an_encoder_given_by_path_is_told_apart_by_its_weights(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Caches and lineage are keyed by encoder_name(): the packaged model keeps its name (existing caches stay
    valid), a folder named by SKILLMATCH_ENCODER_PATH is named by its weights, so a fine-tune of the same
    architecture (same file size, same folder name) never reads the vectors another model cached."""
    monkeypatch.setenv("SKILLMATCH_CPU_PRECISION", "fp32")
    monkeypatch.delenv("SKILLMATCH_ENCODER_PATH", raising=False)
    assert encoder.encoder_name() == ENCODER_NAME
    names = []
    for run, payload in enumerate([b"\0" * 64, b"\1" * 64]):
        folder = tmp_path / f"run{run}" / "my-encoder"
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(payload)
        monkeypatch.setenv("SKILLMATCH_ENCODER_PATH", str(folder))
        names.append(encoder.encoder_name())
        assert encoder_id("cpu") == names[-1] and names[-1].startswith("my-encoder-")
    assert names[0] != names[1]
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("SKILLMATCH_ENCODER_PATH", str(empty))
    with pytest.raises(FileNotFoundError, match="no \\*.safetensors or \\*.bin weights"):
        encoder.encoder_name()
