"""Unit tests for skillmatch.validation.validate: the GX suite runner and bronze -> silver validation."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from skillmatch.config import Settings, load_settings
from skillmatch.lake import read_parquet, utcnow, write_parquet_atomic
from skillmatch.sources.ingest import ingest_postings
from skillmatch.sources.synthetic import SYNTHETIC_SOURCE
from skillmatch.validation.validate import posting_suite, run_suite, validate_postings

GOOD = ("Build and operate data pipelines in Python and SQL for our analytics platform; "
        "you will own ingestion, modelling and data quality end to end.")

NOT_NULL_TITLE = "ExpectColumnValuesToNotBeNull(title)"
DESC_LENGTH = "ExpectColumnValueLengthsToBeBetween(description)"
POSTED_BETWEEN = "ExpectColumnValuesToBeBetween(posted_at)"
UNIQUE_DESC = "ExpectColumnProportionOfUniqueValuesToBeBetween(description)"


@pytest.fixture()
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_SOURCE", "synthetic")
    monkeypatch.setenv("SKILLMATCH_MAX_POSTINGS_PER_SOURCE", "8")
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("SKILLMATCH_DQ_MAX_INVALID_SHARE", "1")  # these batches are bad on purpose
    s = load_settings()
    assert s.data_dir == tmp_path and s.source_mode == "synthetic"
    return s


# ---------------------------------------------------------------- run_suite


def test_run_suite_flags_exactly_the_bad_rows(settings: Settings) -> None:
    now = utcnow()
    df = pd.DataFrame({
        "posting_id": ["src:good", "src:no-title", "src:short", "src:future"],
        "title": ["Data Engineer", None, "Data Analyst", "ML Engineer"],
        "description": [GOOD, GOOD, "Too short.", GOOD],
        "posted_at": [now - timedelta(days=3)] * 3 + [now + timedelta(days=30)],
    }, index=[10, 11, 12, 13])  # positions, not index labels, are reported
    checks = posting_suite(settings)
    failures, results = run_suite(df, "postings", checks)

    assert failures == {1: [NOT_NULL_TITLE], 2: [DESC_LENGTH], 3: [POSTED_BETWEEN]}
    assert 0 not in failures

    assert [r["check_name"] for r in results] == [c.name for c in checks]  # suite order kept
    by_name = {r["check_name"]: r for r in results}
    expected_bad = {NOT_NULL_TITLE: 1, DESC_LENGTH: 1, POSTED_BETWEEN: 1}
    row_level = {c.name for c in checks if c.row_level}
    for name, r in by_name.items():
        if name not in row_level:
            continue
        assert r["element_count"] == 4
        assert r["unexpected_count"] == expected_bad.get(name, 0), name
        assert r["success"] is (name not in expected_bad), name
    assert by_name[NOT_NULL_TITLE]["column_name"] == "title"
    assert by_name[DESC_LENGTH]["unexpected_percent"] == pytest.approx(25.0)
    # batch level: three of the four descriptions are the same text, over the duplicate-description rate
    unique = by_name[UNIQUE_DESC]
    assert unique["success"] is False and json.loads(unique["details"])["observed_value"] == pytest.approx(0.5)


def test_run_suite_one_row_breaking_several_checks(settings: Settings) -> None:
    now = utcnow()
    df = pd.DataFrame({
        "posting_id": ["a", "a", "b"],
        "title": ["Data Engineer", "Data Engineer", "X"],
        "description": [GOOD, GOOD, None],
        "posted_at": [now, now, now - timedelta(days=settings.max_posting_age_days + 30)],
    })
    failures, results = run_suite(df, "postings", posting_suite(settings))
    assert failures[0] == ["ExpectColumnValuesToBeUnique(posting_id)"]
    assert failures[1] == ["ExpectColumnValuesToBeUnique(posting_id)"]
    assert set(failures[2]) == {"ExpectColumnValueLengthsToBeBetween(title)",
                                "ExpectColumnValuesToNotBeNull(description)", POSTED_BETWEEN}
    counts = {r["check_name"]: r["unexpected_count"] for r in results}
    assert counts["ExpectColumnValuesToBeUnique(posting_id)"] == 2
    assert counts["ExpectColumnValuesToNotBeNull(posting_id)"] == 0


def test_run_suite_all_good(settings: Settings) -> None:
    df = pd.DataFrame({"posting_id": ["a"], "title": ["Data Engineer"], "description": [GOOD],
                       "posted_at": [utcnow()], "source": ["src"], "salary_min": [50_000.0],
                       "salary_max": [70_000.0], "salary_period": ["year"], "is_english": [1.0]})
    failures, results = run_suite(df, "postings", posting_suite(settings))
    assert failures == {}
    assert all(r["success"] and r["unexpected_count"] == 0 for r in results)


# ---------------------------------------------------------------- ingest -> validate_postings


def _bronze(settings: Settings) -> pd.DataFrame:
    return read_parquet(settings.lake("bronze", "postings"))


def _reconciles(settings: Settings, bronze: pd.DataFrame) -> dict[str, int]:
    silver = read_parquet(settings.lake("silver", "postings.parquet"))
    quarantine = read_parquet(settings.lake("quarantine", "postings.parquet"))
    dups = read_parquet(settings.lake("silver", "postings_duplicates.parquet"))
    for source, n in bronze.groupby("source").size().items():
        got = sum(int((part["source"] == source).sum()) for part in (silver, quarantine, dups))
        assert got == n, source
    return {"silver": len(silver), "quarantine": len(quarantine), "duplicates": len(dups)}


def test_ingest_twice_appends_nothing(settings: Settings) -> None:
    first = ingest_postings(settings, "run_1")
    assert first["read"] == 8 and first["appended"] == 8
    files = sorted(settings.lake("bronze", "postings").rglob("*.parquet"))
    assert len(files) == 1
    second = ingest_postings(settings, "run_2")
    # the watermark (path + checksum) says the landing file is unchanged: it is not even read
    assert second["read"] == 0 and second["appended"] == 0 and second["files_unchanged"] == 1
    assert sorted(settings.lake("bronze", "postings").rglob("*.parquet")) == files
    # re-running the latest run id replaces its own file instead of doubling it
    again = ingest_postings(settings, "run_2")
    assert again["appended"] == 0 and len(_bronze(settings)) == 8
    # an older run id run again after later runs keeps what it wrote, and adds nothing
    old = ingest_postings(settings, "run_1")
    assert old["appended"] == 0 and len(_bronze(settings)) == 8
    assert sorted(settings.lake("bronze", "postings").rglob("*.parquet")) == files


def test_validate_postings_end_to_end_clean(settings: Settings) -> None:
    ingest_postings(settings, "run_1")
    bronze = _bronze(settings)
    assert set(bronze["source"]) == {SYNTHETIC_SOURCE}
    counts = validate_postings(settings, "val_1")
    assert counts == {"silver": 8, "quarantine": 0, "duplicates": 0, "checks_failed": 0, "checks": 14}
    assert _reconciles(settings, bronze) == {"silver": 8, "quarantine": 0, "duplicates": 0}
    silver = read_parquet(settings.lake("silver", "postings.parquet"))
    assert silver["posting_id"].is_unique
    assert (silver["posting_id"] == SYNTHETIC_SOURCE + ":" + silver["native_id"]).all()
    assert (silver["text"] == silver["title"] + "\n" + silver["description"]).all()
    dq = read_parquet(settings.lake("dq", "dq_check_result", "postings__val_1.parquet"))
    rec = dq[dq["check_name"] == f"reconcile_counts({SYNTHETIC_SOURCE})"]
    assert len(rec) == 1 and bool(rec["success"].iloc[0])
    assert set(dq["run_id"]) == {"val_1"}


def test_validate_postings_splits_duplicates_and_bad_rows(settings: Settings) -> None:
    ingest_postings(settings, "run_1")
    base = _bronze(settings).drop(columns=["ingest_date"]).sort_values("native_id").reset_index(drop=True)
    later = base["ingested_at"].max() + pd.Timedelta(minutes=5)

    extra = base.iloc[[0, 1, 2, 3, 4]].copy().reset_index(drop=True)
    extra["run_id"] = "hand_made"
    extra["ingested_at"] = later
    # 0: same native id again (newer copy) -> one of the pair is a same_id duplicate
    # 1: new id, same title/company/description -> same_content duplicate
    extra.loc[1, "native_id"] = "syn-copy"
    # 2: new id, description too short -> quarantine
    extra.loc[2, ["native_id", "description"]] = ["syn-short", "Too short."]
    # 3: new id, blank title -> quarantine (blank becomes null)
    extra.loc[3, ["native_id", "title", "description"]] = ["syn-notitle", "   ", GOOD]
    # 4: new id, good row with an email in it -> silver, redacted
    extra.loc[4, ["native_id", "description"]] = ["syn-email", GOOD + " Apply: jobs@example.com"]
    for i in range(5):
        extra.loc[i, "record_hash"] = f"hand-{i}"
    write_parquet_atomic(extra, settings.lake("bronze", "postings", "ingest_date=2099-01-01", "run=hand.parquet"))

    bronze = _bronze(settings)
    assert len(bronze) == 13
    counts = validate_postings(settings, "val_2")
    assert counts["silver"] == 8 + 1  # the email row joins the 8 originals
    assert counts["quarantine"] == 2
    assert counts["duplicates"] == 2
    assert counts["checks_failed"] == 2  # title not-null, description length
    assert _reconciles(settings, bronze) == {"silver": 9, "quarantine": 2, "duplicates": 2}

    quarantine = read_parquet(settings.lake("quarantine", "postings.parquet")).set_index("native_id")
    assert DESC_LENGTH in quarantine.loc["syn-short", "reason"]
    assert NOT_NULL_TITLE in quarantine.loc["syn-notitle", "reason"]

    dups = read_parquet(settings.lake("silver", "postings_duplicates.parquet")).set_index("native_id")
    first_id = base.loc[0, "native_id"]
    assert dups.loc[first_id, "duplicate_kind"] == "same_id"
    assert dups.loc[first_id, "duplicate_of"] == f"{SYNTHETIC_SOURCE}:{first_id}"
    assert dups.loc[first_id, "run_id"] == "run_1"  # the newest copy is the one kept
    # newest first: the hand-made "syn-copy" is kept and the older original becomes its content duplicate
    second_id = base.loc[1, "native_id"]
    assert dups.loc[second_id, "duplicate_kind"] == "same_content"
    assert dups.loc[second_id, "duplicate_of"] == f"{SYNTHETIC_SOURCE}:syn-copy"

    silver = read_parquet(settings.lake("silver", "postings.parquet")).set_index("native_id")
    assert silver["posting_id"].is_unique
    assert {"syn-copy", first_id} <= set(silver.index)
    assert not {"syn-short", "syn-notitle", second_id} & set(silver.index)
    assert "jobs@example.com" not in silver.loc["syn-email", "description"]
    assert "[EMAIL]" in silver.loc["syn-email", "description"]


def test_validate_postings_requires_bronze(settings: Settings) -> None:
    with pytest.raises(FileNotFoundError):
        validate_postings(settings, "val_0")
    settings.lake("bronze", "postings").mkdir(parents=True)
    with pytest.raises(ValueError, match="bronze postings are empty"):
        validate_postings(settings, "val_0")


def test_validate_builds_data_docs_and_stores_reconciliation(settings: Settings) -> None:
    ingest_postings(settings, "run_1")
    validate_postings(settings, "val_1")
    index = settings.lake("dq", "gx", "data_docs", "index.html")
    assert index.is_file() and "postings" in index.read_text(encoding="utf-8")
    pages = list(settings.lake("dq", "gx", "data_docs", "validations", "postings").rglob("*.html"))
    assert len(pages) == 1  # one validation page for this run
    recon = read_parquet(settings.lake("dq", "dq_reconciliation"))
    ingest = recon[recon["stage"] == "ingest"].iloc[0]
    assert (ingest["fetched"], ingest["bronze_new"], ingest["already_seen"], bool(ingest["holds"])) == (8, 8, 0, True)
    val = recon[recon["stage"] == "validate"].iloc[0]
    assert (val["source"], val["bronze"], val["silver"], val["quarantine"], val["duplicates"]) == (
        SYNTHETIC_SOURCE, 8, 8, 0, 0)
    assert bool(val["holds"])
    # the checked-in project is never written to: run-time outputs go to the lake
    from skillmatch.validation.validate import GX_PROJECT

    assert not (GX_PROJECT / "gx" / "uncommitted").exists()


def test_invalid_share_over_threshold_fails_with_a_readable_message(settings: Settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_postings(settings, "run_1")
    bronze = _bronze(settings).drop(columns=["ingest_date"])
    bad = bronze.head(2).copy()
    bad["native_id"] = ["bad-1", "bad-2"]
    bad["description"] = "Too short."
    bad["record_hash"] = ["h1", "h2"]
    write_parquet_atomic(bad, settings.lake("bronze", "postings", "ingest_date=2099-01-01", "run=bad.parquet"))
    monkeypatch.setenv("SKILLMATCH_DQ_MAX_INVALID_SHARE", "0.05")
    with pytest.raises(ValueError) as err:
        validate_postings(load_settings(), "val_bad")
    msg = str(err.value)
    assert "2 of 10 records (20.0%) failed validation, over the 5% threshold" in msg
    assert "ExpectColumnValueLengthsToBeBetween(description) (2)" in msg
    # silver and quarantine were still written, so the reasons can be read
    quarantine = read_parquet(settings.lake("quarantine", "postings.parquet"))
    assert sorted(quarantine["native_id"]) == ["bad-1", "bad-2"]


def test_validate_postings_puts_back_dropped_line_breaks(settings: Settings) -> None:
    """A posting whose export glued its bullets together reaches silver with the breaks back; the same posting
    exported with its breaks is then the same content (one silver row, one same_content duplicate)."""
    ingest_postings(settings, "run_1")
    base = _bronze(settings).drop(columns=["ingest_date"]).sort_values("native_id").reset_index(drop=True)
    glued = GOOD + " Requirements: strong SQL skillsExperience with Airflow.Knowledge of dbt"
    extra = base.iloc[[0, 1]].copy().reset_index(drop=True)
    extra["run_id"] = "hand_made"
    extra["ingested_at"] = base["ingested_at"].max() + pd.Timedelta(minutes=5)
    extra.loc[0, ["native_id", "description", "record_hash"]] = ["syn-glued", glued, "hand-0"]
    extra.loc[1, ["native_id", "title", "company", "record_hash"]] = [
        "syn-lines", extra.loc[0, "title"], extra.loc[0, "company"], "hand-1"]
    extra.loc[1, "description"] = GOOD + " Requirements: strong SQL skills\nExperience with Airflow.\nKnowledge of dbt"
    write_parquet_atomic(extra, settings.lake("bronze", "postings", "ingest_date=2099-01-01", "run=hand.parquet"))

    counts = validate_postings(settings, "val_glue")
    assert counts["silver"] == 9 and counts["duplicates"] == 1
    assert _reconciles(settings, _bronze(settings)) == {"silver": 9, "quarantine": 0, "duplicates": 1}
    silver = read_parquet(settings.lake("silver", "postings.parquet")).set_index("native_id")
    dups = read_parquet(settings.lake("silver", "postings_duplicates.parquet")).set_index("native_id")
    kept = ({"syn-glued", "syn-lines"} & set(silver.index)).pop()
    assert dups.loc[({"syn-glued", "syn-lines"} - {kept}).pop(), "duplicate_kind"] == "same_content"
    assert silver.loc[kept, "description"].endswith("strong SQL skills\nExperience with Airflow.\nKnowledge of dbt")
    assert silver.loc[kept, "text"].endswith("\nKnowledge of dbt")
