"""
### skillmatch · extract skills
Links postings and resumes to ESCO / O*NET skills: alias matching over every label and alias, the span tagger and
sentence encoder similarity (all-MiniLM-L6-v2 on torch; CUDA when the worker has a GPU, CPU otherwise).
Unchanged documents are served from the previous run.

Sharded: `plan_extract_*` splits the documents to extract into shards of `SKILLMATCH_EXTRACT_SHARD_DOCS`
(logged: count and size), one mapped `extract_*_shard` task per shard runs on queue and pool `gpu`, and
`extract_*` merges the parts into the snapshot once every shard is done (checking that each planned document is
there exactly once).
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task

from skillmatch.orchestration import DEFAULT_ARGS, GPU_TASK, TAGS, asset, run_stage


def _sharded(entity: str, outlets: list | None = None) -> tuple:
    """(mapped shard tasks, merge task) of one entity: plan -> one extraction task per shard -> merge."""
    @task(task_id=f"plan_extract_{entity}")
    def plan() -> list[int]:
        return list(range(run_stage(f"plan_extract_{entity}", get_current_context()["run_id"])["shards"]))

    @task(task_id=f"extract_{entity}_shard", **GPU_TASK, map_index_template="shard {{ shard }}")
    def shard(shard: int) -> dict:
        ctx = get_current_context()
        ctx["shard"] = shard  # type: ignore[typeddict-unknown-key]  # names the mapped task in the UI
        return run_stage(f"extract_{entity}_shard", ctx["run_id"], part=str(shard))

    @task(task_id=f"extract_{entity}", outlets=outlets or [])
    def merge() -> dict:
        return run_stage(f"extract_{entity}", get_current_context()["run_id"])

    shards = shard.expand(shard=plan())
    merged = merge()
    shards >> merged
    return shards, merged


@dag(dag_id="skillmatch_extract", schedule=[asset("silver_postings"), asset("silver_resumes"), asset("taxonomy")],
     start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1, default_args=DEFAULT_ARGS,
     tags=[*TAGS, "extraction", "gpu"], doc_md=__doc__)
def skillmatch_extract() -> None:
    _, merged_postings = _sharded("postings")
    resume_shards, merged_resumes = _sharded("resumes", outlets=[asset("skills")])
    # the skills Asset (the match DAG's trigger) once both merges are done
    [merged_postings, resume_shards] >> merged_resumes


skillmatch_extract()
