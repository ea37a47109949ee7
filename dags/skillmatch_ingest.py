"""
### skillmatch · ingest (nightly)
Reads every postings source declared in `include/sources.yaml` (landing folders of CSV / JSON / Parquet, the HN
"Who is hiring?" runs, Greenhouse / Lever / Ashby job boards) with **one mapped task per source**, plus the resume
folders (parsed by **one mapped task per shard** of new files), into the **bronze** Parquet layer (append-only,
content-hash dedup, a watermark per source), and loads the ESCO + O*NET taxonomy. Files or responses that cannot be used land in `quarantine/ingest_rejects` with the reason;
`fetched = bronze new + already seen` is checked per source (`dq_reconciliation`). Downstream DAGs run on the
Assets this DAG updates: validate -> extract -> match -> marts. Resumes are ingested once every postings source is
done, so validation (which waits on both bronze Assets) never starts on a partly written bronze.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, TAGS, asset, posting_sources, run_stage


@dag(dag_id="skillmatch_ingest", schedule="0 2 * * *", start_date=datetime(2026, 1, 1), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "ingest"], doc_md=__doc__)
def skillmatch_ingest() -> None:
    @task(outlets=[asset("taxonomy")])
    def load_taxonomy() -> dict:
        return run_stage("taxonomy", get_current_context()["run_id"])

    @task
    def list_posting_sources() -> list[str]:
        return posting_sources()

    @task(outlets=[asset("bronze_postings")], map_index_template="{{ source }}")
    def ingest_postings(source: str) -> dict:
        ctx = get_current_context()
        ctx["source"] = source  # type: ignore[typeddict-unknown-key]  # names the mapped task in the UI
        return run_stage("ingest_postings", ctx["run_id"], part=source)

    # Resume parsing (PDF / DOCX text, the costly part) fans out: the plan splits the new files into shards of
    # SKILLMATCH_RESUME_SHARD_FILES, one mapped task parses each, ingest_resumes takes their texts.
    @task
    def plan_resume_parsing() -> list[int]:
        return list(range(run_stage("plan_resume_parsing", get_current_context()["run_id"])["shards"]))

    @task(map_index_template="shard {{ shard }}")
    def parse_resumes_shard(shard: int) -> dict:
        ctx = get_current_context()
        ctx["shard"] = shard  # type: ignore[typeddict-unknown-key]  # names the mapped task in the UI
        return run_stage("parse_resumes_shard", ctx["run_id"], part=str(shard))

    # After every postings source, success or not: the validate DAG runs on both bronze Assets, so the resumes
    # event must come last or a distributed run would validate a bronze that some sources have not reached yet.
    # A parsing shard that failed costs time, not data: ingest_resumes parses whatever no shard did.
    @task(outlets=[asset("bronze_resumes")], trigger_rule="all_done")
    def ingest_resumes() -> dict:
        return run_stage("ingest_resumes", get_current_context()["run_id"])

    load_taxonomy()
    [ingest_postings.expand(source=list_posting_sources()),
     parse_resumes_shard.expand(shard=plan_resume_parsing())] >> ingest_resumes()


skillmatch_ingest()
