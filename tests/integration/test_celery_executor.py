"""The nightly DAG chain on a real CeleryExecutor deployment: local redis + PostgreSQL, scheduler, dag-processor,
api-server and two celery workers (queue ``default`` and queue ``gpu``), on a slice of ../shared/data.

What ``dag.test()`` cannot show: the DAGs chain on their Assets through the scheduler, every task runs in a worker
process that reaches the metadata through the API server's execution API, GPU work goes to the ``gpu`` worker,
and the marts come out as they do from a LocalExecutor-style run of the same slice (``dag.test()``, below).

The deployment's lake is on S3-compatible storage (a local moto server, reached over HTTP like MinIO): the
workers share nothing but the bucket, and the environment alone (``SKILLMATCH_DATA_DIR=s3://...``,
``AWS_ENDPOINT_URL``) switches the same DAG files from the local lake of the reference run to it.
"""
from __future__ import annotations

import os
import secrets
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA
from tests.integration.celery_stack import (AirflowDeployment, CeleryStack, Stopped, airflow_env, free_port,
                                            missing_services, start_airflow, start_postgres, start_redis)
from tests.integration.test_nightly_chain import CHAIN, _run_chain
from tests.s3_server import s3_server

pytestmark = [pytest.mark.integration, pytest.mark.celery]

# name -> (queues, concurrency); the gpu pool lets one GPU task run at a time anyway
WORKERS = {"default": ("default", 2), "gpu": ("gpu", 1)}
RESUMES = 10
CHAIN_TIMEOUT_S = 900
BAD_TASK_STATES = ("failed", "up_for_retry", "upstream_failed")


