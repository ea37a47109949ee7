"""pipeline_run records (success and failure) and `skillmatch status` (fresh, stale, failed, unreconciled)."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from skillmatch import ops, orchestration
from skillmatch.cli import main
from skillmatch.config import load_settings
from skillmatch.extraction.bases import MINILM, MPNET
from skillmatch.lake import utcnow, write_parquet_atomic


@pytest.fixture()
def settings(tmp_path, monkeypatch):  # noqa: ANN201
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("SKILLMATCH_MODEL_DIR", str(tmp_path / "models"))
    tagger = tmp_path / "models" / "tagger-20261101T000000"
    tagger.mkdir(parents=True)
    (tagger / "model.safetensors").write_bytes(b"")
    (tagger / "meta.json").write_text(json.dumps({"version": tagger.name, "base_model": MPNET}))
    (tmp_path / "models" / "promoted.json").write_text(json.dumps({MPNET: {"version": tagger.name}}))
    return load_settings()


def test_run_stage_records_success_and_failure(settings, monkeypatch) -> None:
    monkeypatch.setattr(orchestration, "_dispatch",
                        lambda stage, run_id, s, part=None: {"silver": 90, "quarantine": 7, "duplicates": 3})
    assert orchestration.run_stage("validate_postings", "scheduled__2026-11-23T02:00")["silver"] == 90

    def boom(stage, run_id, s, part=None):  # noqa: ANN001, ANN202
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(orchestration, "_dispatch", boom)
    with pytest.raises(RuntimeError):
        orchestration.run_stage("extract_postings", "scheduled__2026-11-23T02:00")
    runs = ops.pipeline_runs(settings)
    assert list(runs.columns) == ops.PIPELINE_RUN_COLUMNS
    ok = runs[runs["stage"] == "validate_postings"].iloc[0]
    assert (ok["status"], ok["dag_id"], ok["rows_in"], ok["rows_out"]) == ("success", "skillmatch_validate", 100, 90)
    assert json.loads(ok["counts"]) == {"silver": 90, "quarantine": 7, "duplicates": 3}
    assert ok["tagger_version"] == "tagger-20261101T000000" and ok["ended_at"] >= ok["started_at"]
    bad = runs[runs["stage"] == "extract_postings"].iloc[0]
    assert bad["status"] == "failed" and bad["error"] == "RuntimeError: CUDA out of memory"
    assert pd.isna(bad["rows_out"])
    # a retry of the same stage in the same run replaces its record
    monkeypatch.setattr(orchestration, "_dispatch",
                        lambda stage, run_id, s, part=None: {"documents": 5, "skill_rows": 40})
    orchestration.run_stage("extract_postings", "scheduled__2026-11-23T02:00")
    runs = ops.pipeline_runs(settings)
    assert len(runs) == 2
    again = runs[runs["stage"] == "extract_postings"].iloc[0]
    assert (again["status"], again["rows_in"], again["rows_out"]) == ("success", 5, 40)


def test_mapped_task_parts_keep_one_record_each(settings, monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(orchestration, "_dispatch",
                        lambda stage, run_id, s, part=None: seen.append(part) or {"read": 10, "appended": 8})
    for source in ("hn-who-is-hiring", "glassdoor-2020"):
        orchestration.run_stage("ingest_postings", "scheduled__2026-11-23T02:00", part=source)
    assert seen == ["hn-who-is-hiring", "glassdoor-2020"]  # the part reaches the stage
    runs = ops.pipeline_runs(settings).set_index("stage")
    assert sorted(runs.index) == ["ingest_postings[glassdoor-2020]", "ingest_postings[hn-who-is-hiring]"]
    assert set(runs["dag_id"]) == {"skillmatch_ingest"}
    assert list(runs["rows_in"]) == [10, 10] and list(runs["rows_out"]) == [8, 8]


def _marts(settings, age_hours: float) -> None:
    for name in ("fact_match", "mart_skill_demand"):
        path = write_parquet_atomic(pd.DataFrame({"x": [1]}), settings.lake("marts", f"{name}.parquet"))
        t = time.time() - age_hours * 3600
        os.utime(path, (t, t))


def _dq(settings, reconciled: bool) -> None:
    now = utcnow()
    rows = [{"run_id": "r2", "entity": "postings", "check_name": "expect_column_values_to_not_be_null",
             "column_name": "title", "success": False, "unexpected_count": 4, "checked_at": now},
            {"run_id": "r2", "entity": "postings", "check_name": "reconcile_counts(hn)", "column_name": None,
             "success": reconciled, "unexpected_count": 0 if reconciled else 2, "checked_at": now},
            {"run_id": "r1", "entity": "postings", "check_name": "reconcile_counts(hn)", "column_name": None,
             "success": False, "unexpected_count": 9, "checked_at": now.replace(year=2025)}]
    write_parquet_atomic(pd.DataFrame(rows), settings.lake("dq", "dq_check_result", "postings__r2.parquet"))


def test_status_healthy_then_stale_then_unreconciled_then_failed(settings, monkeypatch, capsys) -> None:
    report, code = ops.status_report(settings, 26)
    assert code == 1 and "has not run" in report["problems"][0]

    _marts(settings, age_hours=3)
    _dq(settings, reconciled=True)  # an older run's failure (r1) no longer counts
    monkeypatch.setattr(orchestration, "_dispatch", lambda stage, run_id, s, part=None: {"rows": 1})
    orchestration.run_stage("marts", "r2")
    report, code = ops.status_report(settings, 26)
    assert code == 0 and report["healthy"], report["problems"]
    assert report["mart_age_hours"]["fact_match"] == pytest.approx(3, abs=0.1)
    assert report["last_runs"][0]["dag_id"] == "skillmatch_marts" and report["last_runs"][0]["status"] == "success"
    # a quarantining expectation is listed but is not a problem
    assert any("expect_column_values_to_not_be_null(title) 4 unexpected" in f for f in report["failing_checks"])
    assert main(["status"]) == 0

    report, code = ops.status_report(settings, 2)  # the same marts, a stricter freshness limit
    assert code == 1 and "stale marts (older than 2 h): fact_match, mart_skill_demand" in report["problems"]
    assert main(["status", "--stale-hours", "2"]) == 1

    _dq(settings, reconciled=False)
    report, code = ops.status_report(settings, 26)
    assert code == 1 and report["problems"] == ["counts do not reconcile: reconcile_counts(hn)"]

    _dq(settings, reconciled=True)

    def boom(stage, run_id, s, part=None):  # noqa: ANN001, ANN202
        raise ValueError("warehouse is locked")

    monkeypatch.setattr(orchestration, "_dispatch", boom)
    with pytest.raises(ValueError):
        orchestration.run_stage("marts", "r3")
    report, code = ops.status_report(settings, 26)
    assert code == 1
    assert report["problems"] == ["skillmatch_marts: last run r3 failed in marts: ValueError: warehouse is locked"]
    capsys.readouterr()
    assert main(["status"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["healthy"] is False and out["last_runs"][0]["run_id"] == "r3"


def test_status_shows_the_promoted_models_and_a_newer_one_the_gate_refused(settings) -> None:
    """A weekly retrain the gate refuses leaves the promoted model serving; `skillmatch status` says so, and why."""
    from skillmatch.extraction.linker import promote_linker_if_better
    from skillmatch.extraction.tagger import promote_if_better

    models = settings.model_dir
    (models / "promoted.json").unlink()
    shutil.rmtree(models / "tagger-20261101T000000")
    assert ops.model_status(models, MPNET) == {"tagger": {"promoted": None}, "linker": {"promoted": None}}

    def trained(name: str, meta: dict) -> Path:
        (models / name).mkdir()
        (models / name / "model.safetensors").write_bytes(b"")
        (models / name / "meta.json").write_text(json.dumps({"version": name, **meta}))
        return models / name

    assert promote_if_better(trained("tagger-20261201T000000", {"dev": {"all": {"f1": 0.51}}, "base_model": MPNET}),
                             models, 0.35)[0]
    decorte = {w: {"mean": {"RP@5": rp, "MRR": mrr}} for w, rp, mrr in (("base", 0.68, 0.66), ("linker", 0.70, 0.72))}
    held = {"base": 0.3, "linker": 0.7}
    assert promote_linker_if_better(trained("linker-20261201T000000", {"decorte": decorte, "held_out_rp5": held}),
                                    models, 0.01)[0]
    worse = {**decorte, "linker": {"mean": {"RP@5": 0.69, "MRR": 0.75}}}
    ok, why = promote_linker_if_better(trained("linker-20261206T000000", {"decorte": worse, "held_out_rp5": held}),
                                       models, 0.01)
    assert not ok
    trained("tagger-20261206T000000", {"dev": {"all": {"f1": 0.52}}, "base_model": MPNET})  # the gate has not run yet
    # a tagger from another base is not the configured base's newest
    trained("tagger-20261207T000000", {"dev": {"all": {"f1": 0.50}}, "base_model": MINILM})

    report, code = ops.status_report(settings, 26)
    status = report["models"]
    assert status["tagger"]["promoted"]["version"] == "tagger-20261201T000000"
    assert status["tagger"]["promoted"]["dev_f1"] == 0.51
    assert status["tagger"]["newest_not_promoted"] == {"version": "tagger-20261206T000000",
                                                       "reason": "no verdict recorded by the gate"}
    assert status["linker"]["promoted"]["version"] == "linker-20261201T000000"
    newest = status["linker"]["newest_not_promoted"]
    assert newest["version"] == "linker-20261206T000000" and newest["promoted"] is False
    assert newest["reason"] == why == ("linker-20261206T000000 Decorte mean RP@5 0.6900 is below the promoted "
                                       "linker-20261201T000000 (0.7000): not promoted")
    assert "judged_at" in newest
    assert "no marts" in report["problems"][0]  # a refused model is not a problem of the platform
    assert not any("linker" in p or "tagger" in p for p in report["problems"])
