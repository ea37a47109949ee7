"""Ingest: read every configured source and append new records to the bronze layer.

Bronze is append-only Parquet partitioned by ingest date (``bronze/<entity>/ingest_date=YYYY-MM-DD/``), one file
per run and source. A record whose content hash is already in bronze is not appended again, so re-running ingestion over
unchanged sources adds nothing; re-running the same run id replaces that run's own file.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import (read_parquet, remove_tree, safe_name, sha256_file, sha256_text, utcnow,
                             write_parquet_atomic)
from skillmatch.sources.base import POSTING_COLUMNS
from skillmatch.sources.normalize import canonical_postings
from skillmatch.sources.registry import (
    build_connector,
    load_sources,
    load_watermark,
    posting_source,
    save_watermark,
)
from skillmatch.sources.resumes import document_date, extract_texts, list_resume_files

log = logging.getLogger(__name__)

RECONCILIATION_COLUMNS = ["run_id", "stage", "entity", "source", "fetched", "bronze_new", "already_seen",
                          "rejected", "bronze", "silver", "quarantine", "duplicates", "holds", "details",
                          "checked_at"]
RESUME_COLUMNS = ["source", "source_file", "category", "record_hash", "raw_text", "pages", "parse_error",
                  "document_date", "run_id", "ingested_at"]
REJECT_COLUMNS = ["entity", "source", "source_file", "error", "run_id", "rejected_at"]


def _run_file(settings: Settings, entity: str, run_id: str, source: str) -> Path:
    day = utcnow().strftime("%Y-%m-%d")
    return settings.lake("bronze", entity, f"ingest_date={day}", f"run={safe_name(run_id)}__{safe_name(source)}.parquet")


def _own_files(settings: Settings, entity: str, run_id: str, source: str) -> list[Path]:
    root = settings.lake("bronze", entity)
    return sorted(root.glob(f"ingest_date=*/run={safe_name(run_id)}__{safe_name(source)}.parquet")) if root.exists() else []


def _existing_hashes(settings: Settings, entity: str, source: str, exclude: list[Path]) -> set[str]:
    """The record hashes bronze holds for ``source`` (but in ``exclude``). A record hash starts from its source,
    so only the source's own files can hold one: reading just those keeps the cost to one source's history, and
    a parallel task rewriting another source's file can never pull a file from under this one."""
    root = settings.lake("bronze", entity)
    if not root.exists():
        return set()
    skip = {str(p) for p in exclude}
    files = [f for f in root.glob(f"ingest_date=*/run=*__{safe_name(source)}.parquet")
             if not f.name.startswith(".") and str(f) not in skip]
    if not files:
        return set()
    return set(pd.concat([read_parquet(f, columns=["record_hash"]) for f in files])["record_hash"])


def _read_own(own: list[Path]) -> pd.DataFrame | None:
    return pd.concat([read_parquet(f) for f in own], ignore_index=True) if own else None


def _replace_own(settings: Settings, entity: str, run_id: str, source: str, own: list[Path],
                 kept: pd.DataFrame | None, new: pd.DataFrame) -> int:
    """Write this run's bronze file for ``source`` (rows it kept from before + the new ones, in one atomic
    write) in place of its earlier files; returns how many new rows the written file holds."""
    rows = new if kept is None or kept.empty else pd.concat([kept[new.columns], new], ignore_index=True)
    target = _run_file(settings, entity, run_id, source)
    written = 0
    if len(rows):
        path = write_parquet_atomic(rows, target)
        written = len(read_parquet(path, columns=["record_hash"])) - (0 if kept is None else len(kept))
    for f in own:
        if str(f) != str(target) or not len(rows):
            f.unlink()
    return written


def write_reconciliation(settings: Settings, row: dict[str, Any]) -> pd.DataFrame:
    """Store one reconciliation record (``dq_reconciliation``); a re-run of the same run replaces its own."""
    rec = pd.DataFrame([{c: row.get(c) for c in RECONCILIATION_COLUMNS}])
    rec["checked_at"] = utcnow()
    for c in ["fetched", "bronze_new", "already_seen", "rejected", "bronze", "silver", "quarantine", "duplicates"]:
        rec[c] = rec[c].astype("Int64")
    rec["holds"] = rec["holds"].astype(bool)
    name = f"{row['stage']}__{row['entity']}__{safe_name(str(row['source']))}__{safe_name(row['run_id'])}.parquet"
    write_parquet_atomic(rec[RECONCILIATION_COLUMNS], settings.lake("dq", "dq_reconciliation", name))
    return rec


