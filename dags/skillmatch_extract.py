"""
### skillmatch · extract skills
Links postings and resumes to ESCO / O*NET skills: alias matching over every label and alias plus sentence
encoder similarity (all-MiniLM-L6-v2 on torch; CUDA when the worker has a GPU, CPU otherwise). Unchanged
documents are served from the previous run. Tasks use the `gpu` pool.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, GPU_TASK, TAGS, asset, run_stage


@dag(dag_id="skillmatch_extract", schedule=[asset("silver_postings"), asset("silver_resumes"), asset("taxonomy")],
     start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     tags=[*TAGS, "extraction", "gpu"], doc_md=__doc__)
def skillmatch_extract() -> None:
    @task(**GPU_TASK)
    def extract_postings() -> dict:
        return run_stage("extract_postings", get_current_context()["run_id"])

    @task(**GPU_TASK, outlets=[asset("skills")])
    def extract_resumes() -> dict:
        return run_stage("extract_resumes", get_current_context()["run_id"])

    extract_postings() >> extract_resumes()


skillmatch_extract()
