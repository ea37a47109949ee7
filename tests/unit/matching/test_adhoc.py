"""The ad-hoc `skillmatch match` / `skillmatch paths` contract on hand-made files (folder of TXT/DOCX resumes,
postings JSONL), with a tiny taxonomy so the expected skills are known exactly."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from skillmatch.cli import main
from skillmatch.lake import write_parquet_atomic

COLS = ["skill_id", "preferred_label", "aliases", "skill_type", "reuse_level", "description", "taxonomy_source",
        "hot_technology", "in_demand", "taxonomy_version"]
SKILLS = [("esco:python", "Python (computer programming)", ["python programming"]),
          ("onet:kubernetes", "Kubernetes", ["k8s"]), ("esco:sql", "SQL", []),
          ("onet:docker", "Docker", []), ("esco:excel", "Microsoft Excel", ["Excel spreadsheets"])]


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    monkeypatch.setenv("SKILLMATCH_USE_TAGGER", "0")  # alias evidence only: the expected skills are exact
    monkeypatch.setenv("SKILLMATCH_ENCODER_THRESHOLD", "0.99")
    dim = pd.DataFrame([(i, lbl, al, "knowledge", None, "", i.split(":")[0], False, False, "adhoc-test")
                        for i, lbl, al in SKILLS], columns=COLS)
    write_parquet_atomic(dim, tmp_path / "data" / "taxonomy" / "dim_skill.parquet")
    resumes = tmp_path / "resumes"
    resumes.mkdir()
    (resumes / "ana.txt").write_text("Backend engineer. Python, SQL, Docker and Kubernetes in production.")
    from docx import Document

    doc = Document()
    doc.add_paragraph("Office manager")
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Skills"
    table.rows[0].cells[1].text = "Excel spreadsheets and some SQL reporting"
    doc.save(str(resumes / "bo.docx"))
    (resumes / "broken.docx").write_bytes(b"PK\x03\x04 this is not a real docx")
    postings = tmp_path / "postings.jsonl"
    postings.write_text("\n".join(json.dumps(p) for p in [
        # an export that dropped a line break: "skillsKubernetes" is two lines again, so Kubernetes is found
        {"id": "p-platform", "title": "Platform engineer", "text": "Python skillsKubernetes and Docker; SQL a plus."},
        {"id": "p-analyst", "title": "Reporting analyst",
         "text": "Excel spreadsheets and SQL every day; Python or Kubernetes for automation."},
        {"id": "p-data", "title": "Data engineer", "text": "Python and SQL pipelines."},
    ]) + "\n")
    return tmp_path


def test_match_contract(env: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = env / "m.jsonl"
    rc = main(["match", "--resumes", str(env / "resumes"), "--postings", str(env / "postings.jsonl"),
               "--top-k", "2", "--output", str(out)])
    assert rc == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["resume_id"] for r in lines] == ["ana", "bo"]  # the corrupt DOCX is skipped, the batch goes on
    assert any("broken.docx" in r.message and "unreadable DOCX" in r.message for r in caplog.records)
    ana, bo = lines
    assert [m["posting_id"] for m in ana["matches"]][0] == "p-platform"  # holds every skill it asks for
    assert len(ana["matches"]) == 2 and len(bo["matches"]) == 2
    for r in lines:
        scores = [m["score"] for m in r["matches"]]
        assert scores == sorted(scores, reverse=True)
        for m in r["matches"]:
            assert set(m["components"]) == {"skill_coverage", "semantic_similarity", "title_similarity",
                                            "seniority_fit", "location_fit", "required_coverage"}
            assert 0 <= m["score"] <= 1
    top = ana["matches"][0]
    assert top["missing_skills"] == [] and top["components"]["skill_coverage"] == 1.0
    assert top["components"]["required_coverage"] == 1.0 and top["partial_skill_ids"] == []
    assert set(top["matched_skills"]) == {"Python (computer programming)", "Kubernetes", "Docker", "SQL"}
    # the DOCX table cell was read: Excel and SQL come from it
    assert bo["matches"][0]["posting_id"] == "p-analyst"
    assert set(bo["matches"][0]["matched_skill_ids"]) == {"esco:excel", "esco:sql"}
    # a choice the resume meets no member of: any one of them would do
    assert bo["matches"][0]["missing_choices"] == [["Kubernetes", "Python (computer programming)"]]
    assert set(bo["matches"][0]["missing_skills"]) == {"Kubernetes", "Python (computer programming)"}


def test_paths_contract(env: Path) -> None:
    out = env / "p.jsonl"
    rc = main(["paths", "--resumes", str(env / "resumes"), "--postings", str(env / "postings.jsonl"),
               "--top-k", "3", "--output", str(out)])
    assert rc == 0
    steps = {r["resume_id"]: r["steps"] for r in map(json.loads, out.read_text().splitlines())}
    [ana] = steps["ana"]  # ana holds everything but Excel, which only the analyst posting asks for
    assert (ana["step"], ana["skill_id"], ana["label"], ana["action"]) == (1, "esco:excel", "Microsoft Excel", "learn")
    assert (ana["targets_needing"], ana["targets_considered"], ana["demand_postings"]) == (1, 3, 1)
    assert ana["target_posting_ids"] == ["p-analyst"] and ana["prerequisites"] == []
    assert 0 < ana["expected_gain"] <= ana["expected_score_after"] <= 1
    assert ana["reason"].startswith("raises your average match with your top 3 postings by ")
    # bo lacks Python (three targets ask for it, the analyst's as a choice with Kubernetes, which Python stands for
    # there: more postings ask for it) before Kubernetes / Docker (one each)
    assert steps["bo"][0]["skill_id"] == "esco:python" and steps["bo"][0]["targets_needing"] == 3
    assert steps["bo"][0]["reason"].endswith("; Kubernetes would do as well where a posting names them as a choice")
    after = [s["expected_score_after"] for s in steps["bo"]]
    assert after == sorted(after)


def test_paths_contract_shows_the_soft_skills_of_the_lake_taxonomy(env: Path) -> None:
    # with a hierarchy that files Python under ESCO's thinking skills (T2), bo is told to show it, after learning
    from skillmatch.paths.learning import SHOW_GROUPS

    t2 = next(g for g, name in SHOW_GROUPS.items() if "(T2)" in name)
    write_parquet_atomic(pd.DataFrame({"skill_id": ["esco:python"], "broader_id": [t2], "broader_label": ["T2"]}),
                         env / "data" / "taxonomy" / "dim_skill_hierarchy.parquet")
    out = env / "p.jsonl"
    assert main(["paths", "--resumes", str(env / "resumes"), "--postings", str(env / "postings.jsonl"),
                 "--top-k", "3", "--output", str(out)]) == 0
    bo = {r["resume_id"]: r["steps"] for r in map(json.loads, out.read_text().splitlines())}["bo"]
    assert [s["action"] for s in bo][-1] == "show" and bo[-1]["skill_id"] == "esco:python"
    assert {s["action"] for s in bo[:-1]} == {"learn"} and "esco:python" not in {s["skill_id"] for s in bo[:-1]}
    assert "your resume does not show it: if you have it, say where you used it" in bo[-1]["reason"]


def test_match_inputs_errors(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "--resumes", str(env / "resumes")]) == 2
    assert "--resumes and --postings go together" in capsys.readouterr().err
    bad = env / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "title": "t", "text": "x"}) + "\n" + json.dumps({"id": "a", "text": "y"}) + "\n")
    assert main(["match", "--resumes", str(env / "resumes"), "--postings", str(bad)]) == 2
    assert "duplicate ids ['a']" in capsys.readouterr().err
    assert main(["match", "--resumes", str(env / "nowhere"), "--postings", str(env / "postings.jsonl")]) == 2
    assert "nowhere does not exist" in capsys.readouterr().err
