"""DAG integrity: the DAG files import cleanly, are wired as documented, and stay light at parse time."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
CHAIN = ["skillmatch_ingest", "skillmatch_validate", "skillmatch_extract", "skillmatch_match", "skillmatch_marts"]
TRAINING = ["skillmatch_train_tagger", "skillmatch_train_linker"]
HEAVY = ["torch", "great_expectations", "sentence_transformers", "duckdb", "pandas"]


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors_and_all_dags_present(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dag_ids) == sorted(CHAIN + TRAINING)


@pytest.mark.parametrize("dag_id", CHAIN + TRAINING)
def test_dag_has_tags_retries_doc_and_single_active_run(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert "skillmatch" in dag.tags
    assert dag.doc_md and len(dag.doc_md.strip()) > 40
    assert dag.max_active_runs == 1
    for t in dag.tasks:
        assert t.retries >= 2, f"{dag_id}.{t.task_id} retries={t.retries}"


def test_every_pool_named_by_a_task_exists_in_the_pools_file(dagbag) -> None:
    pools = set(json.loads((ROOT / "include" / "airflow" / "pools.json").read_text()))
    used = {t.pool for d in dagbag.dags.values() for t in d.tasks} - {"default_pool"}
    assert used, "no task names a pool: the extraction task must use the gpu pool"
    assert used <= pools, f"pools used but not defined: {used - pools}"
    extract = dagbag.dags["skillmatch_extract"]
    # the shards do the GPU work; planning and merging are light and stay on the default queue and pool
    assert {t.task_id: (t.pool, t.queue) for t in extract.tasks} == {
        "plan_extract_postings": ("default_pool", "default"), "extract_postings_shard": ("gpu", "gpu"),
        "extract_postings": ("default_pool", "default"), "plan_extract_resumes": ("default_pool", "default"),
        "extract_resumes_shard": ("gpu", "gpu"), "extract_resumes": ("default_pool", "default")}
    for dag_id, cron in zip(TRAINING, ["0 3 * * 0", "0 4 * * 0"]):  # weekly, and triggerable by hand
        train = dagbag.dags[dag_id]
        assert [(t.pool, t.queue) for t in train.tasks] == [("gpu", "gpu")]
        assert train.timetable.expression == cron


def test_extraction_fans_out_over_shards_and_merges_after_every_shard(dagbag) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    extract = dagbag.dags["skillmatch_extract"]
    for entity in ("postings", "resumes"):
        shard = extract.get_task(f"extract_{entity}_shard")
        assert isinstance(shard, MappedOperator)  # dynamic task mapping over the plan's shard list
        assert shard.upstream_task_ids == {f"plan_extract_{entity}"}
        assert f"extract_{entity}" in shard.downstream_task_ids
    # the skills Asset (what the match DAG waits on) is emitted once both merges are done
    merge = extract.get_task("extract_resumes")
    assert merge.upstream_task_ids == {"extract_resumes_shard", "extract_postings"}
    assert [o.name for o in merge.outlets] == ["skillmatch.skills"]
    assert all(not t.outlets for t in extract.tasks if t.task_id != "extract_resumes")


def test_match_fans_out_over_candidate_shards_and_merges_even_without_shards(dagbag) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    match = dagbag.dags["skillmatch_match"]
    assert {t.task_id: (t.pool, t.queue) for t in match.tasks} == {
        "plan_match": ("default_pool", "default"), "match_shard": ("gpu", "gpu"),
        "match": ("default_pool", "default"), "learning_paths": ("default_pool", "default")}
    shard = match.get_task("match_shard")
    assert isinstance(shard, MappedOperator) and shard.upstream_task_ids == {"plan_match"}
    merge = match.get_task("match")
    assert merge.upstream_task_ids == {"match_shard"}
    # an incremental night maps zero shards (skipped): the merge must still run, and a failed shard stops it
    assert merge.trigger_rule == "none_failed"
    assert [o.name for o in merge.outlets] == ["skillmatch.matches"]
    assert match.get_task("learning_paths").upstream_task_ids == {"match"}


def test_schedules_nightly_cron_then_assets(dagbag) -> None:
    from airflow.sdk import Asset

    ingest = dagbag.dags["skillmatch_ingest"]
    assert ingest.timetable.expression == "0 2 * * *"
    produced = {o.uri for d in dagbag.dags.values() for t in d.tasks for o in t.outlets if isinstance(o, Asset)}
    for dag_id in CHAIN[1:]:
        dag = dagbag.dags[dag_id]
        consumed = {a.uri for a in getattr(dag.timetable.asset_condition, "objects", [])}
        assert consumed, f"{dag_id} is not scheduled on Assets"
        assert consumed <= produced, f"{dag_id} waits on assets nobody produces: {consumed - produced}"


def test_dag_modules_do_not_import_heavy_libraries_at_parse_time() -> None:
    code = (
        "import importlib.util, json, sys, pathlib\n"
        f"for f in sorted(pathlib.Path({str(DAGS)!r}).glob('*.py')):\n"
        "    spec = importlib.util.spec_from_file_location(f.stem, f)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_resumes_are_ingested_after_every_postings_source(dagbag) -> None:
    # validate runs on both bronze Assets: the resumes event must come after every postings source wrote its part
    resumes = dagbag.dags["skillmatch_ingest"].get_task("ingest_resumes")
    assert "ingest_postings" in resumes.upstream_task_ids
    assert resumes.trigger_rule == "all_done"  # a failed source does not hold back the others' data
