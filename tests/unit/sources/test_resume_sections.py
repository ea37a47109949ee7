"""Unit tests for skillmatch.sources.resume_sections: section splitting and years of experience, on hand-written
texts and on a fixed sample of the shared resume PDFs."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from skillmatch.sources.resume_sections import SECTION_KEYS, estimate_years_experience, split_sections
from tests.conftest import SHARED_DATA

# the shape of the shared corpus' text layer: title line, Title-case headings alone on a line, entry pieces on
# separate lines with lone-space lines between them
LIVECAREER = """HR PERSONNEL ASSISTANT
Summary
Organized assistant with 8 years in offices.
Highlights
Microsoft Word, MS Excel
Data Entry
Experience
Company Name
 
City
 
, 
State
 
HR Personnel Assistant
 
03/2013
 
to 
04/2014
Entered personnel data into a central database.
Assistant Store Clerk
 
Jan 2010
 
to 
Jan 2013
Restocked shelves.
Education and Training
Bachelor of Science
 
:
 
Psychology
 
2005
 
to 
2009
Skills
Auditing, Clerical, Scheduling
Accomplishments
Employee of the month.
Additional Information
Available for night shifts.
"""


# ---------------------------------------------------------------- split_sections


def test_split_livecareer_layout() -> None:
    s = split_sections(LIVECAREER)
    assert list(s) == list(SECTION_KEYS)
    assert s["summary"] == "Organized assistant with 8 years in offices."
    assert s["skills"] == "Microsoft Word, MS Excel\nData Entry\nAuditing, Clerical, Scheduling"  # both blocks
    assert s["experience"].startswith("Company Name\nCity\n,\nState\nHR Personnel Assistant\n03/2013\nto\n04/2014")
    assert s["experience"].endswith("Restocked shelves.")
    assert s["education"] == "Bachelor of Science\n:\nPsychology\n2005\nto\n2009"
    assert "Employee of the month" not in s["skills"] and "night shifts" not in s["skills"]


def test_split_heading_variants_and_other_headings_end_a_section() -> None:
    text = "\n".join([
        "JANE DOE", "Career Overview", "Sales leader.", "Certifications", "CPR certified", "PROFESSIONAL EXPERIENCE",
        "Store Manager 2012 - 2016", "Interests", "Chess", "Academic Background:", "BA History", "Languages",
        "French", "## Technical Skills", "SQL, Excel", "--- Core Qualifications ---", "Forecasting",
    ])
    assert split_sections(text) == {"summary": "Sales leader.", "experience": "Store Manager 2012 - 2016",
                                    "education": "BA History", "skills": "SQL, Excel\nForecasting"}


@pytest.mark.parametrize(("heading", "key"), [
    ("Professional Summary", "summary"), ("Profile", "summary"), ("Objective", "summary"),
    ("Executive Profile", "summary"), ("Work History", "experience"), ("Employment History", "experience"),
    ("WORK EXPERIENCE", "experience"), ("Education", "education"), ("Educational Background", "education"),
    ("Skill Highlights", "skills"), ("Highlights", "skills"), ("Qualifications", "skills"),
    ("Areas of Expertise", "skills"), ("skills:", "skills"),
])
def test_split_recognises_heading(heading: str, key: str) -> None:
    sections = split_sections(f"TITLE\n{heading}\nbody line\nAdditional Information\ntrailer")
    assert sections[key] == "body line"
    assert all(v == "" for k, v in sections.items() if k != key)


def test_split_ignores_wrapped_sentence_tails_and_inline_words() -> None:
    text = "Experience\nLed a team across several\nprojects.\nLeadership\nSkills used daily: Excel\nEducation\nBSc"
    s = split_sections(text)
    assert s["experience"] == "Led a team across several\nprojects.\nLeadership\nSkills used daily: Excel"
    assert s["education"] == "BSc"


def test_split_without_headings_is_all_empty() -> None:
    assert split_sections("Just a paragraph about me.\nAnother line.") == dict.fromkeys(SECTION_KEYS, "")
    assert split_sections("") == dict.fromkeys(SECTION_KEYS, "")


# ---------------------------------------------------------------- estimate_years_experience

TODAY = date(2020, 1, 15)


@pytest.mark.parametrize(("text", "years"), [
    ("Experience\nAnalyst 01/2015 to Current", 5.0),
    ("Experience\nEngineer Jan 2012 - Mar 2016", 4.2),
    ("Experience\nClerk 2010 - 2014", 4.0),
    ("Experience\nNurse March 2018 to Present", 1.8),
    ("Experience\nTeller 06/2014 to 04/2016", 1.8),
    ("Experience\nCompany Name City , State Driver 2009 to 2012", 3.0),
    ("Experience\nAccountant , 10/2014 ï¼\u200b 10/2019", 5.0),  # the corpus' mojibake fullwidth hyphen
    ("Experience\nCook\n \nJan 2013\n \nto \nJan 2014\n", 1.0),  # pieces on separate lines, as PDFs give them
])
def test_years_from_one_range(text: str, years: float) -> None:
    assert estimate_years_experience(text, TODAY) == years


def test_years_overlapping_ranges_are_merged() -> None:
    text = "Experience\nA Jan 2010 - Dec 2012\nB Jan 2012 - Jul 2014\nC 2013 to 2014\nD 01/2016 to 01/2017"
    # 2010-01 .. 2014-07 (4.5 years, overlaps counted once) + 2016-01 .. 2017-01 (1 year)
    assert estimate_years_experience(text, TODAY) == 5.5


def test_years_current_uses_today() -> None:
    text = "Work History\nManager 06/2010 to Current"
    assert estimate_years_experience(text, date(2015, 6, 1)) == 5.0
    assert estimate_years_experience(text, date(2020, 6, 1)) == 10.0


def test_years_ignore_implausible_ranges() -> None:
    text = "Experience\nA 1950 - 1955\nB 2018 - 2030\nC 2016 to 2012\nD 2015 - 2017"
    assert estimate_years_experience(text, TODAY) == 2.0


def test_years_count_the_experience_section_only() -> None:
    text = "Summary\nHard worker.\nExperience\nWelder 2014 to 2018\nEducation\nBSc 2006 - 2010"
    assert estimate_years_experience(text, TODAY) == 4.0
    assert estimate_years_experience("Welder 2014 to 2018\nBSc 2006 - 2010", TODAY) == 8.0  # no section: all text


def test_years_are_capped_at_50() -> None:
    assert estimate_years_experience("Experience\nFarmer 1961 to Current", date(2025, 1, 1)) == 50.0


@pytest.mark.parametrize(("text", "years"), [
    ("Summary\nSales leader with over 10 years of experience in retail.", 10.0),
    ("Summary\n7+ years managing kitchens.", 7.0),
    ("Profile\nTwelve years of progressive accounting experience; 3 years' experience in audit.", 12.0),
    ("Summary\nNurse with 5.5 yrs experience", 5.5),
])
def test_years_fall_back_to_a_statement(text: str, years: float) -> None:
    assert estimate_years_experience(text, TODAY) == years


def test_years_statement_is_not_used_when_ranges_exist() -> None:
    text = "Summary\nOver 20 years of experience.\nExperience\nCook 2015 - 2019"
    assert estimate_years_experience(text, TODAY) == 4.0


@pytest.mark.parametrize("text", ["", "   ", "Summary\nI like cooking.", "Experience\nWorked 2 years as a clerk.",
                                  "Experience\nJoined in 2015."])
def test_years_none_when_nothing_is_found(text: str) -> None:
    assert estimate_years_experience(text, TODAY) is None


# ---------------------------------------------------------------- the shared corpus

PDF_ROOT = SHARED_DATA / "resumes" / "pdf"
SAMPLE_SIZE = 30


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    if not PDF_ROOT.is_dir():
        pytest.skip(f"shared resume PDFs not found at {PDF_ROOT} (set SKILLMATCH_SHARED_DIR)")
    from skillmatch.sources.resumes import extract_text, list_resume_files

    files = list_resume_files(Path(PDF_ROOT), SAMPLE_SIZE)  # the same spread over categories on every run
    texts = [t for t, _, err in (extract_text(f) for f in files) if not err]
    assert len(texts) >= 0.9 * len(files), "the sample PDFs should read"
    return texts


def test_real_pdfs_have_sections(real_texts: list[str]) -> None:
    sections = [split_sections(t) for t in real_texts]
    good = sum(1 for s in sections if s["experience"] and (s["skills"] or s["summary"]))
    assert good >= 0.8 * len(real_texts), f"{good}/{len(real_texts)} with experience and skills-or-summary"


def test_real_pdfs_have_years(real_texts: list[str]) -> None:
    years = [estimate_years_experience(t, date(2025, 1, 1)) for t in real_texts]
    found = [y for y in years if y is not None]
    assert len(found) >= 0.7 * len(real_texts), f"years found for {len(found)}/{len(real_texts)}"
    assert all(0 <= y <= 50 for y in found)
