"""What the DAG files share: Assets, default task arguments and the stage entry points tasks call.

Import-light on purpose (no pandas, torch, duckdb or great_expectations at module level): DAG files import this
at parse time.
"""
from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from skillmatch.notify import SkillmatchNotifier

LAKE = "skillmatch://lake"
ASSET_URIS = {
    "taxonomy": f"{LAKE}/taxonomy/dim_skill",
    "bronze_postings": f"{LAKE}/bronze/postings",
    "bronze_resumes": f"{LAKE}/bronze/resumes",
    "silver_postings": f"{LAKE}/silver/postings",
    "silver_resumes": f"{LAKE}/silver/resumes",
    "skills": f"{LAKE}/gold/skills",
    "matches": f"{LAKE}/gold/fact_match",
    "learning_paths": f"{LAKE}/gold/fact_learning_step",
    "warehouse": f"{LAKE}/warehouse",
}
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "skillmatch",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "on_failure_callback": SkillmatchNotifier(),  # log + Slack / e-mail when their connections exist
}
TAGS = ["skillmatch"]
# GPU work (extraction, the match engine, tagger training): the `gpu` pool caps it at one task per GPU and the
# `gpu` queue sends it to the GPU celery worker (on the embedded LocalExecutor the queue is ignored).
GPU_TASK: dict[str, str] = {"pool": "gpu", "queue": "gpu"}


def marts_deadline():  # noqa: ANN201 - airflow DeadlineAlert or None
    """Deadline Alert of the marts DAG when ``SKILLMATCH_MARTS_DEADLINE_HOURS`` is set (docker-compose sets 3): the
    refresh must be done within that many hours of its run being queued, else ``notify.marts_deadline_missed``
    runs in the triggerer. Unset on the embedded default: Airflow 3.3.2's ``dag.test()`` (what ``make run`` and
    the integration tests use) fails on DAGs that carry a deadline (``DagRun.update_state`` looks the alerts up by
    id and finds dicts); scheduled runs are not affected."""
    from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference

    raw = os.environ.get("SKILLMATCH_MARTS_DEADLINE_HOURS", "").strip()
    if not raw:
        return None
    try:
        hours = float(raw)
    except ValueError as exc:
        raise ValueError(f"SKILLMATCH_MARTS_DEADLINE_HOURS={raw!r} is not a number of hours") from exc
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=timedelta(hours=hours),
                         callback=AsyncCallback("skillmatch.notify.marts_deadline_missed",
                                                kwargs={"dag_id": "skillmatch_marts", "hours": hours}),
                         name="marts refresh late")


def asset(key: str):  # noqa: ANN201 - airflow.sdk.Asset
    """The Airflow Asset for one lake dataset."""
    from airflow.sdk import Asset

    return Asset(name=f"skillmatch.{key}", uri=ASSET_URIS[key])