def _write_rejects(settings: Settings, entity: str, source: str, run_id: str, rejected: list[dict[str, str]]) -> None:
    """Files and records rejected whole at ingest, with the reason, in ``quarantine/ingest_rejects``."""
    out = settings.lake("quarantine", "ingest_rejects", f"{entity}__{safe_name(source)}__{safe_name(run_id)}.parquet")
    if not rejected:
        out.unlink(missing_ok=True)
        return
    df = pd.DataFrame([{"entity": entity, "source": source, "source_file": r["source_file"], "error": r["error"],
                        "run_id": run_id, "rejected_at": utcnow()} for r in rejected], columns=REJECT_COLUMNS)
    write_parquet_atomic(df, out)


def posting_record_hash(df: pd.DataFrame) -> pd.Series:
    """Content hash of a raw posting: the same job text from the same source hashes the same."""
    return pd.Series([sha256_text(r.source, r.native_id, r.title, r.company, r.location, r.description,
                                  r.posted_at) for r in df.itertuples()], index=df.index, dtype=object)


def posting_source_names(settings: Settings) -> list[str]:
    """The enabled postings sources, in config order (the ingest DAG maps one task over them)."""
    return [s.name for s in load_sources(settings, "postings")]


def ingest_postings(settings: Settings, run_id: str, source: str | None = None) -> dict[str, Any]:
    """Ingest one configured postings source (or, with ``source=None``, each in turn); returns the counts.

    Per source: fetch what is new since its watermark, normalise to the canonical schema, append to bronze what
    bronze does not hold yet (by content hash), quarantine what was rejected whole, check
    ``fetched = bronze new + already seen`` (``dq_reconciliation``; the task fails when it does not hold), and
    only then move the watermark.
    """
    if source is None:
        per = {name: ingest_postings(settings, run_id, name) for name in posting_source_names(settings)}
        keys = ["read", "identical_in_batch", "already_in_bronze", "appended", "files_rejected", "files_unchanged"]
        return {k: sum(int(c[k]) for c in per.values()) for k in keys} | {"sources": len(per)}
    spec = posting_source(settings, source)
    connector = build_connector(spec, limit=settings.max_postings_per_source)
    own = _own_files(settings, "postings", run_id, source)
    since, rerun = load_watermark(settings, source, run_id)
    # a re-run of the latest run replaces its own file; an older run id run again keeps what it wrote then
    kept = _read_own(own) if not rerun else None
    result = connector.fetch(since)
    for r in result.rejected:
        log.error("source %s: rejected %s: %s", source, r["source_file"], r["error"])
    df = canonical_postings(result.records)
    df["record_hash"] = posting_record_hash(df)
    fetched = len(df)
    df = df.drop_duplicates("record_hash")
    identical = fetched - len(df)
    seen = _existing_hashes(settings, "postings", source, exclude=own)
    if kept is not None:
        seen |= set(kept["record_hash"])
    new = df[~df["record_hash"].isin(seen)].copy()
    new["run_id"] = run_id
    new["ingested_at"] = utcnow()
    new["fetched_at"] = new["ingested_at"]
    cols = [*POSTING_COLUMNS, "record_hash", "run_id", "ingested_at", "fetched_at"]
    written = _replace_own(settings, "postings", run_id, source, own, kept, new[cols])
    _write_rejects(settings, "postings", source, run_id, result.rejected)
    already = fetched - len(new)
    holds = fetched == written + already
    write_reconciliation(settings, {
        "run_id": run_id, "stage": "ingest", "entity": "postings", "source": source, "fetched": fetched,
        "bronze_new": written, "already_seen": already, "rejected": len(result.rejected), "holds": holds,
        "details": f"fetched={fetched} bronze_new={written} already_seen={already} (identical in batch "
                   f"{identical}) rejected={len(result.rejected)} files_unchanged={result.skipped_unchanged}"})
    if not holds:
        raise AssertionError(f"ingest {source}: fetched {fetched} != bronze new {written} + already seen {already}")
    save_watermark(settings, source, run_id, result.watermark)
    counts = {"read": fetched, "identical_in_batch": identical, "already_in_bronze": len(df) - len(new),
              "appended": written, "files_rejected": len(result.rejected),
              "files_unchanged": result.skipped_unchanged}
    log.info("ingest postings: %s", {"source": source, **counts})
    return counts


