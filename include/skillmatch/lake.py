"""Parquet lake I/O: atomic writes, tolerant reads, stable hashes; a local folder or object storage alike.

The lake root is a local folder or an fsspec URL (``s3://bucket/prefix``): :func:`lake_root` gives a
:class:`pathlib.Path` for the first and a ``UPath`` (universal-pathlib, the path type under Airflow's
``ObjectStoragePath``) for the second, so code that joins, globs, tests and reads lake paths runs unchanged on
both. Endpoint and credentials of an S3-compatible store come from the environment as botocore reads them
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``), never from configuration files.

Atomicity: a local file is written beside its target and renamed over it; an object store's PUT (single or
multipart) is atomic per object already, so a reader sees the old object or the new one. A partitioned dataset
is swapped in as a whole: locally through a symbolic link to its version folder, on an object store through a
``_CURRENT`` object naming the version prefix (one PUT).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

CURRENT = "_CURRENT"  # on an object store, the object naming a partitioned dataset's current version
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def lake_root(location: str | os.PathLike) -> Any:
    """The lake root for a local folder (a :class:`Path`) or an fsspec URL such as ``s3://bucket/prefix``
    (a ``UPath``); ``file://`` URLs are local folders."""
    text = str(location)
    if text.startswith("file://"):
        return Path(text[len("file://"):])
    if _URL.match(text):
        from upath import UPath

        # no listings cache: other workers write to the lake while this process runs, and a cached listing of a
        # prefix would hide their new objects from exists() / glob() here (seen with parallel ingest tasks)
        return UPath(text, use_listings_cache=False)
    return Path(text)


def is_remote(path: Any) -> bool:
    """Whether ``path`` lives on an object store (an fsspec protocol other than the local file system)."""
    return not isinstance(path, Path) and getattr(path, "protocol", "") not in ("", "file", "local")


def _read_file(path: Any, columns: list[str] | None = None) -> pd.DataFrame:
    if is_remote(path):
        with path.open("rb") as fh:
            return pd.read_parquet(fh, columns=columns)
    return pd.read_parquet(path, columns=columns)


def remove_tree(path: Any) -> None:
    """Remove a folder (or prefix) and everything under it; nothing if it is absent."""
    if is_remote(path):
        if path.exists():
            path.fs.rm(path.path, recursive=True)
        return
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def modified_at(path: Any) -> float:
    """When ``path`` last changed (epoch seconds): a file's own time; a partitioned dataset's current version
    (its link locally, its ``_CURRENT`` object on a store); else the newest file under a folder."""
    if not is_remote(path) or path.is_file():
        return path.stat().st_mtime
    pointer = path / CURRENT
    if pointer.exists():
        return pointer.stat().st_mtime
    return max((f.stat().st_mtime for f in path.rglob("*") if f.is_file()), default=0.0)


def write_parquet_atomic(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` to ``path`` through a temporary file and a rename, so readers never see half a file (on an
    object store, in one PUT)."""
    if is_remote(path):
        with path.open("wb") as fh:
            df.to_parquet(fh, index=False)
        return path
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
    On an object store the versions are prefixes under ``path`` and its ``_CURRENT`` object names the current one.
    """
    import shutil

    if is_remote(path):
        return _write_partitioned_remote(df, path, by)
    path.parent.mkdir(parents=True, exist_ok=True)
    version = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    version.mkdir()
    link = path.with_name(f".{path.name}.{uuid.uuid4().hex}.link")
    try:
        _write_partitions(df, version, by)
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


def _write_partitions(df: pd.DataFrame, version: Any, by: str) -> None:
    if df.empty:
        write_parquet_atomic(df, version / "part-0.parquet")
    for value, part in df.groupby(by, dropna=False, sort=True):
        seg = HIVE_NULL if pd.isna(value) else safe_name(value.isoformat() if hasattr(value, "isoformat")
                                                          else str(value))
        write_parquet_atomic(part.drop(columns=[by]), version / f"{by}={seg}" / "part-0.parquet")


def _current_version(path: Any) -> str | None:
    pointer = path / CURRENT
    return pointer.read_text().strip() if pointer.exists() else None


def _write_partitioned_remote(df: pd.DataFrame, path: Any, by: str) -> Any:
    previous = _current_version(path)
    version = f"v{utcnow().strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:8]}"
    try:
        _write_partitions(df, path / version, by)
        (path / CURRENT).write_text(version)
    except BaseException:
        remove_tree(path / version)
        raise
    for old in path.iterdir() if path.exists() else []:
        if old.name not in {version, previous, CURRENT}:
            remove_tree(old) if old.is_dir() else old.unlink()
    return path


def write_json_atomic(obj: object, path: Path) -> Path:
    """Write a JSON document atomically."""
    if is_remote(path):
        path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)
    return path


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one Parquet file or every ``*.parquet`` under a folder (hive partitions become columns; a dataset's
    link is resolved once, so all files come from one version; on an object store, the version ``_CURRENT``
    names)."""
    if path.is_dir():
        if is_remote(path):
            version = _current_version(path)
            path = path / version if version else path
        else:
            path = path.resolve()
        files = sorted(p for p in path.rglob("*.parquet") if not p.name.startswith("."))
        if not files:
            return pd.DataFrame(columns=columns or [])
        frames = []
        root = str(path).rstrip("/") + "/"
        for f in files:
            part = _read_file(f, columns)
            for seg in str(f)[len(root):].split("/")[:-1]:
                if "=" in seg and (columns is None or seg.split("=", 1)[0] in columns):
                    k, v = seg.split("=", 1)
                    part[k] = v
            frames.append(part)
        return pd.concat(frames, ignore_index=True)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run the upstream stage first")
    return _read_file(path, columns)


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
