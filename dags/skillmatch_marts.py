"""
### skillmatch · marts
Publishes the lake's tables as Parquet marts and swaps in a new DuckDB warehouse (`marts` schema) for BI tools:
dimensions, skill facts, matches, learning steps, skill demand, data-quality results and quarantine.
With `SKILLMATCH_MARTS_DEADLINE_HOURS` set (docker-compose: 3), a Deadline Alert notifies (log, Slack / e-mail
connections) when the refresh is not done within that many hours of being queued.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, TAGS, asset, marts_deadline, run_stage


@dag(dag_id="skillmatch_marts", schedule=[asset("learning_paths")], start_date=datetime(2026, 1, 1),
     catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "marts"], doc_md=__doc__,
     deadline=marts_deadline())
def skillmatch_marts() -> None:
    @task(pool="duckdb_writer", outlets=[asset("warehouse")])
    def build_marts() -> dict:
        return run_stage("marts", get_current_context()["run_id"])

    build_marts()


skillmatch_marts()
