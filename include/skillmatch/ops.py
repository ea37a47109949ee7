"""Run bookkeeping a data team can watch: the ``pipeline_run`` records and ``skillmatch status``.

Every stage an Airflow task runs (``orchestration.run_stage``) leaves one record in the lake
(``ops/pipeline_run/<run>__<stage>.parquet``; a retry replaces its attempt's record): DAG, stage, start / end,
status and error, rows in and out, all counts, the promoted tagger and the taxonomy release. The marts publish
them as ``pipeline_run``; ``skillmatch status`` reads them with the marts' freshness, the failing checks and the
models the extraction serves (:func:`model_status`).
"""
from __future__ import annotations

import json
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import modified_at, read_parquet, safe_name, utcnow, write_parquet_atomic

STAGE_DAG = {"taxonomy": "skillmatch_ingest", "ingest_postings": "skillmatch_ingest",
             "plan_resume_parsing": "skillmatch_ingest", "parse_resumes_shard": "skillmatch_ingest",
             "ingest_resumes": "skillmatch_ingest", "validate_postings": "skillmatch_validate",
             "validate_resumes": "skillmatch_validate", "extract_postings": "skillmatch_extract",
             "extract_resumes": "skillmatch_extract", "plan_extract_postings": "skillmatch_extract",
             "plan_extract_resumes": "skillmatch_extract", "extract_postings_shard": "skillmatch_extract",
             "extract_resumes_shard": "skillmatch_extract", "plan_match": "skillmatch_match",
             "match_shard": "skillmatch_match", "match": "skillmatch_match", "paths": "skillmatch_match",
             "marts": "skillmatch_marts", "train_tagger": "skillmatch_train_tagger",
             "train_linker": "skillmatch_train_linker"}
# (count read in, count written out) per stage, from the counts the stage returns
STAGE_ROWS: dict[str, tuple[str | None, str | None]] = {
    "taxonomy": (None, "skills"), "ingest_postings": ("read", "appended"), "ingest_resumes": ("read", "appended"),
    "plan_resume_parsing": (None, "to_parse"), "parse_resumes_shard": ("files", "files"),
    "validate_postings": ("bronze", "silver"), "validate_resumes": ("bronze", "silver"),
    "extract_postings": ("documents", "skill_rows"), "extract_resumes": ("documents", "skill_rows"),
    "plan_extract_postings": ("documents", "to_extract"), "plan_extract_resumes": ("documents", "to_extract"),
    "extract_postings_shard": ("documents", "skill_rows"), "extract_resumes_shard": ("documents", "skill_rows"),
    "plan_match": ("candidates", "shards"), "match_shard": ("candidates", "match_rows"),
    "match": ("candidates", "match_rows"), "paths": ("candidates", "steps"), "marts": (None, "rows"),
    "train_tagger": (None, None), "train_linker": (None, None)}
PIPELINE_RUN_COLUMNS = ["run_id", "dag_id", "stage", "started_at", "ended_at", "seconds", "status", "error",
                        "rows_in", "rows_out", "counts", "tagger_version", "taxonomy_version", "host"]


def _rows(stage: str, counts: dict[str, Any]) -> tuple[int | None, int | None]:
    stage = stage.split("[", 1)[0]  # "ingest_postings[hn-who-is-hiring]": one mapped task's part
    c = dict(counts)
    if stage.startswith("validate_"):
        c["bronze"] = sum(int(c.get(k, 0)) for k in ("silver", "quarantine", "duplicates"))
    if stage == "marts":
        c["rows"] = sum(v for v in counts.values() if isinstance(v, int))
    key_in, key_out = STAGE_ROWS.get(stage, (None, None))

    def get(key: str | None) -> int | None:
        v = c.get(key) if key else None
        return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return get(key_in), get(key_out)


def _versions(settings: Settings) -> tuple[str | None, str | None]:
    from skillmatch.extraction.tagger import promoted_version

    rec = promoted_version(settings.model_dir, settings.tagger_base)
    tagger = str(rec["version"]) if rec else None
    taxonomy = None
    dim = settings.lake("taxonomy", "dim_skill.parquet")
    if dim.exists():
        col = read_parquet(dim, columns=["taxonomy_version"])["taxonomy_version"]
        taxonomy = str(col.iloc[0]) if len(col) else None
    return tagger, taxonomy


def record_stage(settings: Settings, stage: str, run_id: str, started: datetime, status: str,
                 counts: dict[str, Any] | None = None, error: str | None = None) -> pd.DataFrame:
    """Write (or replace) the record of one stage of one run."""
    ended = utcnow()
    rows_in, rows_out = _rows(stage, counts or {})
    tagger, taxonomy = _versions(settings)
    rec = pd.DataFrame([{
        "run_id": run_id, "dag_id": STAGE_DAG.get(stage.split("[", 1)[0], "?"), "stage": stage, "started_at": started,
        "ended_at": ended, "seconds": round((ended - started).total_seconds(), 3), "status": status,
        "error": error, "rows_in": rows_in, "rows_out": rows_out,
        "counts": json.dumps(counts or {}, default=str, sort_keys=True), "tagger_version": tagger,
        "taxonomy_version": taxonomy, "host": socket.gethostname()}])
    for c in ("rows_in", "rows_out"):
        rec[c] = rec[c].astype("Int64")
    write_parquet_atomic(rec[PIPELINE_RUN_COLUMNS],
                         settings.lake("ops", "pipeline_run", f"{safe_name(run_id)}__{safe_name(stage)}.parquet"))
    return rec


