"""Partitioned Parquet marts: Hive layout by week, read back with the same rows and types, swapped in as a whole."""
from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from skillmatch.lake import write_partitioned_atomic
from skillmatch.marts.build import swap_in_warehouse

WEEKS = [date(2026, 1, 5) + timedelta(weeks=i) for i in range(3)]


def _weekly(version: int, rows_per_week: int) -> pd.DataFrame:
    rows = [{"week_start": w, "source": "hn", "skill_id": f"s{i}", "postings": version, "postings_in_week": 10,
             "share": version / 10} for w in WEEKS for i in range(rows_per_week)]
    return pd.DataFrame(rows)


def _read(path: Path, where: str = "") -> pd.DataFrame:
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT * FROM read_parquet(?, hive_partitioning = true) {where}",
                           [str(path / "**" / "*.parquet")]).df()
    finally:
        con.close()


def test_weekly_mart_is_written_one_folder_per_week_and_reads_back_whole(tmp_path: Path) -> None:
    path = write_partitioned_atomic(_weekly(1, 2), tmp_path / "marts" / "mart_skill_demand_weekly", "week_start")
    assert sorted(p.name for p in path.iterdir()) == [f"week_start={w.isoformat()}" for w in WEEKS]
    back = _read(path)
    assert len(back) == 6 and str(back["week_start"].dtype).startswith("datetime64")  # DATE, not text
    # a filter on the partition column reads only that week's folder
    one = _read(path, f"WHERE week_start = DATE '{WEEKS[1].isoformat()}'")
    assert len(one) == 2 and set(one["skill_id"]) == {"s0", "s1"}
    con = duckdb.connect()
    try:
        plan = "\n".join(r[1] for r in con.execute(
            "EXPLAIN ANALYZE SELECT count(*) FROM read_parquet(?, hive_partitioning = true) WHERE week_start = ?",
            [str(path / "**" / "*.parquet"), WEEKS[1]]).fetchall())
    finally:
        con.close()
    assert "Total Files Read: 1" in plan


def test_warehouse_table_from_a_partitioned_mart_keeps_column_order_types_and_rows(tmp_path: Path) -> None:
    df = _weekly(1, 2)
    path = write_partitioned_atomic(df, tmp_path / "mart_skill_demand_weekly", "week_start")
    target = swap_in_warehouse(tmp_path / "w.duckdb", {"mart_skill_demand_weekly": path},
                               columns={"mart_skill_demand_weekly": list(df.columns)})
    con = duckdb.connect(str(target), read_only=True)
    try:
        cols = con.execute("DESCRIBE marts.mart_skill_demand_weekly").fetchall()
        rows = con.execute("SELECT week_start, count(*) FROM marts.mart_skill_demand_weekly GROUP BY 1 ORDER BY 1"
                           ).fetchall()
    finally:
        con.close()
    assert [c[0] for c in cols] == list(df.columns)
    assert dict((c[0], c[1]) for c in cols)["week_start"] == "DATE"
    assert rows == [(w, 2) for w in WEEKS]


def test_rewrite_swaps_the_whole_dataset_keeps_one_previous_version_and_readers_never_see_a_mix(
        tmp_path: Path) -> None:
    path = tmp_path / "mart_skill_demand_weekly"
    write_partitioned_atomic(_weekly(1, 51), path, "week_start")
    seen: list[tuple] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                # resolve the link once, as lake.read_parquet does: every file then comes from one version
                d = _read(path.resolve())
            except duckdb.IOException:  # that version was removed two swaps later, mid-read: read again
                continue
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                return
            seen.append((len(d), tuple(sorted(set(d["postings"])))))

    t = threading.Thread(target=reader)
    t.start()
    try:
        for version in range(2, 8):
            write_partitioned_atomic(_weekly(version, 50 + version), path, "week_start")
            time.sleep(0.05)  # let the reader in between swaps as well as during them
    finally:
        stop.set()
        t.join()
    assert not errors
    assert seen, "the reader never completed a read"
    for rows, versions in seen:  # every read is one complete version: its row count and a single version number
        assert len(versions) == 1 and rows == 3 * (50 + versions[0])
    assert path.is_symlink() and sorted(_read(path)["postings"].unique()) == [7]
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert len(hidden) == 2  # the current version and the previous one; older versions and temporary links gone
    assert path.resolve().name in hidden


def test_empty_frame_and_a_failed_write_keep_a_readable_dataset(tmp_path: Path) -> None:
    path = tmp_path / "mart_skill_demand_weekly"
    write_partitioned_atomic(_weekly(1, 1), path, "week_start")
    bad = _weekly(2, 1).assign(share=[object()] * 3)  # not writable as Parquet
    with pytest.raises(Exception):
        write_partitioned_atomic(bad, path, "week_start")
    assert sorted(_read(path)["postings"].unique()) == [1]  # the failed write left the old version in place
    assert len([p for p in tmp_path.iterdir() if p.name.startswith(".")]) == 1
    write_partitioned_atomic(_weekly(1, 0).reindex(columns=["week_start", "source", "skill_id"]), path,
                             "week_start")
    assert _read(path).empty
