"""
### skillmatch · match and learning paths
Scores every resume against every posting (IDF-weighted skill coverage + embedding similarity, blocked on
torch), keeps the top-k both ways in `fact_match`, then ranks each candidate's missing skills into
`fact_learning_step`.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, GPU_TASK, TAGS, asset, run_stage


@dag(dag_id="skillmatch_match", schedule=[asset("skills")], start_date=datetime(2026, 1, 1), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "matching"], doc_md=__doc__)
def skillmatch_match() -> None:
    @task(**GPU_TASK, outlets=[asset("matches")])
    def match() -> dict:
        return run_stage("match", get_current_context()["run_id"])

    @task(outlets=[asset("learning_paths")])
    def learning_paths() -> dict:
        return run_stage("paths", get_current_context()["run_id"])

    match() >> learning_paths()


skillmatch_match()
