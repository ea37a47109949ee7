"""Validate: bronze -> silver + quarantine + duplicates, with Great Expectations Core suites per entity.

Row-level failures come from GX's COMPLETE result format (unexpected row indices per expectation), so every
quarantined row carries the names of the expectations it broke. Counts reconcile per source:
``bronze = silver + quarantine + duplicates``; the reconciliation itself is written as a dq check.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, sha256_text, utcnow, write_parquet_atomic
from skillmatch.validation.pii import candidate_id, pseudonym_key, redact_contacts

log = logging.getLogger(__name__)

DQ_COLUMNS = ["run_id", "entity", "check_name", "column_name", "success", "element_count", "unexpected_count",
              "unexpected_percent", "details", "checked_at"]


@dataclass(frozen=True)
class Check:
    """One expectation of a suite: GX expectation class name and its arguments."""

    expectation: str
    kwargs: dict[str, object]

    @property
    def name(self) -> str:
        col = self.kwargs.get("column", "")
        return f"{self.expectation}({col})"


def posting_suite(settings: Settings) -> list[Check]:
    """The postings suite: required fields, non-empty text, length bounds, unique ids, sane dates."""
    now = utcnow()
    return [
        Check("ExpectColumnValuesToNotBeNull", {"column": "posting_id"}),
        Check("ExpectColumnValuesToBeUnique", {"column": "posting_id"}),
        Check("ExpectColumnValuesToNotBeNull", {"column": "title"}),
        Check("ExpectColumnValueLengthsToBeBetween", {"column": "title", "min_value": 2, "max_value": 300}),
        Check("ExpectColumnValuesToNotBeNull", {"column": "description"}),
        Check("ExpectColumnValueLengthsToBeBetween", {"column": "description", "min_value": 80, "max_value": 100_000}),
        Check("ExpectColumnValuesToBeBetween", {
            "column": "posted_at", "min_value": now - timedelta(days=settings.max_posting_age_days),
            "max_value": now + timedelta(days=1)}),
    ]


def resume_suite() -> list[Check]:
    """The resumes suite: a readable file, enough text, unique pseudonymous ids."""
    return [
        Check("ExpectColumnValuesToNotBeNull", {"column": "candidate_id"}),
        Check("ExpectColumnValuesToBeUnique", {"column": "candidate_id"}),
        Check("ExpectColumnValuesToBeNull", {"column": "parse_error"}),
        Check("ExpectColumnValueLengthsToBeBetween", {"column": "text", "min_value": 200, "max_value": 200_000}),
    ]


def run_suite(df: pd.DataFrame, entity: str, checks: list[Check]) -> tuple[dict[int, list[str]], list[dict[str, object]]]:
    """Run ``checks`` on ``df`` with GX Core; returns (row position -> failed check names, one result per check)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # progress bars are cosmetic; older/newer GX may lack the knob
        pass
    frame = df.reset_index(drop=True)
    # GX's pandas metrics treat pd.NA inconsistently (NotBeNull misses it); hand it plain objects and None
    frame = frame.astype(object).where(frame.notna(), None)
    batch = (ctx.data_sources.add_pandas(f"{entity}_src").add_dataframe_asset(entity)
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    suite = gx.ExpectationSuite(name=f"{entity}_suite")
    for c in checks:
        suite.add_expectation(getattr(gx.expectations, c.expectation)(**c.kwargs))
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    failures: dict[int, list[str]] = {}
    results: list[dict[str, object]] = []
    # GX does not keep suite order in its results: pair them by (expectation type, column)
    by_key = {(res.expectation_config.type, res.expectation_config.kwargs.get("column")): res
              for res in result.results}
    for check in checks:
        res = by_key[(re.sub(r"(?<!^)(?=[A-Z])", "_", check.expectation).lower(), check.kwargs.get("column"))]
        info = res.exception_info or {}
        raised = [v for v in [info, *info.values()] if isinstance(v, dict) and v.get("raised_exception")]
        if raised:
            raise RuntimeError(f"{entity}: expectation {check.name} could not run: {raised[0].get('exception_message')}")
        r = res.result or {}
        for i in r.get("unexpected_index_list") or []:
            pos = i if isinstance(i, int) else int(next(iter(i.values()))) if isinstance(i, dict) else int(i)
            failures.setdefault(pos, []).append(check.name)
        results.append({"check_name": check.name, "column_name": check.kwargs.get("column"),
                        "success": bool(res.success), "element_count": int(r.get("element_count") or len(frame)),
                        "unexpected_count": int(r.get("unexpected_count") or 0),
                        "unexpected_percent": float(r.get("unexpected_percent") or 0.0), "details": None})
    return failures, results


def _norm(s: object) -> str:
    return "" if s is None or pd.isna(s) else re.sub(r"\s+", " ", str(s)).strip().lower()


def _split(df: pd.DataFrame, id_col: str, content_cols: list[str], checks: list[Check], entity: str
           ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[dict[str, object]]]:
    """Shared core: drop duplicates (same id keeps the newest; same content keeps the first), run the suite."""
    df = df.sort_values(["ingested_at", id_col], ascending=[False, True], kind="stable").reset_index(drop=True)
    df["content_key"] = [sha256_text(*(_norm(v) for v in row)) for row in df[content_cols].itertuples(index=False)]
    dup_id = df[id_col].notna() & df.duplicated(id_col)
    dup_content = ~dup_id & df.duplicated("content_key") & ~df[id_col].isna()
    first_by_content = df[~dup_id].drop_duplicates("content_key").set_index("content_key")[id_col]
    dups = df[dup_id | dup_content].copy()
    dups["duplicate_of"] = [r[id_col] if d else first_by_content.get(r["content_key"])
                            for d, (_, r) in zip(dup_id[dup_id | dup_content], dups.iterrows())]
    dups["duplicate_kind"] = ["same_id" if d else "same_content" for d in dup_id[dup_id | dup_content]]
    kept = df[~(dup_id | dup_content)].reset_index(drop=True)
    failures, results = run_suite(kept, entity, checks)
    bad = kept.index.isin(list(failures))
    quarantine = kept[bad].copy()
    quarantine["reason"] = ["; ".join(failures[i]) for i in kept.index[bad]]
    silver = kept[~bad].reset_index(drop=True)
    return silver, quarantine.reset_index(drop=True), dups.reset_index(drop=True), results


def _reconcile(bronze: pd.DataFrame, parts: dict[str, pd.DataFrame], entity: str) -> list[dict[str, object]]:
    out = []
    for source, n in bronze.groupby("source").size().items():
        got = {k: int((v["source"] == source).sum()) if len(v) else 0 for k, v in parts.items()}
        ok = n == sum(got.values())
        out.append({"check_name": f"reconcile_counts({source})", "column_name": None, "success": ok,
                    "element_count": int(n), "unexpected_count": int(n - sum(got.values())),
                    "unexpected_percent": 0.0 if ok else 100.0,
                    "details": f"bronze={n} silver={got['silver']} quarantine={got['quarantine']} "
                               f"duplicates={got['duplicates']}"})
        if not ok:
            raise AssertionError(f"{entity}: counts do not reconcile for {source}: {out[-1]['details']}")
    return out


def _write(settings: Settings, entity: str, run_id: str, silver: pd.DataFrame, quarantine: pd.DataFrame,
           dups: pd.DataFrame, results: list[dict[str, object]]) -> dict[str, int]:
    write_parquet_atomic(silver, settings.lake("silver", f"{entity}.parquet"))
    write_parquet_atomic(quarantine, settings.lake("quarantine", f"{entity}.parquet"))
    write_parquet_atomic(dups, settings.lake("silver", f"{entity}_duplicates.parquet"))
    dq = pd.DataFrame(results)
    dq.insert(0, "entity", entity)
    dq.insert(0, "run_id", run_id)
    dq["checked_at"] = utcnow()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    write_parquet_atomic(dq[DQ_COLUMNS], settings.lake("dq", "dq_check_result", f"{entity}__{safe}.parquet"))
    counts = {"silver": len(silver), "quarantine": len(quarantine), "duplicates": len(dups),
              "checks_failed": int((~dq["success"]).sum())}
    log.info("validate %s: %s", entity, counts)
    return counts


def validate_postings(settings: Settings, run_id: str) -> dict[str, int]:
    """Bronze postings -> silver/quarantine/duplicates; PII-redacted text; dq results for this run."""
    bronze = read_parquet(settings.lake("bronze", "postings"))
    if bronze.empty:
        raise ValueError("bronze postings are empty: run ingest first")
    df = bronze.drop(columns=[c for c in ["ingest_date"] if c in bronze.columns]).copy()
    df["posting_id"] = df["source"].astype(str) + ":" + df["native_id"].astype(str)
    df.loc[df["native_id"].isna() | (df["native_id"].astype(str).str.strip() == ""), "posting_id"] = None
    df["description"] = df["description"].map(lambda t: None if t is None or pd.isna(t) else redact_contacts(str(t)))
    df["title"] = df["title"].map(lambda t: None if t is None or pd.isna(t) or not str(t).strip() else str(t).strip())
    silver, quarantine, dups, results = _split(df, "posting_id", ["title", "company", "description"],
                                               posting_suite(settings), "postings")
    silver["text"] = silver["title"].astype(str) + "\n" + silver["description"].astype(str)
    results += _reconcile(bronze, {"silver": silver, "quarantine": quarantine, "duplicates": dups}, "postings")
    return _write(settings, "postings", run_id, silver, quarantine, dups, results)


def validate_resumes(settings: Settings, run_id: str) -> dict[str, int]:
    """Bronze resumes -> silver (redacted text, pseudonymous ids only) / quarantine / duplicates."""
    bronze = read_parquet(settings.lake("bronze", "resumes"))
    if bronze.empty:
        raise ValueError("bronze resumes are empty: run ingest first")
    key = pseudonym_key(settings.data_dir)
    df = bronze.drop(columns=[c for c in ["ingest_date"] if c in bronze.columns]).copy()
    df["candidate_id"] = [candidate_id(key, s, f) for s, f in zip(df["source"], df["source_file"])]
    df["text"] = df["raw_text"].map(lambda t: redact_contacts(str(t or "")))
    # raw text and the file path stay in bronze: silver and everything downstream carry the pseudonym only
    df = df.drop(columns=["raw_text", "source_file"])
    silver, quarantine, dups, results = _split(df, "candidate_id", ["text"], resume_suite(), "resumes")
    results += _reconcile(bronze, {"silver": silver, "quarantine": quarantine, "duplicates": dups}, "resumes")
    return _write(settings, "resumes", run_id, silver, quarantine, dups, results)
