"""The landing-folder connector on S3-compatible storage: a local S3 server (moto in server mode) on 127.0.0.1,
reached through fsspec / s3fs exactly as a production ``s3://`` landing folder would be."""
from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from skillmatch.config import Settings
from skillmatch.lake import read_parquet
from tests.s3_server import s3_server

CSV = ("job_id,title,company,description,listed\n"
       "a1,Data Engineer,Acme,\"Build batch and streaming pipelines in Python, SQL and Airflow for the analytics and data science teams.\","
       "2026-03-02T10:00:00Z\n"
       "a2,ML Engineer,Beta,\"Train and serve PyTorch models; own the feature store and the evaluation harness.\","
       "2026-03-03T10:00:00Z\n")
MAPPING = {"native_id": "job_id", "title": "title", "company": "company", "description": "description",
           "posted_at": "listed"}


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, object]]:
    """A moto S3 server with one bucket; yields (endpoint URL, boto3 client)."""
    with s3_server(monkeypatch, "landing", "lake") as server:
        yield server


def _settings(tmp_path: Path, lake: str = "local") -> Settings:
    from skillmatch.lake import lake_root

    root = lake_root("s3://lake/skillmatch") if lake == "s3" else tmp_path / "lake"
    return Settings(data_dir=root, shared_dir=None, source_mode="shared", dq_max_invalid_share=1.0,
                    local_dir=tmp_path / "local")


def _config(tmp_path: Path, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    cfg = {"postings": [{"name": "s3-drop", "kind": "landing", "path": "s3://landing/postings", "pattern": "*.csv",
                         "storage_options": {"client_kwargs": {"endpoint_url": endpoint}}, "columns": MAPPING}],
           "resumes": []}
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    monkeypatch.setenv("SKILLMATCH_SOURCES_CONFIG", str(path))


@pytest.mark.parametrize("lake", ["local", "s3"])
def test_s3_landing_ingests_new_then_only_changed_objects(s3, tmp_path: Path, monkeypatch, lake: str) -> None:
    """From an S3 landing folder into a local lake, and into a lake on S3 itself (bronze, silver, quarantine, the
    data-quality results and the source watermarks all in the bucket)."""
    import s3fs

    from skillmatch.sources.ingest import ingest_postings
    from skillmatch.validation.validate import validate_postings

    endpoint, client = s3
    s3fs.S3FileSystem.clear_instance_cache()
    _config(tmp_path, endpoint, monkeypatch)
    client.put_object(Bucket="landing", Key="postings/2026-03-03.csv", Body=CSV.encode())
    client.put_object(Bucket="landing", Key="postings/notes.txt", Body=b"not matched by the pattern")
    s = _settings(tmp_path, lake)

    first = ingest_postings(s, "run_1", "s3-drop")
    assert (first["read"], first["appended"], first["files_unchanged"]) == (2, 2, 0)
    bronze = read_parquet(s.lake("bronze", "postings")).sort_values("native_id")
    assert list(bronze["native_id"]) == ["a1", "a2"]
    assert list(bronze["source_file"]) == ["landing/postings/2026-03-03.csv"] * 2
    assert pd.Timestamp(bronze["posted_at"].iloc[0]) == pd.Timestamp("2026-03-02T10:00:00Z")

    # unchanged object: the watermark (path + checksum) skips it without reading it
    second = ingest_postings(s, "run_2", "s3-drop")
    assert (second["read"], second["appended"], second["files_unchanged"]) == (0, 0, 1)

    # the object changes (a2 reworded, a3 added): only the new versions land, a1 is recognised as seen
    changed = pd.read_csv(io.StringIO(CSV))
    changed.loc[1, "description"] = changed.loc[1, "description"] + " Remote within the EU."
    changed.loc[2] = ["a3", "Analytics Engineer", "Gamma", "Model the warehouse in dbt and own the BI semantic layer "
                      "for finance and growth teams.", "2026-03-04T09:00:00Z"]
    client.put_object(Bucket="landing", Key="postings/2026-03-03.csv", Body=changed.to_csv(index=False).encode())
    third = ingest_postings(s, "run_3", "s3-drop")
    assert (third["read"], third["already_in_bronze"], third["appended"]) == (3, 1, 2)

    counts = validate_postings(s, "val_1")
    assert (counts["silver"], counts["quarantine"], counts["duplicates"]) == (3, 0, 1)
    silver = read_parquet(s.lake("silver", "postings.parquet")).set_index("native_id")
    assert silver.loc["a2", "description"].endswith("Remote within the EU.")  # the newest version wins
    recon = read_parquet(s.lake("dq", "dq_reconciliation"))
    assert recon["holds"].all() and set(recon["source"]) == {"s3-drop"}
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="lake").get("Contents", []))
    if lake == "s3":
        assert "skillmatch/silver/postings.parquet" in keys and "skillmatch/state/sources/s3-drop.json" in keys
        assert sum(k.startswith("skillmatch/bronze/postings/ingest_date=") for k in keys) == 2  # run_1 and run_3
        assert sum(k.startswith("skillmatch/dq/dq_check_result/postings__") for k in keys) == 1
        assert (tmp_path / "local" / "dq" / "gx").is_dir()  # the GX project stays on the machine
    else:
        assert keys == []


def test_s3_landing_missing_prefix_is_a_clear_error(s3, tmp_path: Path, monkeypatch) -> None:
    import s3fs

    from skillmatch.sources.ingest import ingest_postings

    endpoint, _ = s3
    s3fs.S3FileSystem.clear_instance_cache()
    _config(tmp_path, endpoint, monkeypatch)
    with pytest.raises(FileNotFoundError, match="s3-drop: landing folder s3://landing/postings does not exist"):
        ingest_postings(_settings(tmp_path), "run_1", "s3-drop")


def test_seen_hashes_come_from_the_sources_own_bronze_files_only(s3, tmp_path: Path) -> None:
    """A record hash starts from its source, so ingest reads only its source's bronze files: another source's
    files (being rewritten by a parallel task, or unreadable) are never opened."""
    from skillmatch.lake import write_parquet_atomic
    from skillmatch.sources.ingest import _existing_hashes

    s = _settings(tmp_path, "s3")
    day = s.lake("bronze", "postings", "ingest_date=2026-03-03")
    write_parquet_atomic(pd.DataFrame({"record_hash": ["a1", "a2"]}), day / "run=r1__s3-drop.parquet")
    write_parquet_atomic(pd.DataFrame({"record_hash": ["a3"]}), day / "run=r2__s3-drop.parquet")
    (day / "run=r1__drop.parquet").write_bytes(b"not parquet: would fail if it were read")
    own = [day / "run=r2__s3-drop.parquet"]
    assert _existing_hashes(s, "postings", "s3-drop", exclude=own) == {"a1", "a2"}
    assert _existing_hashes(s, "postings", "s3-drop", exclude=[]) == {"a1", "a2", "a3"}
    with pytest.raises(Exception):
        _existing_hashes(s, "postings", "drop", exclude=[])  # its own file is the corrupt one: read, and it fails
