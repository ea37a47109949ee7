"""Ingest: read every configured source and append new records to the bronze layer.

Bronze is append-only Parquet partitioned by ingest date (``bronze/<entity>/ingest_date=YYYY-MM-DD/``), one file
per run. A record whose content hash is already in bronze is not appended again, so re-running ingestion over
unchanged sources adds nothing; re-running the same run id replaces that run's own file.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, sha256_file, sha256_text, utcnow, write_parquet_atomic
from skillmatch.sources.postings import CSV_SOURCES, POSTING_COLUMNS, CsvMapping, read_csv_source, read_hn_runs
from skillmatch.sources.resumes import extract_texts, list_resume_files
from skillmatch.sources.synthetic import SYNTHETIC_SOURCE, generate_sample

log = logging.getLogger(__name__)

SYNTHETIC_MAPPING = CsvMapping(
    source=SYNTHETIC_SOURCE, pattern="postings/*.csv", native_id="job_id",
    columns={"title": "title", "company": "company", "location": "location", "description": "description",
             "posted_at": "listed_time"},
    posted_at_unit="ms",
)


def _run_file(settings: Settings, entity: str, run_id: str) -> Path:
    day = utcnow().strftime("%Y-%m-%d")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return settings.lake("bronze", entity, f"ingest_date={day}", f"run={safe}.parquet")


def _existing_hashes(settings: Settings, entity: str, key: str, exclude_run: str) -> set[str]:
    root = settings.lake("bronze", entity)
    if not root.exists():
        return set()
    df = read_parquet(root, columns=[key, "run_id"])
    return set(df.loc[df["run_id"] != exclude_run, key])


def _drop_own_run(settings: Settings, entity: str, run_id: str) -> None:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    for f in settings.lake("bronze", entity).glob(f"ingest_date=*/run={safe}.parquet"):
        f.unlink()


def synthetic_landing(settings: Settings) -> Path:
    """Generate (idempotently) the synthetic sample and return its landing folder."""
    landing = settings.lake("landing", SYNTHETIC_SOURCE)
    generate_sample(landing)
    return landing


def read_all_postings(settings: Settings) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Read every configured postings source; returns (records, file errors)."""
    frames: list[pd.DataFrame] = []
    errors: list[dict[str, str]] = []
    limit = settings.max_postings_per_source
    if settings.source_mode == "synthetic":
        landing = synthetic_landing(settings)
        frames.append(read_csv_source(SYNTHETIC_MAPPING, sorted(landing.glob(SYNTHETIC_MAPPING.pattern)), limit))
        return pd.concat(frames, ignore_index=True), errors
    assert settings.shared_dir is not None
    root = settings.shared_dir / "postings"
    hn_files = sorted((root / "hn-who-is-hiring").glob("*.json"))
    good_hn = []
    for f in hn_files:
        try:
            read_hn_runs([f], limit=1)
            good_hn.append(f)
        except ValueError as exc:
            errors.append({"source_file": str(f), "error": str(exc)})
    frames.append(read_hn_runs(good_hn, limit))
    for mapping in CSV_SOURCES:
        files = sorted(root.glob(mapping.pattern))
        try:
            frames.append(read_csv_source(mapping, files, limit))
        except ValueError as exc:
            errors.append({"source_file": mapping.pattern, "error": str(exc)})
    return pd.concat(frames, ignore_index=True), errors


def posting_record_hash(df: pd.DataFrame) -> pd.Series:
    """Content hash of a raw posting: the same job text from the same source hashes the same."""
    return pd.Series([sha256_text(r.source, r.native_id, r.title, r.company, r.location, r.description,
                                  r.posted_at) for r in df.itertuples()], index=df.index, dtype=object)


def ingest_postings(settings: Settings, run_id: str) -> dict[str, int]:
    """Append new raw postings to bronze; returns counts (read, identical in batch, already in bronze, appended)."""
    df, errors = read_all_postings(settings)
    for e in errors:
        log.error("postings file rejected: %s: %s", e["source_file"], e["error"])
    df = df[POSTING_COLUMNS].copy()
    df["record_hash"] = posting_record_hash(df)
    read = len(df)
    df = df.drop_duplicates("record_hash")
    identical = read - len(df)
    _drop_own_run(settings, "postings", run_id)
    seen = _existing_hashes(settings, "postings", "record_hash", run_id)
    new = df[~df["record_hash"].isin(seen)].copy()
    new["run_id"] = run_id
    new["ingested_at"] = utcnow()
    for c in ["title", "company", "location", "employment_type", "seniority", "salary_text", "description", "url"]:
        new[c] = new[c].astype("string")
    new["remote"] = new["remote"].astype("boolean")
    new["posted_at"] = pd.to_datetime(new["posted_at"], utc=True)
    if len(new):
        write_parquet_atomic(new, _run_file(settings, "postings", run_id))
    counts = {"read": read, "identical_in_batch": identical, "already_in_bronze": len(df) - len(new),
              "appended": len(new), "files_rejected": len(errors)}
    log.info("ingest postings: %s", counts)
    return counts


def ingest_resumes(settings: Settings, run_id: str) -> dict[str, int]:
    """Append new resumes (raw text, bronze only) to bronze; a file already ingested unchanged is skipped."""
    if settings.source_mode == "synthetic":
        root = synthetic_landing(settings) / "resumes"
        source = SYNTHETIC_SOURCE
    else:
        assert settings.shared_dir is not None
        root = settings.shared_dir / "resumes" / "pdf"
        source = "resumes-pdf"
    files = list_resume_files(root, settings.max_resumes)
    _drop_own_run(settings, "resumes", run_id)
    seen = _existing_hashes(settings, "resumes", "record_hash", run_id)
    rel = [str(f.relative_to(root)) for f in files]
    hashes = [sha256_text(source, r, sha256_file(f)) for r, f in zip(rel, files)]
    todo = [i for i, h in enumerate(hashes) if h not in seen]
    texts = extract_texts([files[i] for i in todo])
    rows = []
    for i, (text, pages, error) in zip(todo, texts):
        rows.append({"source": source, "source_file": rel[i], "category": Path(rel[i]).parent.name or None,
                     "record_hash": hashes[i], "raw_text": text, "pages": pages, "parse_error": error,
                     "run_id": run_id, "ingested_at": utcnow()})
    if rows:
        out = pd.DataFrame(rows)
        out["parse_error"] = out["parse_error"].astype("string")
        out["category"] = out["category"].astype("string")
        write_parquet_atomic(out, _run_file(settings, "resumes", run_id))
    counts = {"read": len(files), "already_in_bronze": len(files) - len(todo), "appended": len(rows),
              "parse_errors": sum(1 for r in rows if r["parse_error"])}
    log.info("ingest resumes: %s", counts)
    return counts
