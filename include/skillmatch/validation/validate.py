"""Validate: bronze -> silver + quarantine + duplicates, with Great Expectations Core suites per entity.

Row-level failures come from GX's COMPLETE result format (unexpected row indices per expectation), so every
quarantined row carries the names of the expectations it broke. Counts reconcile per source:
``bronze = silver + quarantine + duplicates``; the reconciliation itself is written as a dq check.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from skillmatch.config import PROJECT_ROOT, Settings
from skillmatch.lake import read_parquet, sha256_text, utcnow, write_parquet_atomic
from skillmatch.sources.normalize import fix_mojibake, unglue_lines
from skillmatch.validation.language import is_english
from skillmatch.validation.pii import candidate_id, pseudonym_key, redact_contacts

log = logging.getLogger(__name__)

DQ_COLUMNS = ["run_id", "entity", "check_name", "column_name", "success", "element_count", "unexpected_count",
              "unexpected_percent", "details", "checked_at"]


GX_PROJECT = PROJECT_ROOT / "include"  # the file context lives in include/gx
ENTITIES = ("postings", "resumes")
RESUME_SECTIONS = ("summary", "experience", "education", "skills")


@dataclass(frozen=True)
class Check:
    """One expectation of a checked-in suite: GX expectation class name and its arguments (``{"$PARAMETER": n}``
    where the value is supplied per run, see :func:`suite_parameters`)."""

    expectation: str
    kwargs: dict[str, object]

    @property
    def name(self) -> str:
        col = self.kwargs.get("column", "")
        return f"{self.expectation}({col})"

    @property
    def row_level(self) -> bool:
        """Whether failing rows can be pointed at (column-map expectations); batch-level ones (a mean, a share of
        unique values) are recorded in ``dq_check_result`` but quarantine nothing."""
        return self.expectation.startswith(("ExpectColumnValues", "ExpectColumnValueLengths"))


def _camel(snake: str) -> str:
    return "".join(w.capitalize() for w in snake.split("_"))


def load_suite(entity: str) -> list[Check]:
    """The checked-in suite of ``entity`` (``include/gx/expectations/<entity>.json``), in file order."""
    doc = json.loads((GX_PROJECT / "gx" / "expectations" / f"{entity}.json").read_text(encoding="utf-8"))
    return [Check(_camel(e["type"]), dict(e["kwargs"])) for e in doc["expectations"]]


def posting_suite(settings: Settings) -> list[Check]:  # noqa: ARG001 - kept for callers that pass settings
    """The postings suite: required fields, length bounds, unique ids, date range, known sources, sane salaries,
    duplicate-description rate and English share."""
    return load_suite("postings")


def resume_suite() -> list[Check]:
    """The resumes suite: a readable file, enough text, unique pseudonymous ids, sane years, English share."""
    return load_suite("resumes")


def suite_parameters(settings: Settings, sources: list[str]) -> dict[str, object]:
    """The values of the suites' ``$PARAMETER`` placeholders for this run: the posting date window (none in the
    future, none older than ``max_posting_age_days``), the configured sources and the batch thresholds."""
    now = utcnow()
    return {"posted_at_min": (now - timedelta(days=settings.max_posting_age_days)).isoformat(),
            "posted_at_max": (now + timedelta(days=1)).isoformat(), "sources": sorted(set(sources)),
            "min_unique_description_share": settings.dq_min_unique_description_share,
            "min_english_share": settings.dq_min_english_share}


def _gx_context(settings: Settings):  # noqa: ANN202 - great_expectations FileDataContext
    """The checked-in file context, with run-time outputs (validation results, Data Docs) sent to the lake."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    os.environ["SKILLMATCH_DQ_DIR"] = str(settings.local("dq", "gx"))
    for name in ("great_expectations", "great_expectations.core", "great_expectations.data_context"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import great_expectations as gx

    return gx.get_context(mode="file", project_root_dir=str(GX_PROJECT))


def run_suite(df: pd.DataFrame, entity: str, checks: list[Check] | None = None, settings: Settings | None = None,
              params: dict[str, object] | None = None) -> tuple[dict[int, list[str]], list[dict[str, object]]]:
    """Run the checked-in checkpoint of ``entity`` on ``df`` (GX Core file context, COMPLETE results, Data Docs
    updated); returns (row position -> failed row-level check names, one result per check in suite order).

    ``checks`` defaults to the checked-in suite; it must be that suite (the checkpoint runs what is checked in).
    """
    from skillmatch.config import load_settings

    settings = settings or load_settings()
    checks = checks if checks is not None else load_suite(entity)
    if params is None:
        params = suite_parameters(settings, list(df["source"].dropna().astype(str)) if "source" in df else [])
    frame = df.reset_index(drop=True)
    # GX's pandas metrics treat pd.NA inconsistently (NotBeNull misses it); hand it plain objects and None
    frame = frame.astype(object).where(frame.notna(), None)
    for c in {str(ch.kwargs.get("column")) for ch in checks} - set(frame.columns):
        frame[c] = None  # a column the batch lacks is all-null (NotBeNull then flags it; others skip nulls)
    ctx = _gx_context(settings)
    result = ctx.checkpoints.get(entity).run(batch_parameters={"dataframe": frame}, expectation_parameters=params)
    (validation,) = result.run_results.values()
    failures: dict[int, list[str]] = {}
    results: list[dict[str, object]] = []
    # GX does not keep suite order in its results: pair them by (expectation type, column)
    by_key = {(res.expectation_config.type, res.expectation_config.kwargs.get("column")): res
              for res in validation.results}
    for check in checks:
        key = (re.sub(r"(?<!^)(?=[A-Z])", "_", check.expectation).lower(), check.kwargs.get("column"))
        if key not in by_key:
            raise ValueError(f"{entity}: check {check.name} is not in the checked-in suite include/gx/expectations/"
                             f"{entity}.json")
        res = by_key[key]
        info = res.exception_info or {}
        raised = [v for v in [info, *info.values()] if isinstance(v, dict) and v.get("raised_exception")]
        if raised:
            raise RuntimeError(f"{entity}: expectation {check.name} could not run: {raised[0].get('exception_message')}")
        r = res.result or {}
        for i in r.get("unexpected_index_list") or []:
            pos = i if isinstance(i, int) else int(next(iter(i.values()))) if isinstance(i, dict) else int(i)
            failures.setdefault(pos, []).append(check.name)
        observed = r.get("observed_value")
        results.append({"check_name": check.name, "column_name": check.kwargs.get("column"),
                        "success": bool(res.success), "element_count": int(r.get("element_count") or len(frame)),
                        "unexpected_count": int(r.get("unexpected_count") or 0),
                        "unexpected_percent": float(r.get("unexpected_percent") or 0.0),
                        "details": None if observed is None else json.dumps({"observed_value": observed},
                                                                            default=str)})
    return failures, results


def data_docs_index(settings: Settings) -> str:
    """Where the Data Docs site of the lake is (``dq/gx/data_docs/index.html``)."""
    return str(settings.local("dq", "gx", "data_docs", "index.html"))


def _norm(s: object) -> str:
    return "" if s is None or pd.isna(s) else re.sub(r"\s+", " ", str(s)).strip().lower()


def _split(df: pd.DataFrame, id_col: str, content_cols: list[str], entity: str, settings: Settings,
           params: dict[str, object]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[dict[str, object]]]:
    """Shared core: drop duplicates (same id keeps the newest; same content keeps the first), run the suite."""
    df = df.sort_values(["ingested_at", id_col], ascending=[False, True], kind="stable").reset_index(drop=True)
    df["content_key"] = [sha256_text(*(_norm(v) for v in row)) for row in df[content_cols].itertuples(index=False)]
    dup_id = df[id_col].notna() & df.duplicated(id_col)
    # records with no content at all (an unreadable resume, a posting without text) are not "the same content":
    # each goes through the suite and lands in quarantine with its own reason
    empty = pd.Series([all(_norm(v) == "" for v in row) for row in df[content_cols].itertuples(index=False)],
                      index=df.index, dtype=bool)
    dup_content = ~dup_id & df.duplicated("content_key") & ~df[id_col].isna() & ~empty
    first_by_content = df[~dup_id].drop_duplicates("content_key").set_index("content_key")[id_col]
    dups = df[dup_id | dup_content].copy()
    dups["duplicate_of"] = [r[id_col] if d else first_by_content.get(r["content_key"])
                            for d, (_, r) in zip(dup_id[dup_id | dup_content], dups.iterrows())]
    dups["duplicate_kind"] = ["same_id" if d else "same_content" for d in dup_id[dup_id | dup_content]]
    kept = df[~(dup_id | dup_content)].reset_index(drop=True)
    failures, results = run_suite(kept, entity, load_suite(entity), settings, params)
    bad = kept.index.isin(list(failures))
    quarantine = kept[bad].copy()
    quarantine["reason"] = ["; ".join(failures[i]) for i in kept.index[bad]]
    silver = kept[~bad].reset_index(drop=True)
    return silver, quarantine.reset_index(drop=True), dups.reset_index(drop=True), results


def _reconcile(settings: Settings, run_id: str, bronze: pd.DataFrame, parts: dict[str, pd.DataFrame],
               entity: str) -> list[dict[str, object]]:
    """``bronze = silver + quarantine + duplicates`` per source: one dq check and one ``dq_reconciliation`` row
    each; raises when it does not hold (records lost or duplicated)."""
    from skillmatch.sources.ingest import write_reconciliation

    out = []
    broken = []
    for source, n in bronze.groupby("source").size().items():
        got = {k: int((v["source"] == source).sum()) if len(v) else 0 for k, v in parts.items()}
        ok = n == sum(got.values())
        details = f"bronze={n} silver={got['silver']} quarantine={got['quarantine']} duplicates={got['duplicates']}"
        out.append({"check_name": f"reconcile_counts({source})", "column_name": None, "success": ok,
                    "element_count": int(n), "unexpected_count": int(n - sum(got.values())),
                    "unexpected_percent": 0.0 if ok else 100.0, "details": details})
        write_reconciliation(settings, {"run_id": run_id, "stage": "validate", "entity": entity, "source": source,
                                        "bronze": int(n), **got, "holds": ok, "details": details})
        if not ok:
            broken.append(f"{source}: {details}")
    if broken:
        raise AssertionError(f"{entity}: counts do not reconcile for {'; '.join(broken)}")
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
              "checks_failed": int((~dq["success"]).sum()), "checks": len(dq)}
    log.info("validate %s: %s", entity, counts)
    log.info("validate %s: Data Docs at %s", entity, data_docs_index(settings))
    return counts


