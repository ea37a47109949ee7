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
               "rank-skills", "train-tagger", "train-linker", "dictionary", "status"}


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
    assert p.parse_args(["rank-skills", "--input", "x"]).taxonomy_source == "all"
    a = p.parse_args(["train-tagger", "--epochs", "2", "--limit", "10", "--gate", "0.5", "--if-missing"])
    assert (a.epochs, a.limit, a.gate, a.if_missing, a.data) == (2, 10, 0.5, True, None)
    assert (a.distill_from, a.teacher_sentences) == (None, 8000)
    a = p.parse_args(["train-tagger", "--distill-from", "all-mpnet-base-v2", "--teacher-sentences", "500"])
    assert (a.distill_from, a.teacher_sentences) == ("all-mpnet-base-v2", 500)
    with pytest.raises(SystemExit):
        p.parse_args(["train-tagger", "--distill-from", "bert-base"])  # only the bases the tagger knows
    a = p.parse_args(["train-linker", "--max-pairs", "500", "--margin", "0.02", "--if-missing"])
    assert (a.max_pairs, a.margin, a.if_missing) == (500, 0.02, True)


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


def _tiny_alias_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lake holding the three-skill taxonomy, on the CPU, the alias matcher without a tagger."""
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    monkeypatch.setenv("SKILLMATCH_USE_TAGGER", "0")
    write_parquet_atomic(_dim_skill(), tmp_path / "taxonomy" / "dim_skill.parquet")


def test_extract_adhoc_jsonl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    # every sentence of 4+ words now also gets sentence-linker evidence: the ad-hoc output lists spans only
    monkeypatch.setenv("SKILLMATCH_ENCODER_THRESHOLD", "0")
    monkeypatch.setenv("SKILLMATCH_USE_TAGGER", "0")  # alias spans only; the tagger path is tested below
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
    assert json.loads(err[err.index("{\n"):]) == {"documents": 3, "mentions": 5, "by_method": {"alias": 5}}

    lines = [json.loads(line) for line in outp.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["a1", "7", "c3"]  # one line per input id, in input order, ids as strings
    texts = {str(d["id"]): d["text"] for d in docs}
    found = {}
    for r in lines:
        for m in r["mentions"]:
            assert set(m) == {"start", "end", "skill_id", "label", "surface", "score", "method"}
            assert m["method"] == "alias" and m["score"] == 1.0
            assert texts[r["id"]][m["start"]:m["end"]] == m["surface"]
        found[r["id"]] = [(texts[r["id"]][m["start"]:m["end"]], m["skill_id"]) for m in r["mentions"]]
    assert sorted(found["a1"]) == [("Kubernetes", "onet:kubernetes"), ("Python", "esco:python")]
    assert found["7"] == []
    # one mention per span, in text order: both SQL occurrences are reported
    assert found["c3"] == [("SQL", "esco:sql"), ("SQL", "esco:sql"), ("Kubernetes", "onet:kubernetes")]
    assert [(m["start"], m["end"]) for m in lines[2]["mentions"]][:2] == [(0, 3), (11, 14)]
    assert {m["label"] for m in lines[0]["mentions"]} == {"Python (computer programming)", "Kubernetes"}
    # the CLI used the tiny taxonomy that was already there rather than building the full one
    assert len(pd.read_parquet(tmp_path / "taxonomy" / "dim_skill.parquet")) == 3


def test_extract_adhoc_facts_are_one_per_skill_with_every_method(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``--facts``: what the nightly extraction keeps for such documents, not the evaluation contract's spans."""
    _tiny_alias_setup(tmp_path, monkeypatch)
    docs = [{"id": "c3", "text": "SQL daily. SQL again, and Kubernetes."}, {"id": "n", "text": "Nothing here."}]
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    monkeypatch.setenv("SKILLMATCH_ENCODER_THRESHOLD", "1.01")  # no sentence is linked as a whole
    assert main(["extract", "--input", str(inp), "--facts", "posting"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in lines] == ["c3", "n"] and lines[1]["mentions"] == []
    # SQL twice in two sentences: one fact, at its first mention, counted twice (the contract lists two spans)
    facts = [(m["surface"], m["start"], m["end"], m["skill_id"], m["method"], m["count"]) for m in lines[0]["mentions"]]
    assert facts == [("SQL", 0, 3, "esco:sql", "alias", 2), ("Kubernetes", 26, 36, "onet:kubernetes", "alias", 1)]
    assert json.loads(err[err.index("{\n"):]) == {"documents": 2, "mentions": 2, "by_method": {"alias": 2}}
    # every method: a sentence linked as a whole, naming no skill, is a fact too
    monkeypatch.setenv("SKILLMATCH_ENCODER_THRESHOLD", "0")
    monkeypatch.setenv("SKILLMATCH_USE_LINKER", "0")  # the packaged encoder, at that threshold
    inp.write_text(json.dumps({"id": "r", "text": "SQL daily. We deploy containers on our clusters every day."}))
    assert main(["extract", "--input", str(inp), "--facts", "resume"]) == 0
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(m["skill_id"], m["method"]) for m in line["mentions"]] == [("esco:sql", "alias"),
                                                                       ("onet:kubernetes", "sentence-linker")]
    assert main(["extract", "--facts", "posting"]) == 2
    assert "--facts reports on the documents of --input" in capsys.readouterr().err