def pipeline_runs(settings: Settings) -> pd.DataFrame:
    folder = settings.lake("ops", "pipeline_run")
    df = read_parquet(folder) if folder.exists() else pd.DataFrame(columns=PIPELINE_RUN_COLUMNS)
    if df.empty:
        return pd.DataFrame(columns=PIPELINE_RUN_COLUMNS)
    return df[PIPELINE_RUN_COLUMNS].sort_values("started_at").reset_index(drop=True)


def status_report(settings: Settings, stale_hours: float) -> tuple[dict[str, Any], int]:
    """(report, exit code): the last run of each DAG, each mart's age, the checks of the latest validation runs
    that failed. Exit 1 when the marts are missing or older than ``stale_hours``, when a DAG's last stage
    failed, or when the latest validation's counts do not reconcile."""
    now = utcnow()
    problems: list[str] = []
    runs = pipeline_runs(settings)
    last_runs = []
    for dag_id, g in runs.groupby("dag_id"):
        last = g[g["run_id"] == g.iloc[-1]["run_id"]]
        failed = last[last["status"] != "success"]
        last_runs.append({"dag_id": dag_id, "run_id": last.iloc[-1]["run_id"],
                          "ended_at": pd.Timestamp(last["ended_at"].max()).isoformat(),
                          "status": "failed" if len(failed) else "success",
                          "stages": {r.stage: r.status for r in last.itertuples()}})
        if len(failed):
            problems.append(f"{dag_id}: last run {last.iloc[-1]['run_id']} failed in "
                            f"{', '.join(failed['stage'])}: {failed.iloc[-1]['error']}")
    marts = {}
    folder = settings.lake("marts")
    # one file per mart, or a partitioned dataset folder (a link to its current version; hidden entries are
    # versions and temporary files)
    files = sorted(p for p in folder.iterdir() if not p.name.startswith(".")
                   and (p.suffix == ".parquet" or p.is_dir())) if folder.exists() else []
    for f in files:
        age_h = (now - datetime.fromtimestamp(modified_at(f), tz=now.tzinfo)).total_seconds() / 3600
        marts[f.stem] = round(age_h, 2)
    if not files:
        problems.append(f"no marts under {folder}: the nightly refresh has not run")
    elif max(marts.values()) > stale_hours:
        stale = sorted(k for k, v in marts.items() if v > stale_hours)
        problems.append(f"stale marts (older than {stale_hours:g} h): {', '.join(stale)}")
    failing = []
    dq_folder = settings.lake("dq", "dq_check_result")
    if dq_folder.exists():
        dq = read_parquet(dq_folder)
        if len(dq):
            latest = dq.sort_values("checked_at").groupby("entity").tail(1)[["entity", "run_id"]]
            cur = dq.merge(latest, on=["entity", "run_id"])
            bad = cur[~cur["success"].astype(bool)]
            failing = [f"{r.entity}: {r.check_name}({r.column_name}) {r.unexpected_count} unexpected"
                       for r in bad.itertuples()]
            # an expectation that fails sends its rows to quarantine (by design); counts that do not reconcile
            # mean records were lost or duplicated
            lost = bad[bad["check_name"].astype(str).str.startswith("reconcile_counts")]
            if len(lost):
                problems.append(f"counts do not reconcile: {', '.join(lost['check_name'].astype(str))}")
    report = {"checked_at": now.isoformat(timespec="seconds"), "stale_after_hours": stale_hours,
              "last_runs": last_runs, "mart_age_hours": marts, "failing_checks": failing,
              "models": model_status(settings.model_dir, settings.tagger_base), "problems": problems,
              "healthy": not problems}
    return report, 0 if not problems else 1


def model_status(model_dir: Path, tagger_base: str) -> dict[str, Any]:
    """The promoted span tagger (the one promoted from ``tagger_base``, which extraction serves) and sentence linker
    (their promotion records, or None), and for each the newest trained model when it is not the promoted one, with
    the gate's verdict on it: a weekly retrain the gate refused is normal (the promoted model keeps serving), but
    the team should see that it happened and why."""
    from skillmatch.extraction.linker import promoted_linker
    from skillmatch.extraction.tagger import GATE_FILE, promoted_version, trained_models

    out: dict[str, Any] = {}
    for kind, record, base in (("tagger", promoted_version(model_dir, tagger_base), tagger_base),
                               ("linker", promoted_linker(model_dir), None)):
        trained = trained_models(model_dir, kind, base)
        entry: dict[str, Any] = {"promoted": record}
        if trained and (record is None or trained[-1].name != record["version"]):
            verdict = trained[-1] / GATE_FILE
            entry["newest_not_promoted"] = {"version": trained[-1].name, **(
                json.loads(verdict.read_text()) if verdict.exists() else {"reason": "no verdict recorded by the gate"})}
        out[kind] = entry
    return out


STALE_HOURS = 26.0  # a nightly refresh plus two hours of slack
