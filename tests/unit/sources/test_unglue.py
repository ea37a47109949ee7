"""Line breaks a posting export dropped, put back (skillmatch.sources.normalize.unglue_lines)."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from skillmatch.extraction.encoder import split_sentences
from skillmatch.extraction.extract import leading, tag_selection
from skillmatch.sources.normalize import unglue_lines
from tests.conftest import SHARED_DATA

LINKEDIN_CA = SHARED_DATA / "postings" / "linkedin-ca-2018" / "DataAnalyst.csv"


@pytest.mark.parametrize(("text", "expected"), [
    ("Excellent written and verbal communication skillsDesired Skills and Experience",
     "Excellent written and verbal communication skills\nDesired Skills and Experience"),
    ("Degree in Statistics a plusExperience with SAS", "Degree in Statistics a plus\nExperience with SAS"),
    ("3 years of experienceSQL and Tableau", "3 years of experience\nSQL and Tableau"),
    ("Job SummaryThe analyst will", "Job Summary\nThe analyst will"),
    ("Minimum QualificationsBachelor's degree", "Minimum Qualifications\nBachelor's degree"),
    ("Hadoop, SparkExperience with Kafka", "Hadoop, Spark\nExperience with Kafka"),
    ("Key ResponsibilitiesJob DutiesJob Description", "Key Responsibilities\nJob Duties\nJob Description"),
    ("Join usWe are hiring", "Join us\nWe are hiring"),
    ("SAS, SQL And Excel Strongly Preferred.Centene is an equal opportunity employer",
     "SAS, SQL And Excel Strongly Preferred.\nCentene is an equal opportunity employer"),
    ("Hive, Pig, etc.You will report to", "Hive, Pig, etc.\nYou will report to"),
    ("Tableau dashboards.An eye for detail", "Tableau dashboards.\nAn eye for detail"),
])
def test_glued_lines_are_split(text: str, expected: str) -> None:
    assert unglue_lines(text) == expected


@pytest.mark.parametrize("text", [
    "JavaScript, TypeScript, PowerPoint, SharePoint, GitHub and LinkedIn Learning",
    "PostgreSQL, MySQL, NoSQL stores on macOS or iOS; an iPhone app; dataOps; eBay",
    "Certified ScrumMaster at 23andMe; TensorFlow and PyTorch; DevOps with ServiceNow; WeWork",
    "Node.Js and Vue.Js, Asp.Net, Nest.Bio, see www.Example.Com or https://jobs.Example.Org/Apply",
    "e.g.Python or i.e.The", "",
])
def test_names_and_addresses_are_left_alone(text: str) -> None:
    assert unglue_lines(text) == text


def _loses_nothing(before: str, after: str) -> bool:
    """Only line breaks were added: take every added one out and the original is back."""
    i = 0
    for ch in after:
        if i < len(before) and ch == before[i]:
            i += 1
        elif ch != "\n":
            return False
    return i == len(before)


@pytest.mark.skipif(not LINKEDIN_CA.is_file(), reason=f"shared postings not found at {LINKEDIN_CA}")
def test_real_glued_export_gets_its_lines_back() -> None:
    """The 2018 LinkedIn export dropped the breaks of most of its postings: every glue a reader would call one is
    split; product names keep their capitals; nothing but line breaks is added; running it again changes
    nothing."""
    desc = pd.read_csv(LINKEDIN_CA, usecols=["description"])["description"].dropna().astype(str)
    fixed = desc.map(unglue_lines)
    assert all(_loses_nothing(a, b) for a, b in zip(desc, fixed))
    assert (fixed.map(unglue_lines) == fixed).all()

    def count(texts: pd.Series, pattern: str) -> int:
        return int(texts.str.count(pattern).sum())

    glued = r"(?<![A-Za-z0-9])(?:skills|experience|preferred|required|plus)(?=[A-Z][a-z])"
    assert count(desc, glued) > 300 and count(fixed, glued) == 0
    assert count(desc, r"\b(?:Summary|Qualifications|Responsibilities)(?=The|We|Bachelor)") > 50
    assert count(fixed, r"\b(?:Summary|Qualifications|Responsibilities)(?=The|We|Bachelor)") == 0
    names = ("JavaScript", "PowerPoint", "MapReduce", "TensorFlow", "SharePoint", "GitHub")
    # every name is still whole, and some glued to a neighbour ("developmentJavaScript") are words again
    whole = {name: (count(desc, rf"\b{name}\b"), count(fixed, rf"\b{name}\b")) for name in names}
    assert all(after >= before for before, after in whole.values()), whole
    assert sum(after - before for before, after in whole.values()) >= 3, whole
    changed = (fixed != desc).mean()
    assert changed > 0.5, f"only {changed:.0%} of the export's postings had a glued line"
    n_before = sum(len(split_sentences(t)) for t in desc)
    n_after = sum(len(split_sentences(t)) for t in fixed)
    assert n_after > 1.15 * n_before  # the bullets are sentences of their own again


def test_tagging_budget_is_in_characters_of_whole_sentences() -> None:
    text = "\n".join(["x" * 30] * 10)
    spans = split_sentences(text)
    assert leading(spans, 100) == spans[:4]  # 30 + 30 + 30 = 90 < 100: the fourth reaches it
    assert leading(spans, 90) == spans[:3]
    assert leading(spans, 10_000) == spans
    assert leading([], 100) == []
    assert re.fullmatch(r"x+", text[slice(*leading(spans, 1)[0])])


def test_resume_skills_sections_are_tagged_past_the_opening_budget() -> None:
    summary = "".join(f"Led project {i} for regional retail clients and their vendors.\n" for i in range(30))
    text = ("Jane Doe\nSummary\n" + summary + "Experience\nAnalyst 01/2015 to Current\nBuilt weekly reports.\n"
            "Skills\nPython, SQL, Tableau\nProject management\nEducation\nBachelor of Science, Economics\n")
    spans = split_sentences(text)
    lines = [text[s:e] for s, e in spans]
    opening = list(range(len(leading(spans, 1000))))
    assert tag_selection(text, spans, 1000) == opening  # no list budget: the opening characters only
    assert "Python, SQL, Tableau" not in [lines[i] for i in opening]
    picked = [lines[i] for i in tag_selection(text, spans, 1000, listed=3000)]
    assert picked[len(opening):] == ["Python, SQL, Tableau", "Project management"]  # the list, nothing else
    # the list budget is in characters of whole lines: the first line reaches a budget of 10
    assert [lines[i] for i in tag_selection(text, spans, 1000, listed=10)][len(opening):] == ["Python, SQL, Tableau"]
    # a resume read whole by the opening budget gains nothing twice
    assert tag_selection(text, spans, 100_000, listed=3000) == list(range(len(spans)))