def test_extract_adhoc_to_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    _tiny_alias_setup(tmp_path, monkeypatch)
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


def test_extract_adhoc_bad_line_names_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "text": "Python"}) + "\n" + '["not", "an", "object"]\n')
    rc = main(["extract", "--input", str(inp), "--output", str(tmp_path / "o.jsonl")])
    _, err = capsys.readouterr()
    assert rc == 2
    assert "in.jsonl:2: expected a JSON object with id and text" in err
    assert not (tmp_path / "o.jsonl").exists()


def test_rank_skills_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    write_parquet_atomic(_dim_skill(), tmp_path / "taxonomy" / "dim_skill.parquet")
    inp, outp = tmp_path / "s.txt", tmp_path / "o.jsonl"
    sentences = ["Deploy containers on Kubernetes clusters", "Write SQL queries against the warehouse", ""]
    inp.write_text("\n".join(sentences) + "\n")
    assert main(["rank-skills", "--input", str(inp), "--top-k", "2", "--output", str(outp)]) == 0
    lines = [json.loads(line) for line in outp.read_text().splitlines()]
    assert [r["text"] for r in lines] == sentences  # one output line per input line, in order
    for r in lines:
        assert len(r["skills"]) == 2
        assert all(set(s) == {"id", "label", "score"} for s in r["skills"])
        assert r["skills"][0]["score"] >= r["skills"][1]["score"]
    assert lines[0]["skills"][0]["id"] == "onet:kubernetes"
    assert lines[1]["skills"][0]["label"] == "SQL"
    assert main(["rank-skills", "--input", str(inp), "--top-k", "5", "--output", str(outp),
                 "--taxonomy-source", "esco"]) == 0
    lines = [json.loads(line) for line in outp.read_text().splitlines()]
    # only two ESCO concepts exist: top-5 over ESCO gives those two, never the O*NET one
    assert all({s["id"] for s in r["skills"]} == {"esco:python", "esco:sql"} for r in lines)


def test_extract_adhoc_with_the_promoted_tagger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillmatch.config import load_settings
    from skillmatch.extraction.tagger import promoted_version

    if promoted_version(load_settings().model_dir, load_settings().tagger_base) is None:
        pytest.skip("no promoted span tagger under models/ (trained by `make setup` when the shared SkillSpan "
                    "data is present)")
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    write_parquet_atomic(_dim_skill(), tmp_path / "taxonomy" / "dim_skill.parquet")
    text = "You will build data pipelines in Python and write complex SQL queries ."
    inp, outp = tmp_path / "in.jsonl", tmp_path / "o.jsonl"
    inp.write_text(json.dumps({"id": "t", "text": text}) + "\n")
    assert main(["extract", "--input", str(inp), "--output", str(outp)]) == 0
    [line] = [json.loads(x) for x in outp.read_text().splitlines()]
    spans = [(m["start"], m["end"]) for m in line["mentions"]]
    assert len(spans) == len(set(spans))  # one mention per span
    for m in line["mentions"]:
        assert text[m["start"]:m["end"]] == m["surface"]
        assert m["method"] in {"alias", "tagger+linker"}
    methods = {m["surface"]: m["method"] for m in line["mentions"]}
    assert methods.get("Python") == "alias"  # the exact alias wins over the tagger on the same span
    assert any(m["method"] == "tagger+linker" and "SQL" in m["surface"] for m in line["mentions"]), line
