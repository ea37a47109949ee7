"""
### skillmatch · validate
Runs the Great Expectations suites on bronze postings and resumes: good rows go to **silver** (contact details
redacted, pseudonymous candidate ids), bad rows to **quarantine** with a reason, duplicates are set aside, and the
counts reconcile (`bronze = silver + quarantine + duplicates`). Results land in `dq_check_result`.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, TAGS, asset, run_stage


@dag(dag_id="skillmatch_validate", schedule=[asset("bronze_postings"), asset("bronze_resumes")],
     start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     tags=[*TAGS, "validation"], doc_md=__doc__)
def skillmatch_validate() -> None:
    @task(outlets=[asset("silver_postings")])
    def validate_postings() -> dict:
        return run_stage("validate_postings", get_current_context()["run_id"])

    @task(outlets=[asset("silver_resumes")])
    def validate_resumes() -> dict:
        return run_stage("validate_resumes", get_current_context()["run_id"])

    validate_postings()
    validate_resumes()


skillmatch_validate()
