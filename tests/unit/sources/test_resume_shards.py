"""Resume parsing fanned out over shards (the ingest DAG's mapped tasks): the bronze rows are the ones a single
ingest writes, a shard that did not run costs time and not data, and the parsed parts are removed afterwards."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from skillmatch.lake import read_parquet
from skillmatch.sources.ingest import ingest_resumes, parse_resumes_shard, plan_resume_parsing
from tests.conftest import SHARED_DATA
from tests.unit.sources.test_bad_input import _pdf, make_settings

COMPARED = ["source", "source_file", "category", "record_hash", "raw_text", "pages", "parse_error", "document_date"]


def _folders(root: Path) -> dict[str, Path]:
    """Two resume folders: hand-made files (text, an encrypted and a corrupt PDF) and, when the shared data is
    here, real resume PDFs copied from it."""
    made = root / "made" / "ENGINEERING"
    made.mkdir(parents=True)
    for i in range(3):
        (made / f"cv_{i}.txt").write_text(f"Engineer {i}\nSkills: Python, SQL, Kubernetes\nExperience: {i} years",
                                          encoding="utf-8")
    (made / "locked.pdf").write_bytes(_pdf(encrypt="secret"))
    (made / "broken.pdf").write_bytes(b"%PDF-1.4 truncated")
    folders = {"made": root / "made"}
    real = SHARED_DATA / "resumes"
    pdfs = sorted(real.rglob("*.pdf"))[:4] if real.is_dir() else []
    if pdfs:
        for p in pdfs:
            target = root / "real" / p.parent.name / p.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)
        folders["real"] = root / "real"
    return folders


def _bronze(settings) -> pd.DataFrame:  # noqa: ANN001 - Settings
    return read_parquet(settings.lake("bronze", "resumes"))[COMPARED].sort_values(
        ["source", "source_file"]).reset_index(drop=True)


def test_sharded_parsing_gives_the_bronze_of_one_ingest(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders = _folders(tmp_path)
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump({"postings": [], "resumes": [
        {"name": name, "kind": "resume_folder", "path": str(path)} for name, path in folders.items()]}))
    monkeypatch.setenv("SKILLMATCH_SOURCES_CONFIG", str(config))
    files = 5 + (4 if "real" in folders else 0)

    single = make_settings(tmp_path / "single")
    one = ingest_resumes(single, "run_1")
    assert (one["read"], one["appended"], one["parsed_by_shards"]) == (files, files, 0)

    sharded = make_settings(tmp_path / "sharded")
    plan = plan_resume_parsing(sharded, "run_1", shard_files=2)
    assert (plan["to_parse"], plan["shards"]) == (files, -(-files // 2))
    done = sum(parse_resumes_shard(sharded, "run_1", s)["files"] for s in range(plan["shards"] - 1))
    # the last shard never ran (its task failed, say): ingest parses those files itself
    got = ingest_resumes(sharded, "run_1")
    assert (got["read"], got["appended"], got["parsed_by_shards"], got["parse_errors"]) == (
        files, files, done, one["parse_errors"])
    assert one["parse_errors"] >= 2  # the encrypted and the corrupt PDF, kept with their reason
    pd.testing.assert_frame_equal(_bronze(sharded), _bronze(single))
    assert not sharded.lake("staging", "resume_parse").exists() or not any(
        sharded.lake("staging", "resume_parse").iterdir())

    # the next run: nothing new to parse, one empty shard, nothing appended twice
    plan = plan_resume_parsing(sharded, "run_2", shard_files=2)
    assert (plan["to_parse"], plan["shards"]) == (0, 1)
    assert parse_resumes_shard(sharded, "run_2", 0)["files"] == 0
    again = ingest_resumes(sharded, "run_2")
    assert (again["appended"], again["already_in_bronze"]) == (0, files)
    assert len(_bronze(sharded)) == files


def test_a_shard_without_a_plan_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no resume parsing plan for run run_x"):
        parse_resumes_shard(make_settings(tmp_path / "lake"), "run_x", 0)
