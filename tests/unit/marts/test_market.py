"""Labour-market marts on a small dated fixture with hand-computed counts, shares and growth."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from skillmatch.marts.market import TREND_COLUMNS, WEEKLY_COLUMNS, skill_trends, weekly_skill_demand

# as-of week starts Monday 2026-03-30; "back" = weeks before it
POSTINGS = pd.DataFrame([
    ("a1", "hn", "2026-04-01T10:00:00Z"),  # back 0
    ("a2", "hn", "2026-04-05T23:00:00Z"),  # back 0 (Sunday: same ISO week)
    ("b1", "hn", "2026-03-23T00:00:00Z"),  # back 1 (Monday itself)
    ("b2", "li", "2026-03-28T12:00:00Z"),  # back 1, other source
    ("c1", "hn", "2026-02-24T09:00:00Z"),  # back 5
    ("c2", "hn", "2026-02-26T09:00:00Z"),  # back 5
    ("d1", "hn", "2026-02-17T09:00:00Z"),  # back 6
    ("x1", "gd", None),                     # no date: left out of the time series
], columns=["posting_id", "source", "posted_at"])
POSTINGS["posted_at"] = pd.to_datetime(POSTINGS["posted_at"], utc=True)
SKILLS = pd.DataFrame([
    ("a1", "python"), ("a1", "rust"), ("a2", "python"), ("a2", "python"),  # duplicate row counts once
    ("b1", "python"), ("b2", "sql"), ("c1", "python"), ("c1", "sql"), ("c2", "sql"), ("d1", "sql"),
    ("x1", "python"),
], columns=["posting_id", "skill_id"])


def test_weekly_counts_and_shares() -> None:
    w = weekly_skill_demand(POSTINGS, SKILLS)
    assert list(w.columns) == WEEKLY_COLUMNS
    row = lambda week, src, skill: w[(w["week_start"] == dt.date.fromisoformat(week)) & (w["source"] == src)
                                     & (w["skill_id"] == skill)].iloc[0]  # noqa: E731
    py = row("2026-03-30", "hn", "python")
    assert (py["postings"], py["postings_in_week"], py["share"]) == (2, 2, 1.0)
    rust = row("2026-03-30", "hn", "rust")
    assert (rust["postings"], rust["share"]) == (1, 0.5)
    assert row("2026-03-23", "li", "sql")["postings_in_week"] == 1
    assert row("2026-02-23", "hn", "sql")["postings"] == 2
    assert w["postings"].sum() == 9  # x1 has no date; a2's duplicate python row counts once
    assert weekly_skill_demand(POSTINGS.assign(posted_at=pd.NaT), SKILLS).empty


def test_trends_growth_and_emerging() -> None:
    t = skill_trends(weekly_skill_demand(POSTINGS, SKILLS), min_postings=1).set_index("skill_id")
    assert list(t.reset_index().columns) == TREND_COLUMNS
    assert (t["as_of_week"] == dt.date(2026, 3, 30)).all()
    # last 4 weeks: a1, a2, b1, b2 (4 postings); the 4 before: c1, c2, d1 (3 postings)
    assert (t.loc["python", "postings_last_4w"], t.loc["python", "postings_prev_4w"]) == (3, 1)
    assert t.loc["python", "share_last_4w"] == pytest.approx(0.75)
    assert t.loc["python", "share_prev_4w"] == pytest.approx(1 / 3)
    assert t.loc["python", "growth_4w"] == pytest.approx((0.75 - 1 / 3) / (1 / 3))
    assert t.loc["sql", "growth_4w"] == pytest.approx((0.25 - 1.0) / 1.0)
    assert pd.isna(t.loc["rust", "growth_4w"])  # nothing to grow from
    # 12 weeks: everything is in the last 12, nothing before
    assert t.loc["sql", "postings_last_12w"] == 4 and t.loc["sql", "postings_prev_12w"] == 0
    assert t.loc["python", "share_last_12w"] == pytest.approx(4 / 7)
    assert t.loc["rust", "is_new"] and not t.loc["python", "is_new"]
    assert t.loc["rust", "is_emerging"] and t.loc["python", "is_emerging"] and not t.loc["sql", "is_emerging"]
    # a higher bar: python's 3 recent postings no longer count as emerging
    strict = skill_trends(weekly_skill_demand(POSTINGS, SKILLS), min_postings=4).set_index("skill_id")
    assert not strict["is_emerging"].any()


def test_skill_salaries_annualise_and_take_medians_per_currency() -> None:
    from skillmatch.marts.market import SALARY_COLUMNS, annual_salaries, skill_salaries

    postings = pd.DataFrame([
        ("p1", 100_000, 140_000, "USD", "year"),   # mid 120k
        ("p2", 50, 60, "USD", "hour"),             # 104k-124.8k, mid 114.4k
        ("p3", 10_000, None, "USD", "month"),      # one-sided: 120k-120k
        ("p4", 90_000, 110_000, "EUR", "year"),    # other currency: never mixed with USD
        ("p5", 80_000, 90_000, None, "year"),      # no currency: left out
        ("p6", 70_000, 60_000, "USD", "year"),     # max below min: left out
        ("p7", None, None, None, None),            # no salary
    ], columns=["posting_id", "salary_min", "salary_max", "salary_currency", "salary_period"])
    annual = annual_salaries(postings).set_index("posting_id")
    assert sorted(annual.index) == ["p1", "p2", "p3", "p4"]
    assert (annual.loc["p2", "annual_min"], annual.loc["p2", "annual_max"]) == (104_000, 124_800)
    assert (annual.loc["p3", "annual_min"], annual.loc["p3", "annual_max"]) == (120_000, 120_000)
    skills = pd.DataFrame([("p1", "python"), ("p2", "python"), ("p3", "python"), ("p4", "python"),
                           ("p5", "python"), ("p6", "python"), ("p1", "sql"), ("p2", "sql")],
                          columns=["posting_id", "skill_id"])
    out = skill_salaries(postings, skills, min_postings=2)
    assert list(out.columns) == SALARY_COLUMNS
    rows = {(r.skill_id, r.salary_currency): r for r in out.itertuples()}
    assert set(rows) == {("python", "USD"), ("sql", "USD")}  # EUR python has 1 posting, under the minimum
    py = rows[("python", "USD")]
    assert py.postings_with_salary == 3
    assert py.median_annual_min == 104_000 and py.median_annual_max == 124_800
    assert py.median_annual_mid == pytest.approx(120_000)  # mids 120k, 114.4k, 120k
    assert rows[("sql", "USD")].median_annual_mid == pytest.approx((120_000 + 114_400) / 2)
