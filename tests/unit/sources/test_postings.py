"""Unit tests for skillmatch.sources.postings: HN header parsing, HTML cleanup, HN JSON and CSV readers."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from skillmatch.sources.postings import (
    POSTING_COLUMNS,
    CsvMapping,
    html_to_text,
    infer_role,
    parse_hn_header,
    read_csv_source,
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


# ---------------------------------------------------------------- read_csv_source

MAPPING = CsvMapping(
    source="tiny-csv",
    pattern="*.csv",
    columns={"title": "Job", "company": "Employer", "location": "Where", "description": "Body",
             "posted_at": "when_ms", "remote": "is_remote", "salary_min": "lo", "salary_max": "hi",
             "salary_period": "per"},
    native_id=None,
    posted_at_unit="ms",
)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_read_csv_source_maps_columns_and_row_ids(tmp_path: Path) -> None:
    f = _write_csv(tmp_path / "export.csv", [
        {"Job": "Data Engineer", "Employer": "Acme", "Where": "Berlin", "Body": "Build pipelines.",
         "when_ms": "1767225600000", "is_remote": "1", "lo": "50000", "hi": "70000", "per": "YEARLY"},
        {"Job": "Nurse", "Employer": "", "Where": "Austin, TX", "Body": "Care for patients.",
         "when_ms": "", "is_remote": "", "lo": "", "hi": "", "per": ""},
    ])
    df = read_csv_source(MAPPING, [f])
    assert list(df.columns) == POSTING_COLUMNS
    assert len(df) == 2
    assert list(df["source"]) == ["tiny-csv", "tiny-csv"]
    assert list(df["native_id"]) == ["export:0", "export:1"]  # row numbers, since native_id is None
    assert list(df["source_row"]) == [0, 1]
    assert list(df["source_file"]) == [str(f), str(f)]
    assert list(df["title"]) == ["Data Engineer", "Nurse"]
    assert df.loc[0, "company"] == "Acme"
    assert df.loc[1, "company"] is None or pd.isna(df.loc[1, "company"])
    assert df.loc[0, "location"] == "Berlin"
    assert df.loc[0, "description"] == "Build pipelines."
    assert df.loc[0, "remote"] is True
    assert df.loc[1, "remote"] is None or pd.isna(df.loc[1, "remote"])
    assert df.loc[0, "salary_text"] == "50,000-70,000 YEARLY"
    assert pd.isna(df.loc[1, "salary_text"])
    assert pd.Timestamp(df.loc[0, "posted_at"]).tz_localize(None) == pd.Timestamp("2026-01-01")
    assert pd.isna(df.loc[1, "posted_at"])
    # columns the mapping does not name are present but empty
    assert df["url"].isna().all() and df["seniority"].isna().all()


def test_read_csv_source_native_id_column_and_rating_strip(tmp_path: Path) -> None:
    mapping = CsvMapping(source="gd", pattern="*.csv", native_id="id",
                         columns={"title": "t", "company": "c", "description": "d", "salary_text": "s"},
                         company_strip_rating=True)
    f = _write_csv(tmp_path / "gd.csv", [
        {"id": "17", "t": "Analyst", "c": "Acme Corp\n3.9", "d": "x", "s": "-1"},
        {"id": "42", "t": "Engineer", "c": "Beta", "d": "y", "s": "$90K-$110K"},
    ])
    df = read_csv_source(mapping, [f])
    assert list(df["native_id"]) == ["17", "42"]
    assert list(df["company"]) == ["Acme Corp", "Beta"]
    assert pd.isna(df.loc[0, "salary_text"])  # "-1" means no estimate
    assert df.loc[1, "salary_text"] == "$90K-$110K"
    assert df["posted_at"].isna().all()


def test_read_csv_source_row_ids_unique_across_files_and_limit(tmp_path: Path) -> None:
    rows = [{"Job": f"Role {i}", "Employer": "E", "Where": "W", "Body": "B", "when_ms": "", "is_remote": "",
             "lo": "", "hi": "", "per": ""} for i in range(3)]
    a = _write_csv(tmp_path / "part_a.csv", rows)
    b = _write_csv(tmp_path / "part_b.csv", rows)
    df = read_csv_source(MAPPING, [a, b])
    assert df["native_id"].is_unique
    assert list(df["native_id"])[:4] == ["part_a:0", "part_a:1", "part_a:2", "part_b:0"]
    assert len(read_csv_source(MAPPING, [a, b], limit=4)) == 4


def test_read_csv_source_missing_column_names_file(tmp_path: Path) -> None:
    f = _write_csv(tmp_path / "short.csv", [{"Job": "Data Engineer", "Employer": "Acme"}])
    with pytest.raises(ValueError) as err:
        read_csv_source(MAPPING, [f])
    msg = str(err.value)
    assert str(f) in msg
    assert "Body" in msg  # the missing mapped column is named


def test_read_csv_source_no_files() -> None:
    df = read_csv_source(MAPPING, [])
    assert df.empty
    assert list(df.columns) == POSTING_COLUMNS
