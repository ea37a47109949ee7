"""Resume-side evidence strength on hand-made resumes: a skill used in a recent job outranks one only listed, which
outranks one last used long ago; it lowers coverage and soft credits accordingly."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.matching.engine import match_frames
from skillmatch.matching.evidence import (LISTED, STALE_FLOOR, ResumeLayout, candidate_evidence, staleness_factor,
                                          strengths)
from skillmatch.matching.soft import candidate_credits

TODAY = date(2026, 11, 27)
RESUME = """Data Analyst
Summary
Analyst who loves Tableau dashboards.
Skills
Python, SQL, Tableau, Excel
Experience
Acme Corp Data Analyst 01/2019 to Current
Built Python pipelines and SQL reports.
Beta Inc Analyst 2008 - 2012
Maintained Excel macros and COBOL batch jobs.
Gamma Ltd Clerk 1990 - 1995
Typed letters in WordPerfect.
Education
BS Statistics 2007
"""
WORDS = ["Python", "SQL", "Tableau", "Excel", "COBOL", "WordPerfect", "Statistics", "Analyst"]


def _facts(text: str, doc: str = "r1", words: list[str] = WORDS, with_starts: bool = True) -> pd.DataFrame:
    rows = []
    for w in words:
        starts, i = [], text.find(w)
        while i >= 0:
            starts.append(i)
            i = text.find(w, i + 1)
        rows.append({"doc_id": doc, "skill_id": w.lower(), "char_start": starts[0],
                     **({"mention_starts": starts} if with_starts else {})})
    return pd.DataFrame(rows)


def _evidence(text: str = RESUME, **kw) -> pd.DataFrame:  # noqa: ANN003
    ev = candidate_evidence(pd.DataFrame({"candidate_id": ["r1"], "text": [text]}), _facts(text, **kw), TODAY)
    return ev.set_index("skill_id")


def test_a_skill_used_in_the_current_job_counts_fully() -> None:
    ev = _evidence()
    assert ev.loc["python", "evidence_strength"] == 1.0
    assert ev.loc["python", "evidence_section"] == "experience"
    assert ev.loc["python", "last_used_year"] == 2019  # the current job ends at the resume's own date: its start


def test_a_skill_only_listed_counts_less_than_one_used_in_work() -> None:
    ev = _evidence()
    for skill, section in (("tableau", "summary"), ("statistics", "education")):
        assert ev.loc[skill, "evidence_strength"] == LISTED
        assert ev.loc[skill, "evidence_section"] == section
        assert pd.isna(ev.loc[skill, "last_used_year"])


def test_a_stale_skill_counts_less_the_longer_ago_it_was_last_used() -> None:
    ev = _evidence()
    # Beta's job ended 2012, seven years before the resume's latest date (2019): 1 - 0.05 * (7 - 2)
    assert ev.loc["cobol", "evidence_strength"] == pytest.approx(0.75)
    assert ev.loc["cobol", "last_used_year"] == 2012
    # Gamma's ended 24 years before: the floor
    assert ev.loc["wordperfect", "evidence_strength"] == STALE_FLOOR
    # listed and used long ago: the stronger of the two counts
    assert ev.loc["excel", "evidence_strength"] == LISTED and ev.loc["excel", "last_used_year"] == 2012
    assert (ev.loc["python", "evidence_strength"] > ev.loc["tableau", "evidence_strength"]
            > ev.loc["cobol", "evidence_strength"] > ev.loc["wordperfect", "evidence_strength"])


def test_staleness_factor_is_non_increasing_and_bounded() -> None:
    values = [staleness_factor(y) for y in np.arange(0, 40, 0.5)]
    assert values[0] == 1.0 and values[-1] == STALE_FLOOR
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_dates_after_an_entry_still_date_it() -> None:
    text = "Experience\nWrote Rust services.\nDelta Co 2000 - 2004\nRan Go services.\nEpsilon 2014 - 2016\n"
    ev = _evidence(text, words=["Rust", "Go"])
    assert ev.loc["rust", "last_used_year"] == 2004  # no dated job above it: the first one below
    assert ev.loc["go", "last_used_year"] == 2004
    lay = ResumeLayout(text, TODAY)
    assert lay.latest == 2016


def test_a_resume_without_an_experience_section_is_not_judged() -> None:
    text = "Jane\nPython developer since 2001, SQL too.\nSkills\nExcel\n"
    ev = _evidence(text, words=["Python", "SQL", "Excel"])
    assert (ev["evidence_strength"] == 1.0).all()
    assert ev.loc["excel", "evidence_section"] == "skills"
    assert ev.loc["python", "evidence_section"] == "unsectioned"


def test_facts_without_mention_starts_use_their_kept_evidence() -> None:
    ev = _evidence(with_starts=False)
    # Excel's first mention is in the skills list; COBOL's only one in the 2008-2012 job
    assert ev.loc["excel", "evidence_strength"] == LISTED
    assert ev.loc["cobol", "evidence_strength"] == pytest.approx(0.75)
    missing = candidate_evidence(pd.DataFrame({"candidate_id": ["other"], "text": ["x"]}), _facts(RESUME), TODAY)
    assert (missing["evidence_strength"] == 1.0).all() and len(missing) == len(WORDS)


def test_strength_scales_held_and_soft_credits() -> None:
    ev = _evidence().reset_index()
    s = strengths(ev)
    assert s["r1"] == {k: v for k, v in zip(ev["skill_id"], ev["evidence_strength"]) if v < 1}
    relations = pd.DataFrame({"skill_id": ["cobol", "python", "python"], "related_id": ["mainframe", "sql", "tableau"],
                              "credit": [0.5, 0.5, 0.9]})
    held = {"r1": set(ev["skill_id"])}
    credits = candidate_credits(held, relations, s)["r1"]
    assert "python" not in credits and "sql" not in credits  # fully shown skills count 1 and are not listed
    assert credits["cobol"] == pytest.approx(0.75)
    assert credits["mainframe"] == pytest.approx(0.5 * 0.75)  # a weakly shown skill lends less
    # Tableau is only listed (0.8), but Python, used in the current job, lends it 0.9: the larger counts
    assert credits["tableau"] == pytest.approx(0.9)
    assert credits["statistics"] == LISTED
    assert candidate_credits(held, relations)["r1"] == {"mainframe": 0.5}  # without strengths: as before


@pytest.fixture()
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    return load_settings()


def test_a_resume_showing_skills_in_work_outranks_one_listing_them(settings: Settings) -> None:
    used = "Experience\nAcme 2020 - Current\nBuilt Python and SQL reports.\n"
    listed = "Skills\nPython, SQL\nExperience\nAcme 2020 - Current\nBuilt reports.\n"
    resumes = pd.DataFrame({"doc_id": ["used", "listed"], "text": [used, listed]})
    cs = pd.concat([_facts(used, "used", ["Python", "SQL"]), _facts(listed, "listed", ["Python", "SQL"])])
    ps = pd.DataFrame({"doc_id": "P", "skill_id": ["python", "sql", "java"]})
    emb = np.ones((2, 4), np.float32) / 2
    ev = candidate_evidence(resumes, cs, TODAY)
    fm = match_frames(ps, cs, ["P"], emb[:1], ["used", "listed"], emb, {}, settings, evidence=ev).set_index(
        "candidate_id")
    assert fm.loc["used", "skill_coverage"] > fm.loc["listed", "skill_coverage"] > 0
    assert fm.loc["listed", "skill_coverage"] == pytest.approx(LISTED * fm.loc["used", "skill_coverage"], rel=1e-5)
    assert fm.loc["used", "score"] > fm.loc["listed", "score"]
    assert fm.loc["listed", "matched_skill_ids"] == ["python", "sql"]  # still held: matched, not missing
