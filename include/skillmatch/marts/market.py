"""Labour-market marts: weekly skill demand and skill trends (growth over 4 / 12 weeks, emerging skills).

Pure functions over data frames; :mod:`skillmatch.marts.build` feeds them from the lake. Shares, not counts, are
compared across windows, so a week with more postings does not read as growth of every skill. Only postings with
a known ``posted_at`` take part (the HN "Who is hiring?" runs carry exact dates).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

WEEKLY_COLUMNS = ["week_start", "source", "skill_id", "postings", "postings_in_week", "share"]
TREND_COLUMNS = ["skill_id", "as_of_week", "postings_last_4w", "postings_prev_4w", "share_last_4w",
                 "share_prev_4w", "growth_4w", "postings_last_12w", "postings_prev_12w", "share_last_12w",
                 "share_prev_12w", "growth_12w", "is_new", "is_emerging"]


def _week(ts: pd.Series) -> pd.Series:
    """Monday of the ISO week of each timestamp, as a date."""
    t = pd.to_datetime(ts, utc=True).dt.tz_convert(None).dt.normalize()
    return (t - pd.to_timedelta(t.dt.weekday, unit="D")).dt.date


def weekly_skill_demand(postings: pd.DataFrame, posting_skills: pd.DataFrame) -> pd.DataFrame:
    """One row per (week, source, skill): postings of that week and source asking for the skill, and their share.

    ``postings`` has posting_id, source, posted_at; ``posting_skills`` has posting_id, skill_id.
    """
    p = postings.dropna(subset=["posted_at"])[["posting_id", "source", "posted_at"]].copy()
    if p.empty:
        return pd.DataFrame(columns=WEEKLY_COLUMNS)
    p["week_start"] = _week(p["posted_at"])
    totals = p.groupby(["week_start", "source"])["posting_id"].nunique().rename("postings_in_week")
    ps = posting_skills[["posting_id", "skill_id"]].drop_duplicates().merge(p, on="posting_id")
    out = ps.groupby(["week_start", "source", "skill_id"])["posting_id"].nunique().rename("postings").reset_index()
    out = out.join(totals, on=["week_start", "source"])
    out["share"] = out["postings"] / out["postings_in_week"]
    return out[WEEKLY_COLUMNS].sort_values(["week_start", "source", "postings", "skill_id"],
                                           ascending=[True, True, False, True]).reset_index(drop=True)


def skill_trends(weekly: pd.DataFrame, min_postings: int = 5, emerging_growth: float = 0.5) -> pd.DataFrame:
    """Per skill, as of the latest week with data: postings and share in the last 4 / 12 weeks against the 4 / 12
    before, relative growth of the share, and flags. ``is_new``: not asked for in any week before the last 4 (when
    the history reaches back that far) and at least ``min_postings`` postings in the last 4; ``is_emerging``: new, or its 4-week share grew by >= ``emerging_growth`` with at
    least ``min_postings`` postings in the last 4 weeks."""
    if weekly.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    w = weekly.copy()
    w["week_start"] = pd.to_datetime(w["week_start"])
    as_of = w["week_start"].max()
    weeks_back = ((as_of - w["week_start"]).dt.days // 7).astype(int)
    totals = w.drop_duplicates(["week_start", "source"]).assign(back=weeks_back)
    out = pd.DataFrame({"skill_id": sorted(w["skill_id"].unique())}).set_index("skill_id")
    for n in (4, 12):
        for name, lo, hi in ((f"last_{n}w", 0, n), (f"prev_{n}w", n, 2 * n)):
            sel = (weeks_back >= lo) & (weeks_back < hi)
            out[f"postings_{name}"] = w[sel].groupby("skill_id")["postings"].sum()
            total = totals[(totals["back"] >= lo) & (totals["back"] < hi)]["postings_in_week"].sum()
            out[f"postings_{name}"] = out[f"postings_{name}"].fillna(0).astype("int64")
            out[f"share_{name}"] = out[f"postings_{name}"] / total if total else np.nan
        prev = out[f"share_prev_{n}w"]
        out[f"growth_{n}w"] = np.where(prev > 0, (out[f"share_last_{n}w"] - prev) / prev.where(prev > 0, 1), np.nan)
    out["as_of_week"] = as_of.date()
    # new = never asked for before the last 4 weeks, in a history that does reach back before them
    earlier = w[weeks_back >= 4].groupby("skill_id")["postings"].sum().reindex(out.index, fill_value=0)
    has_history = bool((weeks_back >= 4).any())
    out["is_new"] = has_history & (earlier == 0) & (out["postings_last_4w"] >= min_postings)
    out["is_emerging"] = out["is_new"] | ((out["growth_4w"] >= emerging_growth) & (out["postings_last_4w"] >= min_postings))
    return out.reset_index()[TREND_COLUMNS].sort_values(["is_emerging", "growth_4w", "skill_id"],
                                                        ascending=[False, False, True]).reset_index(drop=True)


SALARY_COLUMNS = ["skill_id", "salary_currency", "postings_with_salary", "median_annual_min", "median_annual_max",
                  "median_annual_mid", "p25_annual_mid", "p75_annual_mid"]
# what one unit of a pay period is worth in a year of full-time work (40 h x 52 weeks)
ANNUAL_FACTOR = {"year": 1.0, "month": 12.0, "week": 52.0, "day": 260.0, "hour": 2080.0}
MIN_SALARY_POSTINGS = 3  # fewer postings than this make no median worth publishing


def annual_salaries(postings: pd.DataFrame) -> pd.DataFrame:
    """Stated salaries made comparable: min / max / mid per year of full-time work, per posting and currency.

    ``postings`` has posting_id, salary_min, salary_max, salary_currency, salary_period. Postings without a stated
    amount, currency or period are left out (never guessed); a one-sided salary counts as both ends.
    """
    cols = ["posting_id", "salary_min", "salary_max", "salary_currency", "salary_period"]
    p = postings.reindex(columns=cols).copy()
    p["factor"] = p["salary_period"].map(ANNUAL_FACTOR)
    lo = pd.to_numeric(p["salary_min"], errors="coerce").astype(float)
    hi = pd.to_numeric(p["salary_max"], errors="coerce").astype(float)
    p["annual_min"] = lo.fillna(hi) * p["factor"]
    p["annual_max"] = hi.fillna(lo) * p["factor"]
    p = p.dropna(subset=["annual_min", "annual_max", "salary_currency"])
    p = p[(p["annual_min"] > 0) & (p["annual_max"] >= p["annual_min"])]
    p["annual_mid"] = (p["annual_min"] + p["annual_max"]) / 2
    return p[["posting_id", "salary_currency", "annual_min", "annual_max", "annual_mid"]].reset_index(drop=True)


def skill_salaries(postings: pd.DataFrame, posting_skills: pd.DataFrame,
                   min_postings: int = MIN_SALARY_POSTINGS) -> pd.DataFrame:
    """One row per (skill, currency): how many postings asking for the skill state a salary, and the median (and
    quartiles of the mid-point) of their annualised ranges. Currencies are never mixed or converted."""
    sal = annual_salaries(postings)
    ps = posting_skills[["posting_id", "skill_id"]].drop_duplicates().merge(sal, on="posting_id")
    if ps.empty:
        return pd.DataFrame(columns=SALARY_COLUMNS)
    g = ps.groupby(["skill_id", "salary_currency"])
    out = pd.DataFrame({"postings_with_salary": g["posting_id"].nunique(),
                        "median_annual_min": g["annual_min"].median(), "median_annual_max": g["annual_max"].median(),
                        "median_annual_mid": g["annual_mid"].median(),
                        "p25_annual_mid": g["annual_mid"].quantile(0.25),
                        "p75_annual_mid": g["annual_mid"].quantile(0.75)}).reset_index()
    out = out[out["postings_with_salary"] >= min_postings]
    return out[SALARY_COLUMNS].sort_values(["salary_currency", "median_annual_mid", "skill_id"],
                                           ascending=[True, False, True]).reset_index(drop=True)
