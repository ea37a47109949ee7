"""
### skillmatch · ingest (nightly)
Reads job postings (HN "Who is hiring?", LinkedIn/Glassdoor exports) and resume files into the **bronze**
Parquet layer (append-only, content-hash dedup) and loads the ESCO + O*NET taxonomy. Downstream DAGs run on the
Assets this DAG updates: validate -> extract -> match -> marts.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, TAGS, asset, run_stage


@dag(dag_id="skillmatch_ingest", schedule="0 2 * * *", start_date=datetime(2026, 1, 1), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "ingest"], doc_md=__doc__)
def skillmatch_ingest() -> None:
    @task(outlets=[asset("taxonomy")])
    def load_taxonomy() -> dict:
        return run_stage("taxonomy", get_current_context()["run_id"])

    @task(outlets=[asset("bronze_postings")])
    def ingest_postings() -> dict:
        return run_stage("ingest_postings", get_current_context()["run_id"])

    @task(outlets=[asset("bronze_resumes")])
    def ingest_resumes() -> dict:
        return run_stage("ingest_resumes", get_current_context()["run_id"])

    load_taxonomy()
    ingest_postings()
    ingest_resumes()


skillmatch_ingest()
