"""The Parquet lake on S3-compatible storage (a local moto server): the same lake functions, the same results,
objects in the bucket; atomic swaps by a ``_CURRENT`` object; settings switch by environment alone."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.lake import (CURRENT, is_remote, lake_root, modified_at, read_parquet, remove_tree,
                             write_json_atomic, write_parquet_atomic, write_partitioned_atomic)
from tests.s3_server import s3_server


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A moto S3 server with a ``lake`` bucket; yields a boto3 client."""
    with s3_server(monkeypatch, "lake") as (_, client):
        yield client


def _keys(client, prefix: str = "") -> list[str]:  # noqa: ANN001 - boto3 client
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket="lake", Prefix=prefix).get("Contents", []))


def _weekly(version: int) -> pd.DataFrame:
    return pd.DataFrame({"week_start": ["2026-01-05", "2026-01-05", "2026-01-12", None],
                         "skill_id": ["a", "b", "a", "c"], "postings": [version] * 4})


def test_settings_from_the_environment_put_the_lake_on_s3_and_machine_files_locally(s3, tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", "s3://lake/skillmatch")
    monkeypatch.setenv("SKILLMATCH_LOCAL_DIR", str(tmp_path / "local"))
    s = load_settings()
    assert s.remote_lake and is_remote(s.lake("gold"))
    assert str(s.lake("gold", "fact_match.parquet")) == "s3://lake/skillmatch/gold/fact_match.parquet"
    assert s.warehouse_path == tmp_path / "local" / "warehouse.duckdb"
    assert s.local("cache") == tmp_path / "local" / "cache"
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.delenv("SKILLMATCH_LOCAL_DIR")
    s = load_settings()  # a local lake keeps everything in one folder, as before
    assert not s.remote_lake and s.warehouse_path == tmp_path / "lake" / "warehouse.duckdb"
    assert s.local("cache") == s.lake("cache") == tmp_path / "lake" / "cache"
    assert lake_root(f"file://{tmp_path}") == tmp_path


def test_parquet_and_json_round_trip_through_the_bucket(s3) -> None:
    root = lake_root("s3://lake/sm")
    df = pd.DataFrame({"id": ["x", "y"], "n": [1, 2], "when": pd.to_datetime(["2026-01-01", "2026-02-01"], utc=True)})
    write_parquet_atomic(df, root / "silver" / "t.parquet")
    write_parquet_atomic(df.assign(n=[3, 4]), root / "dq" / "runs" / "b.parquet")
    write_parquet_atomic(df.assign(n=[5, 6]), root / "dq" / "runs" / "a.parquet")
    write_json_atomic({"watermark": 7}, root / "state" / "s.json")
    assert _keys(s3) == ["sm/dq/runs/a.parquet", "sm/dq/runs/b.parquet", "sm/silver/t.parquet", "sm/state/s.json"]
    pd.testing.assert_frame_equal(read_parquet(root / "silver" / "t.parquet"), df)
    assert list(read_parquet(root / "silver" / "t.parquet", columns=["n"]).columns) == ["n"]
    assert sorted(read_parquet(root / "dq" / "runs")["n"]) == [3, 4, 5, 6]  # a folder: every file under it
    assert (root / "state" / "s.json").read_text().count('"watermark": 7') == 1
    with pytest.raises(FileNotFoundError, match="s3://lake/sm/gold/none.parquet does not exist"):
        read_parquet(root / "gold" / "none.parquet")
    remove_tree(root / "dq")
    assert _keys(s3) == ["sm/silver/t.parquet", "sm/state/s.json"]


def test_partitioned_dataset_swaps_by_its_current_object_and_keeps_one_previous_version(s3) -> None:
    path = lake_root("s3://lake/sm/marts/weekly")
    write_partitioned_atomic(_weekly(1), path, "week_start")
    v1 = (path / CURRENT).read_text()
    assert _keys(s3, "sm/marts/weekly/") == ["sm/marts/weekly/_CURRENT"] + [
        f"sm/marts/weekly/{v1}/week_start={w}/part-0.parquet"
        for w in ("2026-01-05", "2026-01-12", "__HIVE_DEFAULT_PARTITION__")]
    first_time = modified_at(path)
    write_partitioned_atomic(_weekly(2).iloc[:3], path, "week_start")
    v2 = (path / CURRENT).read_text()
    back = read_parquet(path).sort_values(["week_start", "skill_id"]).reset_index(drop=True)
    # only the current version is read: three rows of version 2, none of version 1, the partition column back
    assert back[["week_start", "skill_id", "postings"]].values.tolist() == [
        ["2026-01-05", "a", 2], ["2026-01-05", "b", 2], ["2026-01-12", "a", 2]]
    assert modified_at(path) >= first_time
    write_partitioned_atomic(_weekly(3).iloc[:1], path, "week_start")
    v3 = (path / CURRENT).read_text()
    versions = {k.split("/")[3] for k in _keys(s3, "sm/marts/weekly/v")}
    assert versions == {v2, v3} and len({v1, v2, v3}) == 3  # the previous one stays a run, older ones go
    assert read_parquet(path)["postings"].tolist() == [3]
    write_partitioned_atomic(_weekly(4).iloc[:0], path, "week_start")  # an empty frame: one file, no rows
    assert len(read_parquet(path)) == 0


def test_marts_history_and_warehouse_on_s3(s3, tmp_path: Path) -> None:
    """History copies in the bucket (the oldest run dropped), staging and history copied into the warehouse as
    tables (no httpfs at run time), and the warehouse published beside the lake."""
    import time

    from skillmatch.marts.build import _views, keep_history, publish_warehouse, swap_in_warehouse

    s = Settings(data_dir=lake_root("s3://lake/sm"), shared_dir=None, source_mode="shared", marts_history_runs=2,
                 local_dir=tmp_path / "local")
    for i, run in enumerate(["scheduled__d1", "scheduled__d2", "scheduled__d3"]):
        frames = {"fact_match": pd.DataFrame({"candidate_id": [f"c{i}"] * (i + 1)})}
        assert keep_history(s, run, frames) == min(i + 1, 2)
        time.sleep(1.1)  # object times have one-second resolution
    assert [k.split("/")[3] for k in _keys(s3, "sm/marts_history/")] == ["run=scheduled__d2", "run=scheduled__d3"]
    write_parquet_atomic(pd.DataFrame({"posting_id": ["p1"], "title": ["Data Engineer"], "text": ["long"]}),
                         s.lake("silver", "postings.parquet"))
    views = _views(s)
    assert set(views) == {"staging.stg_postings", "history.fact_match"}
    target = s.warehouse_path
    target.parent.mkdir(parents=True)
    swap_in_warehouse(target, {"mart_a": pd.DataFrame({"candidate_id": ["c9"], "score": [0.5]})}, views)
    publish_warehouse(s, target)
    assert "sm/warehouse.duckdb" in _keys(s3)
    # a dashboard on another machine: no local file yet -> fetched from the lake; up to date -> left alone
    from skillmatch.marts.build import fetch_published_warehouse

    other = Settings(data_dir=s.data_dir, shared_dir=None, source_mode="shared", local_dir=tmp_path / "ui")
    fetched = fetch_published_warehouse(other)
    assert fetched == tmp_path / "ui" / "warehouse.duckdb" and fetched.read_bytes() == target.read_bytes()
    before = fetched.stat().st_ino
    assert fetch_published_warehouse(other).stat().st_ino == before  # not downloaded again
    time.sleep(1.1)
    publish_warehouse(s, target)  # the next night's copy
    assert fetch_published_warehouse(other).stat().st_ino != before
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(s3.get_object(Bucket="lake", Key="sm/warehouse.duckdb")["Body"].read())
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert con.execute("SELECT run_id, count(*) FROM history.fact_match GROUP BY 1 ORDER BY 1").fetchall() == [
            ("scheduled__d2", 2), ("scheduled__d3", 3)]
        assert con.execute("SELECT * FROM staging.stg_postings").fetchall() == [("p1", "Data Engineer")]
        assert con.execute("SELECT candidate_id FROM marts.mart_a").fetchall() == [("c9",)]
    finally:
        con.close()


def test_pseudonym_key_must_come_from_the_environment_with_a_remote_lake(s3, monkeypatch) -> None:
    from skillmatch.validation.pii import pseudonym_key

    monkeypatch.delenv("SKILLMATCH_PSEUDONYM_KEY", raising=False)
    with pytest.raises(RuntimeError, match="set SKILLMATCH_PSEUDONYM_KEY"):
        pseudonym_key(lake_root("s3://lake/sm"))
    assert _keys(s3) == []  # no key object written beside the data
    monkeypatch.setenv("SKILLMATCH_PSEUDONYM_KEY", "k")
    assert pseudonym_key(lake_root("s3://lake/sm")) == b"k"


def test_objects_another_worker_writes_are_seen_at_once(s3) -> None:
    """No cached listing hides a new object: parallel tasks (the mapped ingest of four sources) list and read
    each other's bronze files while they run."""
    root = lake_root("s3://lake/sm")
    s3.put_object(Bucket="lake", Key="sm/bronze/one.parquet", Body=b"1")
    assert [p.name for p in (root / "bronze").iterdir()] == ["one.parquet"]
    s3.put_object(Bucket="lake", Key="sm/bronze/two.parquet", Body=b"2")  # written by another process
    assert (root / "bronze" / "two.parquet").exists()
    assert sorted(p.name for p in (root / "bronze").glob("*.parquet")) == ["one.parquet", "two.parquet"]