def run_stage(stage: str, run_id: str, part: str | None = None) -> dict[str, Any]:
    """Run one stage with settings from the environment; returns its counts (pushed to XCom). Success or
    failure, the stage leaves its ``pipeline_run`` record (``skillmatch.ops``). ``part`` names the slice a
    mapped task works on (a postings source): the record is kept per part, as ``stage[part]``."""
    import logging

    from skillmatch.config import load_settings
    from skillmatch.lake import utcnow
    from skillmatch.ops import record_stage

    for noisy in ("great_expectations", "pypdf", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    s = load_settings()
    logging.getLogger("skillmatch").info("stage %s%s, run %s, data %s, input %s", stage,
                                         f"[{part}]" if part else "", run_id, s.data_dir, s.source_mode)
    started = utcnow()
    label = f"{stage}[{part}]" if part else stage
    try:
        counts = _dispatch(stage, run_id, s, part)
    except Exception as exc:
        record_stage(s, label, run_id, started, "failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    record = record_stage(s, label, run_id, started, "success", counts=counts if isinstance(counts, dict) else {})
    _annotate_asset_events(record.iloc[0].to_dict(), counts if isinstance(counts, dict) else {})
    return counts


def _annotate_asset_events(record: dict[str, Any], counts: dict[str, Any]) -> None:
    """Inside an Airflow task, attach what the stage did to the asset events of the task's outlets, so the Assets
    view shows it: rows in / out, the stage's integer counts, the data-quality pass rate (validation), the tagger
    and taxonomy versions. Outside a task (CLI, tests calling stages) there is nothing to annotate."""
    try:
        from airflow.sdk import get_current_context

        ctx = get_current_context()
    except Exception:  # not running inside a task
        return
    outlets = list(getattr(ctx.get("task"), "outlets", None) or [])
    if not outlets:
        return

    def plain(v: Any) -> Any:
        return None if v is None or v != v else v.item() if hasattr(v, "item") else v  # NaN / numpy -> JSON

    extra: dict[str, Any] = {"stage": record["stage"], "rows_in": plain(record["rows_in"]),
                             "rows_out": plain(record["rows_out"]), "seconds": plain(record["seconds"]),
                             "tagger_version": record["tagger_version"], "taxonomy_version": record["taxonomy_version"],
                             "counts": {k: v for k, v in counts.items() if isinstance(v, (int, float, str, bool))}}
    if counts.get("checks"):
        extra["dq_pass_rate"] = round(1 - int(counts.get("checks_failed", 0)) / int(counts["checks"]), 4)
    for outlet in outlets:
        ctx["outlet_events"][outlet].extra = extra


def posting_sources() -> list[str]:
    """The enabled postings sources of the sources config (the ingest DAG maps one task over them)."""
    from skillmatch.config import load_settings
    from skillmatch.sources.ingest import posting_source_names

    return posting_source_names(load_settings())


def _dispatch(stage: str, run_id: str, s, part: str | None = None) -> dict[str, Any]:  # noqa: ANN001 - Settings
    if stage == "taxonomy":
        from skillmatch.taxonomy.build import build_taxonomy

        return build_taxonomy(s)
    if stage == "ingest_postings":
        from skillmatch.sources.ingest import ingest_postings

        return ingest_postings(s, run_id, part)
    if stage == "ingest_resumes":
        from skillmatch.sources.ingest import ingest_resumes

        return ingest_resumes(s, run_id)
    if stage == "plan_resume_parsing":
        from skillmatch.sources.ingest import plan_resume_parsing

        return plan_resume_parsing(s, run_id, s.resume_shard_files)
    if stage == "parse_resumes_shard":
        from skillmatch.sources.ingest import parse_resumes_shard

        return parse_resumes_shard(s, run_id, int(part or 0))
    if stage == "validate_postings":
        from skillmatch.validation.validate import validate_postings

        return validate_postings(s, run_id)
    if stage == "validate_resumes":
        from skillmatch.validation.validate import validate_resumes

        return validate_resumes(s, run_id)
    if stage in {"plan_extract_postings", "plan_extract_resumes"}:
        from skillmatch.extraction.stage import plan_shards

        return plan_shards(s, stage.rsplit("_", 1)[1], run_id, s.extract_shard_docs)
    if stage in {"extract_postings_shard", "extract_resumes_shard"}:
        from skillmatch.extraction.stage import extract_shard

        return extract_shard(s, stage.split("_")[1], run_id, int(part or 0))
    if stage in {"extract_postings", "extract_resumes"}:
        from skillmatch.extraction.stage import extract_entity, has_plan, merge_shards

        # the nightly DAG planned and ran shards for this run: merge them; a run without a plan (the CLI, a
        # one-off task) extracts in this process
        entity = stage.split("_", 1)[1]
        return merge_shards(s, entity, run_id) if has_plan(s, entity, run_id) else extract_entity(s, entity)
    if stage == "plan_match":
        from skillmatch.matching.shards import plan_match

        return plan_match(s, run_id, s.match_shard_candidates)
    if stage == "match_shard":
        from skillmatch.matching.shards import match_shard

        return match_shard(s, run_id, int(part or 0))
    if stage == "match":
        from skillmatch.matching.engine import compute_matches
        from skillmatch.matching.shards import has_plan, merge_match

        # the nightly DAG planned this run's match: merge its shards (or rescore incrementally); a run without a
        # plan (the CLI, a one-off task) matches in this process
        return merge_match(s, run_id) if has_plan(s, run_id) else compute_matches(s)
    if stage == "paths":
        from skillmatch.paths.learning import compute_learning_paths

        return compute_learning_paths(s)
    if stage == "marts":
        from skillmatch.marts.build import build_marts

        return build_marts(s, run_id)
    if stage == "train_tagger":
        from skillmatch.extraction.tagger import train_and_promote

        return train_and_promote(s)
    if stage == "train_linker":
        from skillmatch.extraction.linker import train_and_promote_linker

        return train_and_promote_linker(s)
    raise ValueError(f"unknown stage {stage!r}")
