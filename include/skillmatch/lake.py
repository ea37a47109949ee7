"""Parquet lake I/O: atomic writes, tolerant reads, stable hashes."""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` to ``path`` through a temporary file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def write_partitioned_atomic(df: pd.DataFrame, path: Path, by: str) -> Path:
    """Write ``df`` as a Hive-partitioned Parquet dataset at ``path`` (``<by>=<value>/part-0.parquet``, the column
    kept out of the files as Hive readers expect), swapped in as a whole.

    ``path`` is a symbolic link to a version folder beside it (``.<name>.<id>``); the new version is written in
    full, then the link is replaced with one rename, so a reader globbing ``path`` sees the old dataset or the
    new one, never a mix. The previous version stays one more run (a reader that listed its files just before the
    swap can still open them); older ones are removed. An empty frame is written as one file with the column.
    """
    import shutil

    path.parent.mkdir(parents=True, exist_ok=True)
    version = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    version.mkdir()
    link = path.with_name(f".{path.name}.{uuid.uuid4().hex}.link")
    try:
        if df.empty:
            df.to_parquet(version / "part-0.parquet", index=False)
        for value, part in df.groupby(by, dropna=False, sort=True):
            seg = HIVE_NULL if pd.isna(value) else safe_name(value.isoformat() if hasattr(value, "isoformat")
                                                              else str(value))
            folder = version / f"{by}={seg}"
            folder.mkdir()
            part.drop(columns=[by]).to_parquet(folder / "part-0.parquet", index=False)
        link.symlink_to(version.name)
        previous = path.resolve() if path.is_symlink() else None
        if path.exists() and not path.is_symlink():  # a plain file or folder from an older layout
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        os.replace(link, path)
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        link.unlink(missing_ok=True)
        raise
    keep = {version.name} | ({previous.name} if previous else set())
    for old in path.parent.glob(f".{path.name}.*"):
        if old.name not in keep and not old.name.endswith(".link"):
            shutil.rmtree(old, ignore_errors=True)
    return path


def write_json_atomic(obj: object, path: Path) -> Path:
    """Write a JSON document atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)
    return path


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one Parquet file or every ``*.parquet`` under a folder (hive partitions become columns; a dataset's
    link is resolved once, so all files come from one version)."""
    if path.is_dir():
        path = path.resolve()
        files = sorted(p for p in path.rglob("*.parquet") if not p.name.startswith("."))
        if not files:
            return pd.DataFrame(columns=columns or [])
        frames = []
        for f in files:
            part = pd.read_parquet(f, columns=columns)
            for seg in f.relative_to(path).parent.parts:
                if "=" in seg and (columns is None or seg.split("=", 1)[0] in columns):
                    k, v = seg.split("=", 1)
                    part[k] = v
            frames.append(part)
        return pd.concat(frames, ignore_index=True)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run the upstream stage first")
    return pd.read_parquet(path, columns=columns)


def safe_name(text: str) -> str:
    """``text`` usable as one file-name segment (run ids hold ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def sha256_text(*parts: object) -> str:
    """A stable hex digest of the given parts (joined with an unlikely separator)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def utcnow() -> datetime:
    """Timezone-aware now, in UTC."""
    return datetime.now(timezone.utc)


def new_run_id(prefix: str = "manual") -> str:
    """A run id for runs started outside Airflow."""
    return f"{prefix}__{utcnow().strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:6]}"