def _invalid_share_gate(settings: Settings, entity: str, silver: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    """Batch-level threshold: more than ``dq_max_invalid_share`` of the distinct records invalid fails the task
    (after silver, quarantine and the dq results are written, so the reasons can be read)."""
    total = len(silver) + len(quarantine)
    share = len(quarantine) / total if total else 0.0
    if share > settings.dq_max_invalid_share:
        top = quarantine["reason"].str.split("; ").explode().value_counts().head(3) if len(quarantine) else []
        reasons = ", ".join(f"{k} ({v})" for k, v in dict(top).items())
        raise ValueError(f"{entity}: {len(quarantine)} of {total} records ({share:.1%}) failed validation, over the "
                         f"{settings.dq_max_invalid_share:.0%} threshold (SKILLMATCH_DQ_MAX_INVALID_SHARE); most "
                         f"common: {reasons}; see quarantine/{entity}.parquet and {data_docs_index(settings)}")


def _sources(settings: Settings, entity: str, bronze: pd.DataFrame) -> list[str]:
    """Sources a record may come from: the configured ones (synthetic mode: the sample) and, so that a source
    removed from the config does not quarantine its history, every source already in bronze before this run."""
    from skillmatch.sources.registry import load_sources
    from skillmatch.sources.synthetic import SYNTHETIC_SOURCE

    configured = ([SYNTHETIC_SOURCE] if settings.source_mode == "synthetic"
                  else [s.name for s in load_sources(settings, entity)])
    return sorted(set(configured) | set(bronze["source"].dropna().astype(str)))


def validate_postings(settings: Settings, run_id: str) -> dict[str, int]:
    """Bronze postings -> silver/quarantine/duplicates; PII-redacted text with the line breaks its export dropped
    put back (:func:`unglue_lines`); dq results for this run."""
    bronze = read_parquet(settings.lake("bronze", "postings"))
    if bronze.empty:
        raise ValueError("bronze postings are empty: run ingest first")
    df = bronze.drop(columns=[c for c in ["ingest_date"] if c in bronze.columns]).copy()
    df["posting_id"] = df["source"].astype(str) + ":" + df["native_id"].astype(str)
    df.loc[df["native_id"].isna() | (df["native_id"].astype(str).str.strip() == ""), "posting_id"] = None
    df["description"] = df["description"].map(
        lambda t: None if t is None or pd.isna(t) else unglue_lines(redact_contacts(str(t))))
    df["title"] = df["title"].map(lambda t: None if t is None or pd.isna(t) or not str(t).strip() else str(t).strip())
    df["is_english"] = df["description"].map(lambda t: float(is_english(t)))
    params = suite_parameters(settings, _sources(settings, "postings", bronze))
    silver, quarantine, dups, results = _split(df, "posting_id", ["title", "company", "description"], "postings",
                                               settings, params)
    silver["text"] = silver["title"].astype(str) + "\n" + silver["description"].astype(str)
    results += _reconcile(settings, run_id, bronze, {"silver": silver, "quarantine": quarantine, "duplicates": dups},
                          "postings")
    counts = _write(settings, "postings", run_id, silver, quarantine, dups, results)
    _invalid_share_gate(settings, "postings", silver, quarantine)
    return counts


def validate_resumes(settings: Settings, run_id: str) -> dict[str, int]:
    """Bronze resumes -> silver (redacted text, pseudonymous ids only, sections and years of experience) /
    quarantine / duplicates."""
    from skillmatch.sources.resume_sections import estimate_years_experience, split_sections

    bronze = read_parquet(settings.lake("bronze", "resumes"))
    if bronze.empty:
        raise ValueError("bronze resumes are empty: run ingest first")
    key = pseudonym_key(settings.data_dir)
    df = bronze.drop(columns=[c for c in ["ingest_date"] if c in bronze.columns]).copy()
    df["candidate_id"] = [candidate_id(key, s, f) for s, f in zip(df["source"], df["source_file"])]
    # mojibake repaired first (the shared PDFs carry "\u00e2\u20ac\u00a2" for bullets, a stray "\u00c2" after words),
    # then contact details redacted
    df["text"] = df["raw_text"].map(lambda t: redact_contacts(fix_mojibake(str(t or ""))))
    # raw text and the file path stay in bronze: silver and everything downstream carry the pseudonym only
    df = df.drop(columns=["raw_text", "source_file"])
    sections = [split_sections(t) for t in df["text"]]
    for name in RESUME_SECTIONS:
        df[f"section_{name}"] = pd.Series([sec.get(name) or None for sec in sections], index=df.index, dtype="string")
    # "Current" runs to the document's own date when its metadata has one (bronze written before that column
    # existed: none, so the day of the run)
    made = pd.to_datetime(df["document_date"]) if "document_date" in df else pd.Series(pd.NaT, index=df.index)
    df["years_experience"] = pd.Series([estimate_years_experience(t, None if pd.isna(d) else d.date())
                                        for t, d in zip(df["text"], made)], index=df.index, dtype="Float64")
    df["is_english"] = df["text"].map(lambda t: float(is_english(t)))
    params = suite_parameters(settings, _sources(settings, "resumes", bronze))
    silver, quarantine, dups, results = _split(df, "candidate_id", ["text"], "resumes", settings, params)
    results += _reconcile(settings, run_id, bronze, {"silver": silver, "quarantine": quarantine, "duplicates": dups},
                          "resumes")
    counts = _write(settings, "resumes", run_id, silver, quarantine, dups, results)
    _invalid_share_gate(settings, "resumes", silver, quarantine)
    return counts
