"""File-based postings connectors: a landing folder (CSV / JSON / JSONL / Parquet, local or ``s3://`` through
fsspec) with a declarative column mapping, and the Hacker News "Who is hiring?" JSON runs.

Both keep a watermark of the files already ingested (path + sha256 of the bytes): an unchanged file is not read
again, a changed file is read again in full (its unchanged records are then recognised in bronze by content hash,
so only the changed ones land: a new version, never a duplicate).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import posixpath
from typing import Any

import pandas as pd

from skillmatch.sources.base import POSTING_COLUMNS, FetchResult, PostingConnector, empty_postings, to_canonical
from skillmatch.sources.normalize import decode_bytes

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 512 * 1024 * 1024  # a landing file larger than this is rejected, not read into memory
CANONICAL_FIELDS = set(POSTING_COLUMNS) - {"source", "source_file", "source_row"}
REQUIRED_FIELDS = ("title", "description")


def display_name(path: str) -> str:
    """A file name safe to log and store: undecodable bytes (non-UTF-8 names) shown as U+FFFD."""
    return os.fsencode(path).decode("utf-8", errors="replace") if isinstance(path, str) else str(path)


class FileWatermarkConnector(PostingConnector):
    """Shared core of the file connectors: list files under ``path`` matching ``pattern``, skip the ones the
    watermark holds unchanged, read the rest one by one (a bad file is rejected with its reason, the others go
    on), and return the new watermark ``{"files": {relative path: sha256}}``."""

    default_pattern = "*"

    def _files(self) -> tuple[Any, str, list[str]]:
        import fsspec

        path = str(self.spec["path"])
        pattern = str(self.spec.get("pattern") or self.default_pattern)
        if ".." in pattern.replace("\\", "/").split("/") or pattern.startswith("/"):
            raise ValueError(f"source {self.name}: pattern {pattern!r} may not leave the landing folder")
        # storage_options: e.g. {"client_kwargs": {"endpoint_url": ...}} for an S3-compatible store; credentials
        # come from the environment (AWS_ACCESS_KEY_ID...) as fsspec / botocore read them, never from the config
        fs, root = fsspec.core.url_to_fs(path, **dict(self.spec.get("storage_options") or {}))
        fs.invalidate_cache()  # object stores list through a cache: a long-lived worker must see new files
        if not fs.isdir(root):
            raise FileNotFoundError(f"source {self.name}: landing folder {path} does not exist")
        root = root.rstrip("/")
        found = sorted(f for f in fs.glob(posixpath.join(root, pattern)) if fs.isfile(f))
        return fs, root, found

    def _inside(self, fs: Any, root: str, f: str) -> bool:
        """A symlink (or a crafted name) that resolves outside the landing folder is never read."""
        protocols = fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,)
        if "file" not in protocols:
            return True
        real_root = os.path.realpath(root)
        return os.path.commonpath([os.path.realpath(f), real_root]) == real_root

    def fetch(self, since: dict[str, Any] | None) -> FetchResult:
        """Read new and changed files; see the class docstring."""
        fs, root, files = self._files()
        seen: dict[str, str] = dict((since or {}).get("files", {}))
        state = dict(seen)
        frames: list[pd.DataFrame] = []
        rejected: list[dict[str, str]] = []
        skipped = 0
        total = 0
        for f in files:
            rel = display_name(posixpath.relpath(f, root))
            shown = display_name(f)
            if not self._inside(fs, root, f):
                rejected.append({"source_file": shown, "error": "resolves outside the landing folder (symlink or "
                                                                 "path traversal): not read"})
                continue
            try:
                size = fs.size(f)
                if size > MAX_FILE_BYTES:
                    raise ValueError(f"file is {size} bytes, over the {MAX_FILE_BYTES} byte limit")
                with fs.open(f, "rb") as fh:
                    data = fh.read()
            except (OSError, ValueError) as exc:
                rejected.append({"source_file": shown, "error": f"cannot read: {exc}"})
                continue
            digest = hashlib.sha256(data).hexdigest()
            if seen.get(rel) == digest:
                skipped += 1
                continue
            try:
                records, bad = self.read_file(data, shown)
            except ValueError as exc:
                rejected.append({"source_file": shown, "error": str(exc)})
                log.error("source %s: file rejected: %s: %s", self.name, shown, exc)
                continue  # not in the watermark: a fixed file is picked up on the next run
            rejected.extend(bad)
            state[rel] = digest
            if self.limit is not None:
                records = records.head(max(self.limit - total, 0))
            total += len(records)
            frames.append(records)
        records = pd.concat(frames, ignore_index=True) if frames else empty_postings()
        return FetchResult(records=records, watermark={"files": state}, rejected=rejected, skipped_unchanged=skipped)

    def read_file(self, data: bytes, name: str) -> tuple[pd.DataFrame, list[dict[str, str]]]:
        """Canonical records of one file and the records rejected inside it; ``ValueError`` rejects the file."""
        raise NotImplementedError


class LandingFolderConnector(FileWatermarkConnector):
    """Files in a landing folder with a declarative column mapping (``columns``: canonical name -> column).

    Spec keys: ``path`` (a folder or an fsspec URI such as ``s3://bucket/prefix``), ``storage_options``,
    ``pattern``, ``format`` (csv | json | jsonl | parquet; by suffix when absent),
    ``columns``, ``delimiter`` (sniffed when absent), ``encoding`` (detected when absent), ``records_key`` (the
    list inside a JSON object, e.g. ``jobs``), ``posted_at_unit`` (s | ms for epoch numbers),
    ``null_values`` (strings that mean missing, e.g. "-1"), ``company_strip_rating``, ``constants``.
    """

    kind = "landing"

    def _format(self, name: str) -> str:
        fmt = str(self.spec.get("format") or "").lower()
        if fmt:
            return fmt
        suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if suffix in {"csv", "tsv", "txt"}:
            return "csv"
        if suffix in {"json", "jsonl", "ndjson", "parquet"}:
            return "jsonl" if suffix == "ndjson" else suffix
        raise ValueError(f"unknown file format (suffix {suffix!r}); set format: in the source config")

    def read_file(self, data: bytes, name: str) -> tuple[pd.DataFrame, list[dict[str, str]]]:
        """See :meth:`FileWatermarkConnector.read_file`."""
        if not data.strip():
            raise ValueError("empty file (no header, no records)")
        fmt = self._format(name)
        bad: list[dict[str, str]] = []
        if fmt == "csv":
            raw = self._read_csv(data, name)
        elif fmt == "parquet":
            try:
                raw = pd.read_parquet(io.BytesIO(data))
            except Exception as exc:  # pyarrow raises several types for a corrupt file
                raise ValueError(f"not a readable Parquet file ({type(exc).__name__}: {exc})") from exc
            raw = raw.astype(object).where(raw.notna(), None)
        elif fmt in {"json", "jsonl"}:
            raw, bad = self._read_json(data, name, fmt)
        else:
            raise ValueError(f"format {fmt!r} is not one of csv, json, jsonl, parquet")
        return self._map(raw, name, strict=fmt not in {"json", "jsonl"}), bad

    def _read_csv(self, data: bytes, name: str) -> pd.DataFrame:
        text, encoding = decode_bytes(data, self.spec.get("encoding"))
        if encoding.startswith("latin-1"):
            log.warning("source %s: %s is not UTF-8 and no encoding was detected: read as Latin-1", self.name, name)
        delimiter = self.spec.get("delimiter")
        if not delimiter:
            try:
                delimiter = csv.Sniffer().sniff(text[:65536].split("\n", 1)[0] or text[:65536], ",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        # one field may be as large as the file (a 10 MB description): the csv module's default limit is 128 KiB
        csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))
        try:
            raw = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                              na_values=[""] + list(self.spec.get("null_values") or []), engine="python")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            raise ValueError(f"cannot parse CSV (delimiter {delimiter!r}, encoding {encoding}): {exc}") from exc
        raw.columns = [str(c).strip() for c in raw.columns]
        return raw.astype(object).where(raw.notna(), None)

    def _read_json(self, data: bytes, name: str, fmt: str) -> tuple[pd.DataFrame, list[dict[str, str]]]:
        text, _ = decode_bytes(data, self.spec.get("encoding"))
        bad: list[dict[str, str]] = []
        items: list[Any]
        if fmt == "jsonl":
            items = []
            for n, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    items.append((n, json.loads(line)))
                except json.JSONDecodeError as exc:
                    bad.append({"source_file": f"{name}:{n}", "error": f"line {n} is not valid JSON: {exc.msg}"})
        else:
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
            key = self.spec.get("records_key")
            if isinstance(doc, dict) and key:
                doc = doc.get(key)
            elif isinstance(doc, dict):
                lists = [v for v in doc.values() if isinstance(v, list)]
                doc = lists[0] if len(lists) == 1 else doc
            if not isinstance(doc, list):
                raise ValueError("JSON is not a list of records (nor an object holding one list; set records_key)")
            items = list(enumerate(doc, start=1))
        rows = []
        for n, item in items:
            if isinstance(item, dict):
                rows.append({**item, "__row__": n})
            else:
                bad.append({"source_file": f"{name}#{n}", "error": f"record {n} is a {type(item).__name__}, not an "
                                                                   f"object"})
        raw = pd.DataFrame(rows)
        return raw.astype(object).where(raw.notna(), None) if len(raw) else raw, bad

    def _map(self, raw: pd.DataFrame, name: str, strict: bool = True) -> pd.DataFrame:
        columns: dict[str, str] = dict(self.spec.get("columns") or {})
        unknown = set(columns) - CANONICAL_FIELDS
        if unknown:
            raise ValueError(f"source {self.name}: mapping names unknown canonical fields {sorted(unknown)}")
        # a CSV / Parquet header must hold every mapped column; JSON records may omit optional keys
        needed = [c for k, c in columns.items() if strict or k in REQUIRED_FIELDS]
        missing = [c for c in needed if c not in raw.columns]
        if missing and not (not strict and raw.empty):
            shown = ", ".join(map(str, list(raw.columns)[:12]))
            raise ValueError(f"missing mapped columns {missing} (the file has: {shown or 'no columns'})")
        rows = raw.to_dict("records")
        stem = posixpath.basename(name).rsplit(".", 1)[0]
        out = []
        for i, r in enumerate(rows):
            rec: dict[str, Any] = {k: r.get(c) for k, c in columns.items()}
            rec.update(self.spec.get("constants") or {})
            rec["source"] = self.name
            rec["source_file"] = name
            rec["source_row"] = int(r.get("__row__", i + 1))
            if rec.get("native_id") in (None, ""):
                rec["native_id"] = f"{stem}:{i}" if "native_id" not in columns else None
            if self.spec.get("company_strip_rating") and rec.get("company"):
                rec["company"] = str(rec["company"]).split("\n")[0]
            out.append(rec)
        df = to_canonical(out)
        df["remote"] = [_truthy(v) for v in df["remote"]]
        df["posted_at"] = _parse_dates(df["posted_at"], self.spec.get("posted_at_unit"))
        return df


def _truthy(v: Any) -> bool | None:
    if v is None:
        return None
    s = str(v).strip().lower()
    if s in {"1", "1.0", "true", "yes", "y", "remote"}:
        return True
    if s in {"0", "0.0", "false", "no", "n", "onsite", "on-site"}:
        return False
    return None


def _parse_dates(values: pd.Series, unit: str | None) -> pd.Series:
    """Dates in the formats sources use: epoch numbers (``unit``), ISO 8601 with or without zone, "03/15/2026",
    "15 Mar 2026", "March 15, 2026"; an unparseable value becomes missing (never a wrong date)."""
    if pd.api.types.is_datetime64_any_dtype(values):  # a Parquet timestamp column: to_numeric would give ns
        return pd.to_datetime(values, utc=True)
    nums = pd.to_numeric(values, errors="coerce")
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    is_num = nums.notna()
    if is_num.any():
        out[is_num] = pd.to_datetime(nums[is_num], unit=unit or "s", utc=True, errors="coerce")
    rest = values[~is_num & values.notna()]
    if len(rest):
        out[rest.index] = pd.to_datetime(rest.astype(str), utc=True, errors="coerce", format="mixed")
    return out


class HackerNewsConnector(FileWatermarkConnector):
    """Hacker News "Who is hiring?" runs (``{"jobs": [{"id", "time", "text"}]}``, Algolia/Firebase item shape):
    company / location / role / remote / salary parsed from the header line, HTML unescaped and stripped."""

    kind = "hn"
    default_pattern = "*.json"

    def read_file(self, data: bytes, name: str) -> tuple[pd.DataFrame, list[dict[str, str]]]:
        """See :meth:`FileWatermarkConnector.read_file`."""
        from skillmatch.sources.postings import hn_records

        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not valid JSON ({exc})") from exc
        jobs = doc.get("jobs") if isinstance(doc, dict) else doc if isinstance(doc, list) else None
        if not isinstance(jobs, list):
            raise ValueError("expected an object with a 'jobs' list (or a list of items)")
        rows, bad = hn_records(jobs, name, self.name)
        return to_canonical(rows), bad