@dataclass
class _ResumeBatch:
    source: str
    root: Path
    files: list[Path]
    rejected: list[dict[str, str]]
    own: list[Path]
    rel: list[str]
    hashes: list[str]
    todo: list[int]  # indexes into files of those not in bronze yet


def _resume_batches(settings: Settings, run_id: str) -> list[_ResumeBatch]:
    """Per configured resume folder: its files, those rejected unread, and those bronze does not hold yet."""
    from skillmatch.sources.landing import display_name

    out = []
    for spec in load_sources(settings, "resumes"):
        source = spec.name
        root = Path(spec.spec["path"])
        if not root.is_dir():
            raise FileNotFoundError(f"resume source {source}: folder {root} does not exist")
        real_root = root.resolve()
        files, rejected = [], []
        for f in list_resume_files(root, settings.max_resumes):
            if not f.resolve().is_relative_to(real_root):
                rejected.append({"source_file": display_name(str(f)),
                                 "error": "resolves outside the resume folder (symlink or path traversal): not read"})
            else:
                files.append(f)
        own = _own_files(settings, "resumes", run_id, source)
        seen = _existing_hashes(settings, "resumes", source, exclude=own)
        # resumes have no watermark file: bronze itself (path + bytes) is the watermark, so a re-run replaces
        # its own file and skips what other runs hold
        rel = [display_name(str(f.relative_to(root))) for f in files]
        hashes = [sha256_text(source, r, sha256_file(f)) for r, f in zip(rel, files)]
        todo = [i for i, h in enumerate(hashes) if h not in seen]
        out.append(_ResumeBatch(source, root, files, rejected, own, rel, hashes, todo))
    return out


PARSED_COLUMNS = ["record_hash", "raw_text", "pages", "parse_error", "document_date"]


def _parse_folder(settings: Settings, run_id: str):  # noqa: ANN202 - Path or UPath
    return settings.lake("staging", "resume_parse", safe_name(run_id))


def _parse(files: list[Path], hashes: list[str]) -> pd.DataFrame:
    """Text, pages, parse error and document date of each file (the costly part of resume ingestion)."""
    rows = [{"record_hash": h, "raw_text": text, "pages": pages, "parse_error": error,
             "document_date": None if error else document_date(f)}
            for f, h, (text, pages, error) in zip(files, hashes, extract_texts(files))]
    out = pd.DataFrame(rows, columns=PARSED_COLUMNS)
    out["parse_error"] = out["parse_error"].astype("string")
    out["document_date"] = pd.to_datetime(out["document_date"]).astype("datetime64[ms]")
    return out


def plan_resume_parsing(settings: Settings, run_id: str, shard_files: int) -> dict[str, int]:
    """Split the resume files this run must parse (new or changed, every folder) into shards of about
    ``shard_files`` (at least one) and record the plan in the lake; :func:`parse_resumes_shard` parses one shard,
    :func:`ingest_resumes` then takes the parsed texts from the shards instead of parsing again."""
    rows = [(b.source, str(b.files[i]), b.hashes[i]) for b in _resume_batches(settings, run_id) for i in b.todo]
    plan = pd.DataFrame(rows, columns=["source", "path", "record_hash"])
    shards = max(1, math.ceil(len(plan) / max(1, shard_files)))
    plan["shard"] = [i % shards for i in range(len(plan))]
    folder = _parse_folder(settings, run_id)
    remove_tree(folder)  # parts of an earlier try of this run
    write_parquet_atomic(plan, folder / "plan.parquet")
    log.info("resume parsing: %d files to parse in %d shard(s) of at most %d", len(plan), shards,
             math.ceil(len(plan) / shards) if len(plan) else 0)
    return {"to_parse": len(plan), "shards": shards, "shard_files": shard_files}


