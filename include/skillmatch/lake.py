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


def write_json_atomic(obj: object, path: Path) -> Path:
    """Write a JSON document atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)
    return path


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one Parquet file or every ``*.parquet`` under a folder (hive partitions become columns)."""
    if path.is_dir():
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
