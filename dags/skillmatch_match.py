"""
### skillmatch · match and learning paths
Scores every resume against every posting (IDF-weighted skill coverage + embedding similarity, blocked on
torch), keeps the top-k both ways in `fact_match`, then ranks each candidate's missing skills into
`fact_learning_step`.

Sharded: `plan_match` prepares the inputs and decides full or incremental (logged, with why). A full recompute
splits the candidates into shards of `SKILLMATCH_MATCH_SHARD_CANDIDATES`, one mapped `match_shard` task each
(queue and pool `gpu`) scores its rows against every posting, and `match` merges them exactly (a posting's top-k
is the best of its top-k in each shard). An incremental night plans no shards: `match` rescores the changed
documents itself.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, GPU_TASK, TAGS, asset, run_stage


@dag(dag_id="skillmatch_match", schedule=[asset("skills")], start_date=datetime(2026, 1, 1), catchup=False,
     max_active_runs=1, default_args=DEFAULT_ARGS, tags=[*TAGS, "matching"], doc_md=__doc__)
def skillmatch_match() -> None:
    @task
    def plan_match() -> list[int]:
        return list(range(run_stage("plan_match", get_current_context()["run_id"])["shards"]))

    @task(**GPU_TASK, map_index_template="shard {{ shard }}")
    def match_shard(shard: int) -> dict:
        ctx = get_current_context()
        ctx["shard"] = shard  # type: ignore[typeddict-unknown-key]  # names the mapped task in the UI
        return run_stage("match_shard", ctx["run_id"], part=str(shard))

    # an incremental night maps no shard (the mapped task is skipped): the merge runs all the same
    @task(outlets=[asset("matches")], trigger_rule="none_failed")
    def match() -> dict:
        return run_stage("match", get_current_context()["run_id"])

    @task(outlets=[asset("learning_paths")])
    def learning_paths() -> dict:
        return run_stage("paths", get_current_context()["run_id"])

    match_shard.expand(shard=plan_match()) >> match() >> learning_paths()


skillmatch_match()
