"""Unit tests for skillmatch.sources.postings: HN header parsing, HTML cleanup, HN JSON and CSV readers."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from skillmatch.sources.postings import (
    POSTING_COLUMNS,
    html_to_text,
    infer_role,
    parse_hn_header,
    read_hn_runs,
)

# ---------------------------------------------------------------- parse_hn_header


def test_parse_hn_header_full_line_remote() -> None:
    out = parse_hn_header("Acme | Senior Data Engineer | Berlin, Germany | REMOTE | Full-time\nWe build things.")
    assert out["company"] == "Acme"
    assert "Data Engineer" in str(out["title"])
    assert out["location"] == "Berlin, Germany"
    assert out["remote"] is True
    assert out["employment_type"] == "Full-time"
    assert out["salary_text"] is None


def test_parse_hn_header_onsite_is_not_remote() -> None:
    out = parse_hn_header("Beta Corp | Backend Developer | Paris, France | ONSITE")
    assert out["company"] == "Beta Corp"
    assert out["title"] == "Backend Developer"
    assert out["remote"] is False
    assert out["location"] == "Paris, France"
    assert out["employment_type"] is None


def test_parse_hn_header_remote_wins_over_onsite() -> None:
    out = parse_hn_header("Gamma | Platform Engineer | ONSITE | REMOTE")
    assert out["remote"] is True


def test_parse_hn_header_unstated_remote_is_none() -> None:
    out = parse_hn_header("Acme Inc | https://acme.example | Site Reliability Engineer | NYC")
    assert out["remote"] is None
    assert out["title"] == "Site Reliability Engineer"
    assert out["location"] == "NYC"  # the URL part is skipped, not taken as location


def test_parse_hn_header_salary_part() -> None:
    out = parse_hn_header("Delta | ML Engineer | Remote (US) | $150k-$200k + equity")
    assert out["company"] == "Delta"
    assert out["title"] == "ML Engineer"
    assert out["remote"] is True
    assert out["salary_text"] == "$150k-$200k + equity"


def test_parse_hn_header_uses_only_first_line() -> None:
    out = parse_hn_header("Acme | Data Analyst | London\nOther | Security Engineer | Paris | REMOTE")
    assert out["title"] == "Data Analyst"
    assert out["location"] == "London"
    assert out["remote"] is None


def test_parse_hn_header_without_pipes_falls_back_to_body_role() -> None:
    text = "We are Gamma, a small climate startup.\nWe are hiring a Senior Data Engineer to build pipelines."
    out = parse_hn_header(text)
    assert out["company"] is None
    assert out["location"] is None
    assert out["remote"] is None
    assert out["title"] == infer_role(text)
    assert out["title"] is not None and "Data Engineer" in out["title"]


def test_parse_hn_header_without_role_anywhere() -> None:
    out = parse_hn_header("Just a note without any job in it.")
    assert out == {"company": None, "title": None, "location": None, "remote": None,
                   "employment_type": None, "salary_text": None}


def test_infer_role_hiring_phrase_lowercase() -> None:
    assert infer_role("we're looking for a backend developer who likes rust") == "backend developer"
    assert infer_role("nothing to see here") is None


# ---------------------------------------------------------------- html_to_text


def test_html_to_text_unescapes_and_breaks_paragraphs() -> None:
    raw = 'Acme &amp; Co &quot;OS for Biology&quot;<p>Second para&#x27;s text<br>third <a href="https://x.y">link</a>'
    assert html_to_text(raw) == 'Acme & Co "OS for Biology"\nSecond para\'s text\nthird link'


def test_html_to_text_escaped_tags_survive_as_text() -> None:
    # an escaped "<p>" is text the poster wrote, not markup: it must not be stripped
    assert html_to_text("use &lt;p&gt; tags") == "use <p> tags"


def test_html_to_text_empty_and_none() -> None:
    assert html_to_text("") == ""
    assert html_to_text(None) == ""  # type: ignore[arg-type]


# ---------------------------------------------------------------- read_hn_runs


def _write_hn(path: Path, jobs: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"schema_version": 1, "jobs": jobs}), encoding="utf-8")
    return path


def test_read_hn_runs_canonical_columns(tmp_path: Path) -> None:
    f = _write_hn(tmp_path / "raw_test.json", [
        {"id": 1, "time": 1767377545,
         "text": "Acme | Senior Data Engineer | Berlin, Germany | REMOTE | Full-time<p>We use Python &amp; SQL."},
        {"id": 2, "text": "Beta | Backend Developer | Paris | ONSITE"},
    ])
    df = read_hn_runs([f])
    assert list(df.columns) == POSTING_COLUMNS
    assert len(df) == 2
    first = df.iloc[0]
    assert first["source"] == "hn-who-is-hiring"
    assert first["native_id"] == "1"
    assert first["source_file"] == str(f)
    assert first["source_row"] == 0
    assert first["company"] == "Acme"
    assert "Data Engineer" in first["title"]
    assert bool(first["remote"]) is True
    assert first["employment_type"] == "Full-time"
    assert first["description"].endswith("\nWe use Python & SQL.")
    assert first["posted_at"] == datetime.fromtimestamp(1767377545, tz=timezone.utc)
    assert first["url"] == "https://news.ycombinator.com/item?id=1"
    second = df.iloc[1]
    assert second["source_row"] == 1
    assert bool(second["remote"]) is False
    assert second["posted_at"] is None or pd.isna(second["posted_at"])  # no "time" key


def test_read_hn_runs_limit_counts_distinct_ids(tmp_path: Path) -> None:
    jobs = [{"id": i, "time": 1767377545, "text": f"Co{i} | Data Engineer | Remote"} for i in range(5)]
    a = _write_hn(tmp_path / "a.json", jobs)
    b = _write_hn(tmp_path / "b.json", jobs)
    df = read_hn_runs([a, b], limit=2)
    assert sorted(df["native_id"].unique()) == ["0", "1"]
    assert len(df) == 4  # the same two jobs from both runs
    assert list(df.index) == [0, 1, 2, 3]


def test_read_hn_runs_malformed_json_names_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"jobs": [ {"id": 1, ', encoding="utf-8")
    with pytest.raises(ValueError) as err:
        read_hn_runs([bad])
    assert str(bad) in str(err.value)


def test_read_hn_runs_without_jobs_list_names_file(tmp_path: Path) -> None:
    bad = tmp_path / "nojobs.json"
    bad.write_text(json.dumps({"items": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="jobs") as err:
        read_hn_runs([bad])
    assert str(bad) in str(err.value)


def test_read_hn_runs_no_files_gives_empty_canonical_frame() -> None:
    df = read_hn_runs([])
    assert df.empty
    assert list(df.columns) == POSTING_COLUMNS
