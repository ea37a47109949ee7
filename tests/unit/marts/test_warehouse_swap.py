"""Readers of the warehouse never see a half-written state while the nightly run replaces it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from skillmatch.lake import write_parquet_atomic
from skillmatch.marts.build import swap_in_warehouse


def _tables(root: Path, version: int, n: int) -> dict[str, Path]:
    """Two marts that must agree with each other (same version, same row count)."""
    return {name: write_parquet_atomic(pd.DataFrame({"version": [version] * n, "i": range(n)}),
                                       root / f"v{version}" / f"{name}.parquet")
            for name in ("mart_a", "mart_b")}


SNAPSHOT = ("SELECT (SELECT max(version) FROM marts.mart_a), (SELECT count(*) FROM marts.mart_a), "
            "(SELECT max(version) FROM marts.mart_b), (SELECT count(*) FROM marts.mart_b)")


def _snapshot(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(SNAPSHOT).fetchone()


def _snapshot_in_new_process(target: Path) -> list:
    code = ("import duckdb, json, sys\n"
            "con = duckdb.connect(sys.argv[1], read_only=True)\n"
            f"row = con.execute({SNAPSHOT!r}).fetchone()\n"
            "views = con.execute('SELECT count(*) FROM main.mart_b').fetchone()[0]\n"
            "print(json.dumps([*row, views]))\n")
    out = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_open_reader_keeps_a_complete_old_version_new_reader_gets_the_new_one(tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    swap_in_warehouse(target, _tables(tmp_path, 1, 3))
    reader = duckdb.connect(str(target), read_only=True)
    try:
        assert _snapshot(reader) == (1, 3, 1, 3)
        # the nightly run rebuilds while the reader is connected: not blocked, and the reader is undisturbed
        swap_in_warehouse(target, _tables(tmp_path, 2, 5))
        assert _snapshot(reader) == (1, 3, 1, 3)
        # a BI tool connecting now (another process) reads the complete new version
        assert _snapshot_in_new_process(target) == [2, 5, 2, 5, 5]
    finally:
        reader.close()
    # no temporary file is left beside the warehouse
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["warehouse.duckdb"]


def test_failed_build_leaves_the_previous_warehouse_in_place(tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    swap_in_warehouse(target, _tables(tmp_path, 1, 3))
    broken = {"mart_a": tmp_path / "missing.parquet"}
    try:
        swap_in_warehouse(target, broken)
        raise AssertionError("a build over a missing Parquet file must fail")
    except duckdb.IOException:
        pass
    con = duckdb.connect(str(target), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM marts.mart_a").fetchone()[0] == 3
    finally:
        con.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["warehouse.duckdb"]


def test_primary_keys_are_declared_and_a_broken_key_keeps_the_old_warehouse(tmp_path: Path) -> None:
    target = tmp_path / "warehouse.duckdb"
    good = write_parquet_atomic(pd.DataFrame({"candidate_id": ["cand_a", "cand_b"], "pages": [1, 2]}),
                                tmp_path / "good" / "dim_candidate.parquet")
    swap_in_warehouse(target, {"dim_candidate": good})
    con = duckdb.connect(str(target), read_only=True)
    try:
        keys = con.execute("SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = "
                           "'dim_candidate' AND constraint_type = 'PRIMARY KEY'").fetchall()
    finally:
        con.close()
    assert keys == [(["candidate_id"],)]
    dup = write_parquet_atomic(pd.DataFrame({"candidate_id": ["cand_a", "cand_a"], "pages": [1, 3]}),
                               tmp_path / "dup" / "dim_candidate.parquet")
    with pytest.raises(ValueError, match=r"marts.dim_candidate: rows are not unique on its key \(candidate_id\)"):
        swap_in_warehouse(target, {"dim_candidate": dup})
    assert _snapshot_rows(target) == 2  # the previous warehouse is still the one readers get


def _snapshot_rows(target: Path) -> int:
    con = duckdb.connect(str(target), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM marts.dim_candidate").fetchone()[0]
    finally:
        con.close()


def test_history_keeps_the_newest_runs_and_the_warehouse_exposes_history_and_staging(tmp_path: Path) -> None:
    import time

    from skillmatch.config import Settings
    from skillmatch.marts.build import _views, keep_history

    s = Settings(data_dir=tmp_path / "lake", shared_dir=None, source_mode="shared", marts_history_runs=2)
    for i, run in enumerate(["scheduled__d1", "scheduled__d2", "scheduled__d3"]):
        frames = {"fact_match": pd.DataFrame({"candidate_id": [f"cand_{i}"] * (i + 1), "score": [0.5] * (i + 1)}),
                  "dim_skill": pd.DataFrame({"skill_id": ["s"]})}  # not a history table
        assert keep_history(s, run, frames) == min(i + 1, 2)
        time.sleep(0.01)  # runs are told apart by when they were written
    kept = sorted(p.name for p in s.lake("marts_history", "fact_match").iterdir())
    assert kept == ["run=scheduled__d2", "run=scheduled__d3"]  # the oldest run was dropped
    assert not s.lake("marts_history", "dim_skill").exists()
    write_parquet_atomic(pd.DataFrame({"posting_id": ["p1"], "title": ["Data Engineer"], "text": ["long text"]}),
                         s.lake("silver", "postings.parquet"))
    write_parquet_atomic(pd.DataFrame({"candidate_id": ["cand_0"], "years_experience": [4.5], "text": ["redacted"],
                                       **{f"section_{n}": ["x"] for n in ("summary", "experience", "education",
                                                                          "skills")}}),
                         s.lake("silver", "resumes.parquet"))
    target = tmp_path / "warehouse.duckdb"
    swap_in_warehouse(target, {"mart_a": _tables(tmp_path, 1, 2)["mart_a"]}, _views(s))
    con = duckdb.connect(str(target), read_only=True)
    try:
        per_run = con.execute("SELECT run_id, count(*) FROM history.fact_match GROUP BY 1 ORDER BY 1").fetchall()
        assert per_run == [("scheduled__d2", 2), ("scheduled__d3", 3)]
        assert con.execute("SELECT title FROM staging.stg_postings").fetchall() == [("Data Engineer",)]
        cols = [r[0] for r in con.execute("DESCRIBE staging.stg_resumes").fetchall()]
        assert cols == ["candidate_id", "years_experience"]  # no resume text in the warehouse
    finally:
        con.close()