def _slice_env(data: Path | str, pseudonym_key: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The skillmatch settings of one run of the slice: the same for both runs but the lake."""
    return {
        **(extra or {}),
        "SKILLMATCH_DATA_DIR": str(data),
        "SKILLMATCH_SHARED_DIR": str(SHARED_DATA),
        "SKILLMATCH_SOURCE": "shared",
        "SKILLMATCH_MAX_POSTINGS_PER_SOURCE": "10",
        "SKILLMATCH_MAX_RESUMES": str(RESUMES),
        # extraction is most of the time on a CPU: fewer sentences per document keep the test to minutes
        "SKILLMATCH_MAX_SENTENCES_PER_DOC": "12",
        "SKILLMATCH_MAX_TAGGED_CHARS_PER_POSTING": "2000",
        "SKILLMATCH_MAX_TAGGED_CHARS_PER_RESUME": "500",
        "SKILLMATCH_MAX_TAGGED_LIST_CHARS_PER_RESUME": "1500",
        # about 40 postings in shards of 16 and 10 resumes in shards of 4: extraction, resume parsing and the match
        # fan out over three mapped tasks each
        "SKILLMATCH_EXTRACT_SHARD_DOCS": "16",
        "SKILLMATCH_RESUME_SHARD_FILES": "4",
        "SKILLMATCH_MATCH_SHARD_CANDIDATES": "4",
        "SKILLMATCH_DEVICE": "cpu",
        "SKILLMATCH_MODEL_DIR": str(ROOT / "models"),  # the tagger `make model` promoted
        # candidate ids are keyed hashes: without one key, the two lakes would name the same resume differently
        "SKILLMATCH_PSEUDONYM_KEY": pseudonym_key,
        "GX_ANALYTICS_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def _task_log_tails(home: Path, rows: list[tuple], lines: int = 60) -> str:
    """The end of the latest attempt's log of each (dag_id, run_id, task_id, map_index) in ``rows``."""
    out = []
    for dag_id, run_id, task_id, map_index in rows:
        folder = home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        logs = sorted(folder.glob("attempt=*.log"))
        text = logs[-1].read_text(errors="replace").splitlines()[-lines:] if logs else ["(no task log)"]
        out.append(f"----- task log {dag_id}.{task_id}[{map_index}] {run_id} -----\n" + "\n".join(text))
    return "\n".join(out)


def _run_chain_on_celery(stack: CeleryStack, af: AirflowDeployment) -> None:
    """Unpause the chain, trigger the ingest DAG and wait until the marts DAG has succeeded and nothing of the
    chain is left queued or running; raise at the first failed run or task (with its log)."""
    db = af.metadata

    def parsed() -> bool:
        errors = db.query("SELECT filename, stacktrace FROM import_error")
        assert not errors, f"DAG import errors: {errors}"
        rows = dict(db.query("SELECT dag_id, next_dagrun FROM dag WHERE dag_id = ANY(%s)", (CHAIN,)))
        return len(rows) == len(CHAIN) and rows["skillmatch_ingest"] is not None  # the others run on Assets

    stack.wait_for("the dag-processor to serialise the chain", parsed, timeout=240, interval=2)
    # Trigger the nightly slot the scheduler would create on unpausing (catchup=False still runs the latest cron
    # time): one ingest run, not a manual one plus a scheduled one. Triggered while paused, so it waits queued.
    ((slot,),) = db.query("SELECT next_dagrun FROM dag WHERE dag_id = 'skillmatch_ingest'")
    af.cli(stack, "airflow-dags-trigger", "dags", "trigger", "skillmatch_ingest", "--logical-date", slot.isoformat())
    af.cli(stack, "airflow-dags-unpause", "dags", "unpause", "--treat-dag-id-as-regex", "--yes",
           "^(" + "|".join(CHAIN) + ")$")
    deadline = time.monotonic() + CHAIN_TIMEOUT_S
    while True:
        stack.check_alive()
        runs = db.query("SELECT dag_id, run_id, state FROM dag_run WHERE dag_id = ANY(%s)", (CHAIN,))
        bad = db.query("SELECT dag_id, run_id, task_id, map_index FROM task_instance WHERE dag_id = ANY(%s) "
                       "AND state = ANY(%s)", (CHAIN, list(BAD_TASK_STATES)))
        failed = [r for r in runs if r[2] == "failed"]
        if bad or failed:
            raise AssertionError(f"failed runs {failed}, failed tasks {bad}\n{_task_log_tails(af.home, bad)}")
        if ("skillmatch_marts", "success") in {(d, s) for d, _, s in runs} and all(s == "success" for *_, s in runs):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the chain did not finish in {CHAIN_TIMEOUT_S} s; runs: {sorted(runs)}")
        time.sleep(3)


def _marts(db: Path) -> dict[str, object]:
    """What must agree between two runs of the same slice: rows per mart table, the (posting, skill) links, the
    candidate skills, and each candidate's best posting with its score."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        return {
            "counts": {t: con.execute(f'SELECT count(*) FROM marts."{t}"').fetchone()[0] for t in tables},
            "posting_skills": set(con.execute("SELECT posting_id, skill_id FROM marts.fact_posting_skill").fetchall()),
            "candidate_skills": set(con.execute("SELECT candidate_id, skill_id FROM marts.fact_candidate_skill")
                                    .fetchall()),
            "top_match": dict((c, (p, round(s, 4))) for c, p, s in con.execute(
                "SELECT candidate_id, posting_id, score FROM marts.fact_match WHERE rank_for_candidate = 1")
                .fetchall()),
        }
    finally:
        con.close()


@pytest.mark.skipif(not (SHARED_DATA / "postings").is_dir(),
                    reason=f"real data not found at {SHARED_DATA} (set SKILLMATCH_SHARED_DIR)")
def test_nightly_chain_on_celery_executor_with_two_workers(airflow_db, tmp_path, monkeypatch) -> None:
    reason = missing_services()
    if reason:
        pytest.skip(reason)
    key = secrets.token_hex(16)
    stack = CeleryStack(tmp_path / "stack")
    celery_lake, celery_local = "s3://lake/celery", tmp_path / "celery-local"
    s3 = s3_server(monkeypatch, "lake")
    endpoint, client = s3.__enter__()
    stack.on_cleanup(lambda: s3.__exit__(None, None, None))
    s3_env = {k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                         "AWS_DEFAULT_REGION")}
    ok = False
    try:
        broker = start_redis(stack)
        postgres = start_postgres(stack)
        api_port = free_port()
        env = airflow_env(tmp_path / "stack" / "airflow", ROOT / "dags", ROOT / "plugins", postgres, broker,
                          api_port, _slice_env(celery_lake, key, {**s3_env, "SKILLMATCH_LOCAL_DIR": str(celery_local)}))
        af = start_airflow(stack, env, api_port, ROOT, WORKERS)
        started = time.monotonic()
        _run_chain_on_celery(stack, af)
        print(f"\nchain on CeleryExecutor: {time.monotonic() - started:.0f} s")
        db = af.metadata
        runs = db.query("SELECT dag_id, run_type, state FROM dag_run WHERE dag_id = ANY(%s)", (CHAIN,))
        tis = db.query("SELECT dag_id, task_id, map_index, state, queue, hostname, external_executor_id "
                       "FROM task_instance WHERE dag_id = ANY(%s)", (CHAIN,))
        celery_workers = dict(db.query("SELECT task_id, worker FROM celery_taskmeta"))
        leftover_triggers = db.query("SELECT target_dag_id FROM asset_dag_run_queue WHERE target_dag_id = ANY(%s)",
                                     (CHAIN,))
        lake_keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket="lake")
                     for o in page.get("Contents", [])]
        celery_db = tmp_path / "celery-warehouse.duckdb"  # the copy the marts task published beside the lake
        celery_db.write_bytes(client.get_object(Bucket="lake", Key="celery/warehouse.duckdb")["Body"].read())
        ok = True
    finally:
        stopped: list[Stopped] = stack.shutdown(timeout=60)
        leftovers = stack.leftovers()
        if not ok:
            print(stack.log_tails(60))
    print("shutdown: " + ", ".join(f"{s.name} {s.seconds:g} s (exit {s.returncode})" for s in stopped))
    # shut down cleanly: every process left on SIGTERM, in time, and took its children along
    assert [s for s in stopped if s.killed] == [], stopped
    assert leftovers == [], leftovers

    # one run per DAG, all successful; the ingest run is the one triggered, the others came from its Assets
    assert sorted((d, t, s) for d, t, s in runs) == sorted(
        [("skillmatch_ingest", "manual", "success")] + [(d, "asset_triggered", "success") for d in CHAIN[1:]])
    assert leftover_triggers == []  # no Asset event left waiting: no DAG ran on half of its inputs
    assert tis and all(state == "success" for _, _, _, state, *_ in tis), tis

    # the two workers split the work by queue: GPU tasks on the gpu worker only, the rest on the default one
    host = socket.getfqdn()
    gpu_tasks = {(d, t) for d, t, _, _, queue, *_ in tis if queue == "gpu"}
    assert gpu_tasks == {("skillmatch_extract", "extract_postings_shard"),
                         ("skillmatch_extract", "extract_resumes_shard"), ("skillmatch_match", "match_shard")}
    for sharded in ("extract_postings_shard", "parse_resumes_shard", "match_shard"):
        shards = sorted(m for d, t, m, *_ in tis if t == sharded)
        assert shards == [0, 1, 2], (sharded, shards)  # one mapped task per shard
    for dag_id, task_id, map_index, _, queue, hostname, celery_id in tis:
        name = "gpu" if queue == "gpu" else "default"
        assert queue == name, (dag_id, task_id, queue)
        assert hostname == f"{host}-{name}", (dag_id, task_id, map_index, hostname)
        assert celery_workers.get(celery_id) == f"{name}@{socket.gethostname()}", (dag_id, task_id, celery_id)

    # the lake lives in the bucket; the workers' own folder holds only machine files (GX, the warehouse build)
    for key_ in ("silver/postings.parquet", "silver/resumes.parquet", "gold/fact_posting_skill.parquet",
                 "gold/fact_match.parquet", "gold/fact_learning_step.parquet", "marts/fact_match.parquet",
                 "marts/mart_skill_demand_weekly/_CURRENT", "warehouse.duckdb"):
        assert f"celery/{key_}" in lake_keys, key_
    assert any(k.startswith("celery/bronze/resumes/ingest_date=") for k in lake_keys)
    assert {p.name for p in celery_local.iterdir()} <= {"dq", "warehouse.duckdb"}, list(celery_local.iterdir())

    # the same slice through dag.test() (the embedded LocalExecutor path) gives the same marts
    reference_lake = tmp_path / "reference-lake"
    reference_env = _slice_env(reference_lake, key)
    for k in [k for k in os.environ if k.startswith("SKILLMATCH_") and k not in reference_env]:
        monkeypatch.delenv(k)  # the stack's processes did not see them either
    for k, v in reference_env.items():
        monkeypatch.setenv(k, v)
    # validation points GX at the lake through this variable in-process: registered so teardown removes it again
    monkeypatch.setenv("SKILLMATCH_DQ_DIR", str(reference_lake / "dq" / "gx"))
    started = time.monotonic()
    _run_chain()
    print(f"same chain through dag.test(): {time.monotonic() - started:.0f} s")
    celery, reference = _marts(celery_db), _marts(reference_lake / "warehouse.duckdb")
    assert celery["counts"]["dim_candidate"] == RESUMES and celery["posting_skills"] and celery["top_match"]
    for part in ("counts", "posting_skills", "candidate_skills", "top_match"):
        assert celery[part] == reference[part], part
