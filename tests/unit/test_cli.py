"""Unit tests for the ``skillmatch`` command line (skillmatch.cli)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from skillmatch.cli import build_parser, main
from skillmatch.lake import write_parquet_atomic

SUBCOMMANDS = {"taxonomy", "ingest", "validate", "extract", "match", "paths", "marts", "summary", "run-all",
               "rank-skills"}


def _subparsers(p: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    [action] = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_parser_exposes_every_stage() -> None:
    subs = _subparsers(build_parser())
    assert set(subs) == SUBCOMMANDS


def test_parser_options() -> None:
    p = build_parser()
    a = p.parse_args(["rank-skills", "--input", "s.txt", "--top-k", "3", "--taxonomy-source", "onet"])
    assert (a.command, a.input, a.top_k, a.taxonomy_source, a.output) == ("rank-skills", "s.txt", 3, "onet", None)
    a = p.parse_args(["extract", "--input", "in.jsonl", "--output", "out.jsonl", "--run-id", "r1"])
    assert (a.input, a.output, a.run_id) == ("in.jsonl", "out.jsonl", "r1")
    assert p.parse_args(["extract"]).input is None  # the stage form needs no --input
    with pytest.raises(SystemExit):
        p.parse_args([])  # a sub-command is required
    with pytest.raises(SystemExit):
        p.parse_args(["rank-skills"])  # --input is required for rank-skills
    with pytest.raises(SystemExit):
        p.parse_args(["match", "--input", "x"])  # only extract / rank-skills take --input
    with pytest.raises(SystemExit):
        p.parse_args(["rank-skills", "--input", "x", "--taxonomy-source", "lightcast"])


def test_summary_without_warehouse_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    rc = main(["summary"])
    out, err = capsys.readouterr()
    assert rc == 2
    assert "skillmatch summary: error:" in err
    assert "warehouse.duckdb" in err
    assert "warehouse.duckdb" not in out
    assert not (tmp_path / "warehouse.duckdb").exists()  # a read-only command must not create the file


def _dim_skill() -> pd.DataFrame:
    cols = ["skill_id", "preferred_label", "aliases", "skill_type", "reuse_level", "description",
            "taxonomy_source", "hot_technology", "in_demand", "taxonomy_version"]
    rows = [
        ("esco:python", "Python (computer programming)", ["python programming"], "knowledge", "cross-sector", "",
         "esco", False, False, "cli-test"),
        ("onet:kubernetes", "Kubernetes", ["k8s"], "technology", None, "", "onet", True, True, "cli-test"),
        ("esco:sql", "SQL", [], "knowledge", "cross-sector", "", "esco", False, False, "cli-test"),
    ]
    return pd.DataFrame(rows, columns=cols)


def test_extract_adhoc_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    # every sentence of 4+ words now also gets encoder evidence: the ad-hoc output must still list alias hits only
    monkeypatch.setenv("SKILLMATCH_ENCODER_THRESHOLD", "0")
    write_parquet_atomic(_dim_skill(), tmp_path / "taxonomy" / "dim_skill.parquet")
    docs = [{"id": "a1", "text": "We use Python and Kubernetes daily."},
            {"id": 7, "text": "Nothing relevant in here at all."},
            {"id": "c3", "text": "SQL daily. SQL again, and Kubernetes."}]
    inp, outp = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("\n".join(json.dumps(d) for d in docs) + "\n\n")
    rc = main(["extract", "--input", str(inp), "--output", str(outp)])
    out, err = capsys.readouterr()
    assert rc == 0
    assert out == ""  # the ad-hoc form keeps stdout clean; its counts go to stderr
    assert json.loads(err[err.rindex("{\n"):]) == {"documents": 3, "mentions": 4}

    lines = [json.loads(line) for line in outp.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["a1", "7", "c3"]  # one line per input id, in input order, ids as strings
    texts = {str(d["id"]): d["text"] for d in docs}
    found = {}
    for r in lines:
        for m in r["mentions"]:
            assert set(m) == {"start", "end", "skill_id", "label", "score", "method"}
            assert m["method"] == "alias" and m["score"] == 1.0
        found[r["id"]] = [(texts[r["id"]][m["start"]:m["end"]], m["skill_id"]) for m in r["mentions"]]
    assert sorted(found["a1"]) == [("Kubernetes", "onet:kubernetes"), ("Python", "esco:python")]
    assert found["7"] == []
    # one mention per (doc, skill): the first SQL occurrence
    assert sorted(found["c3"]) == [("Kubernetes", "onet:kubernetes"), ("SQL", "esco:sql")]
    sql = [m for m in lines[2]["mentions"] if m["skill_id"] == "esco:sql"][0]
    assert (sql["start"], sql["end"]) == (0, 3)
    assert {m["label"] for m in lines[0]["mentions"]} == {"Python (computer programming)", "Kubernetes"}
    # the CLI used the tiny taxonomy that was already there rather than building the full one
    assert len(pd.read_parquet(tmp_path / "taxonomy" / "dim_skill.parquet")) == 3


def test_extract_adhoc_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    write_parquet_atomic(_dim_skill(), tmp_path / "taxonomy" / "dim_skill.parquet")
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "x", "text": "Python only."}) + "\n")
    assert main(["extract", "--input", str(inp)]) == 0
    out, _ = capsys.readouterr()
    [line] = [json.loads(line) for line in out.splitlines()]
    assert line["id"] == "x"
    assert [(m["start"], m["end"], m["skill_id"]) for m in line["mentions"]] == [(0, 6, "esco:python")]


def test_extract_missing_input_file_is_a_clean_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    rc = main(["extract", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")])
    _, err = capsys.readouterr()
    assert rc == 2
    assert "nope.jsonl" in err
    assert not (tmp_path / "o.jsonl").exists()