def parse_resumes_shard(settings: Settings, run_id: str, shard: int) -> dict[str, int]:
    """Parse the files of shard ``shard`` of the run's plan into ``staging/resume_parse/<run>/``."""
    folder = _parse_folder(settings, run_id)
    if not (folder / "plan.parquet").exists():
        raise FileNotFoundError(f"no resume parsing plan for run {run_id} ({folder}): run the plan task first")
    plan = read_parquet(folder / "plan.parquet")
    part = plan[plan["shard"] == shard]
    parsed = _parse([Path(p) for p in part["path"]], list(part["record_hash"]))
    write_parquet_atomic(parsed, folder / f"part-{shard:05d}.parquet")
    errors = int(parsed["parse_error"].notna().sum())
    log.info("resume parsing shard %d: %d files, %d parse errors", shard, len(parsed), errors)
    return {"files": len(parsed), "parse_errors": errors, "shard": shard}


def _parsed_by_shards(settings: Settings, run_id: str) -> pd.DataFrame:
    folder = _parse_folder(settings, run_id)
    parts = sorted(folder.glob("part-*.parquet")) if folder.exists() else []
    return pd.concat([read_parquet(p) for p in parts], ignore_index=True) if parts else pd.DataFrame(
        columns=PARSED_COLUMNS)


def ingest_resumes(settings: Settings, run_id: str) -> dict[str, int]:
    """Append new resumes (raw text, bronze only) from every configured resume folder to bronze.

    A file already ingested unchanged (same source, path and bytes) is skipped; a file that cannot be parsed
    lands in bronze with its ``parse_error`` (validation quarantines it) and never stops the batch; a file that
    resolves outside its folder (symlink) is rejected. Counts reconcile per source:
    ``fetched = bronze new + already seen`` (``dq_reconciliation``). Texts the run's parsing shards already
    parsed (:func:`plan_resume_parsing`) are taken from them; any other file is parsed here.
    """
    totals = {"read": 0, "already_in_bronze": 0, "appended": 0, "parse_errors": 0, "files_rejected": 0,
              "parsed_by_shards": 0}
    parsed = _parsed_by_shards(settings, run_id).drop_duplicates("record_hash").set_index("record_hash")
    for b in _resume_batches(settings, run_id):
        source, files, rejected, own, rel, hashes, todo = (b.source, b.files, b.rejected, b.own, b.rel, b.hashes,
                                                           b.todo)
        ready = [i for i in todo if hashes[i] in parsed.index]
        rest = [i for i in todo if hashes[i] not in parsed.index]
        texts = pd.concat([parsed.loc[[hashes[i] for i in ready]].reset_index(),
                           _parse([files[i] for i in rest], [hashes[i] for i in rest])], ignore_index=True)
        texts = texts.set_index("record_hash").loc[[hashes[i] for i in todo]].reset_index()
        out = pd.DataFrame({"source": source, "source_file": [rel[i] for i in todo],
                            "category": pd.array([Path(rel[i]).parent.name or None for i in todo], dtype="string"),
                            "record_hash": texts["record_hash"], "raw_text": texts["raw_text"],
                            "pages": texts["pages"], "parse_error": texts["parse_error"].astype("string"),
                            "document_date": pd.to_datetime(texts["document_date"]).astype("datetime64[ms]"),
                            "run_id": run_id, "ingested_at": utcnow()}, columns=RESUME_COLUMNS)
        rows = out.to_dict("records")
        written = _replace_own(settings, "resumes", run_id, source, own, None, out)
        _write_rejects(settings, "resumes", source, run_id, rejected)
        already = len(files) - len(todo)
        holds = len(files) == written + already
        write_reconciliation(settings, {
            "run_id": run_id, "stage": "ingest", "entity": "resumes", "source": source, "fetched": len(files),
            "bronze_new": written, "already_seen": already, "rejected": len(rejected), "holds": holds,
            "details": f"fetched={len(files)} bronze_new={written} already_seen={already} rejected={len(rejected)}"})
        if not holds:
            raise AssertionError(f"ingest {source}: fetched {len(files)} != bronze new {written} + already seen {already}")
        parse_errors = int(out["parse_error"].notna().sum())
        for r in rows:
            if not pd.isna(r["parse_error"]):
                log.warning("resume %s/%s: %s (goes to quarantine)", source, r["source_file"], r["parse_error"])
        for k, v in {"read": len(files), "already_in_bronze": already, "appended": written,
                     "parse_errors": parse_errors, "files_rejected": len(rejected),
                     "parsed_by_shards": len(ready)}.items():
            totals[k] += v
    remove_tree(_parse_folder(settings, run_id))
    log.info("ingest resumes: %s", totals)
    return totals
