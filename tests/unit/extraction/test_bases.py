"""The tagger's pre-trained bases: the split archive the all-mpnet-base-v2 weights ship in, joined and checked
against its pinned hash; the recipe per base; the installed packages giving a base the tagger trains from."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from skillmatch.config import load_settings
from skillmatch.extraction.bases import (MINILM, MPNET, RECIPES, _installed_parts, base_model_path, check_base,
                                         join_split_zip)
from skillmatch.extraction.tagger import SpanTagger, TrainConfig, train_tagger
from tests.conftest import SHARED_DATA


def _split_archive(tmp_path: Path, n_parts: int = 3) -> tuple[list[Path], str]:
    """A zip holding ``model/`` (two files and a Windows folder file), cut into ``n_parts`` byte ranges."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("model/config.json", json.dumps({"model_type": "mpnet"}))
        z.writestr("model/model.safetensors", b"\x00weights" * 5000)
        z.writestr("model/desktop.ini", "[.ShellClassInfo]")
        z.writestr("elsewhere.txt", "not the model")
    data = buf.getvalue()
    cut = [len(data) * i // n_parts for i in range(n_parts + 1)]
    parts = []
    for i in range(n_parts):
        part = tmp_path / f"model.zip.{i + 1:03d}"
        part.write_bytes(data[cut[i]:cut[i + 1]])
        parts.append(part)
    return parts, hashlib.sha256(data).hexdigest()


def test_split_archive_is_joined_checked_and_unpacked_once(tmp_path: Path) -> None:
    parts, sha = _split_archive(tmp_path)
    dest = join_split_zip(parts, sha, tmp_path / "base" / "model", "model")
    assert sorted(p.name for p in dest.iterdir()) == ["config.json", "model.safetensors"]  # no desktop.ini
    assert (dest / "model.safetensors").read_bytes() == b"\x00weights" * 5000
    assert [p.name for p in (tmp_path / "base").iterdir()] == ["model"]  # nothing temporary left beside it
    for part in parts:  # a second call reuses the folder and reads no part
        part.unlink()
    assert join_split_zip(parts, sha, dest, "model") == dest


def test_split_archive_with_another_hash_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    parts, sha = _split_archive(tmp_path)
    with pytest.raises(ValueError, match="expected " + "0" * 64) as err:
        join_split_zip(parts, "0" * 64, tmp_path / "base" / "model", "model")
    assert str(parts[0]) in str(err.value)
    assert list((tmp_path / "base").iterdir()) == []
    # parts joined in the wrong order are other bytes: refused too
    with pytest.raises(ValueError, match=f"expected {sha}"):
        join_split_zip(parts[::-1], sha, tmp_path / "base" / "model", "model")


def test_a_missing_part_package_names_the_fix() -> None:
    with pytest.raises(FileNotFoundError, match="no-such-part-package is not installed.*requirements.txt.*"
                                                f"SKILLMATCH_TAGGER_BASE={MINILM}"):
        _installed_parts(("no-such-part-package",))


def test_recipes_per_base_and_the_setting_that_picks_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().tagger_base == MPNET and TrainConfig().base == MPNET
    assert TrainConfig() == TrainConfig.for_base(MPNET)
    monkeypatch.setenv("SKILLMATCH_TAGGER_BASE", MINILM)
    cfg = TrainConfig.for_base(load_settings().tagger_base, epochs=None, limit=7)
    assert (cfg.base, cfg.epochs, cfg.lr, cfg.head_lr, cfg.train_bf16, cfg.limit) == (MINILM, 4, 2e-4, 2e-3, False, 7)
    assert (RECIPES[MPNET].epochs, RECIPES[MPNET].lr) == (3, 5e-5)
    with pytest.raises(ValueError, match="unknown tagger base 'bert'.*all-mpnet-base-v2"):
        check_base("bert")
    with pytest.raises(ValueError, match="unknown tagger base"):
        TrainConfig.for_base("bert")


@pytest.mark.skipif(not (SHARED_DATA / "eval" / "skillspan" / "train.json").is_file(),
                    reason=f"SkillSpan train split not found under {SHARED_DATA}/eval/skillspan")
def test_the_installed_mpnet_packages_give_a_base_the_tagger_trains_from(tmp_path: Path) -> None:
    base = base_model_path(MPNET, tmp_path / "base")
    assert json.loads((base / "config.json").read_text())["hidden_size"] == 768
    cfg = TrainConfig.for_base(MPNET, epochs=1, holdout=0.0, limit=24)
    folder = train_tagger(SHARED_DATA / "eval" / "skillspan" / "train.json", None, tmp_path / "models", cfg, "cpu")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["base_model"] == MPNET and meta["train"]["sentences"] == 24
    tagger = SpanTagger(folder, "cpu")
    assert tagger.model.encoder.config.model_type == "mpnet"
    text = "Experience with Kubernetes, Docker and stakeholder management (required)."
    for a, b, typ, conf in tagger.tag([text], min_confidence=0.0)[0]:  # whatever one epoch on 24 sentences learned, offsets slice the text
        assert typ in {"skill", "knowledge"} and 0 < conf <= 1 and text[a:b] == text[a:b].strip() and b <= len(text)
