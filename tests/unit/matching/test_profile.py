"""Title, seniority and location components: the profile parsers on posting / resume phrasing, the pair functions,
and the engine's lookup and dense terms against a brute-force score."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import MatchWeights, Settings, load_settings
from skillmatch.matching.engine import top_k_matches
from skillmatch.matching.profile import (
    UNKNOWN_FIT, Profiles, candidate_profiles, location_fit, places, posting_level, posting_profiles, required_years,
    resume_places, resume_title, seniority_fit, stated_years,
)
from tests.unit.matching.brute_force import assert_top_k_is_brute_force

WEIGHTS = {"SKILL_COVERAGE": "0.3", "SEMANTIC": "0.3", "TITLE": "0.2", "SENIORITY": "0.1", "LOCATION": "0.1"}


@pytest.fixture()
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_TOP_K", "3")
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    for k, v in WEIGHTS.items():
        monkeypatch.setenv(f"SKILLMATCH_WEIGHT_{k}", v)
    return load_settings()


@pytest.mark.parametrize("text,years", [
    ("You have 5+ years of experience building data pipelines.", 5),
    ("3-5 years of relevant experience in analytics", 3),
    ("At least 7 years of professional software engineering experience", 7),
    ("2 years experience with SQL and 4+ years of Python experience", 4),
    ("We have been around for 20 years and serve 300 customers.", None),
    ("Minimum 25 years of experience", 15),  # capped
    ("", None),
])
def test_stated_years(text: str, years: float | None) -> None:
    assert stated_years(text) == years


@pytest.mark.parametrize("seniority,title,level", [
    ("Mid-Senior level", "Data Scientist", "mid-senior"), ("Entry level", "Analyst", "entry"),
    ("Not Applicable", "Data Science Intern", "intern"), (None, "Senior Data Engineer", "senior"),
    (None, "Staff Software Engineer", "lead"), (None, "VP of Engineering", "executive"),
    (None, "Data Scientist", None), ("Director", "Analytics", "director"),
])
def test_posting_level(seniority: str | None, title: str, level: str | None) -> None:
    assert posting_level(seniority, title) == level


def test_required_years_prefers_the_stated_figure_and_caps_junior_roles() -> None:
    assert required_years("Entry level", "Junior Analyst", "1+ years of experience") == (1.0, 4.0)
    lo, hi = required_years(None, "Senior Data Engineer", "Build pipelines.")
    assert (lo, hi) == (5.0, math.inf)
    lo, hi = required_years(None, "Data Engineer", "8+ years of experience with Spark")
    assert (lo, hi) == (8.0, math.inf)
    assert math.isnan(required_years(None, "Data Engineer", "Build pipelines.")[0])


def test_seniority_fit() -> None:
    assert seniority_fit(0.0, math.nan, math.inf) == 1.0  # no requirement: anyone fits
    assert seniority_fit(math.nan, 5.0, math.inf) == UNKNOWN_FIT
    assert seniority_fit(6.0, 5.0, math.inf) == 1.0
    short = [seniority_fit(y, 5.0, math.inf) for y in (4.0, 2.0, 0.0)]
    assert short == sorted(short, reverse=True) and short[0] < 1.0 and short[-1] == pytest.approx(1 / 6)
    assert seniority_fit(0.0, 0.0, 3.0) == 1.0
    veteran = seniority_fit(20.0, 0.0, 3.0)  # overqualified for an entry role: less, never below 0.25
    assert veteran == 0.25 and seniority_fit(5.0, 0.0, 3.0) == pytest.approx(0.8)


@pytest.mark.parametrize("location,expected", [
    ("Chicago, IL", {("US", "IL")}), ("Mountain View, California", {("US", "CA")}),
    ("Oakland, CA, US", {("US", "CA")}), ("London, UK", {("GB", None)}),
    ("SF / NYC / Remote", {("US", "CA"), ("US", "NY")}), ("New York City", {("US", "NY")}),
    ("Toronto, ON", {("CA", "ON")}), ("Remote (Europe)", set()), ("City , State", set()), (None, set()),
])
def test_places(location: str | None, expected: set) -> None:
    assert places(location) == expected


def test_location_fit() -> None:
    il, tx, gb = frozenset({("US", "IL")}), frozenset({("US", "TX")}), frozenset({("GB", None)})
    assert location_fit(tx, True, il) == 1.0  # remote: anywhere
    assert location_fit(il, False, il) == 1.0
    assert location_fit(tx, None, il) == 0.5  # a move within the country
    assert location_fit(gb, None, il) == 0.0
    assert location_fit(frozenset(), None, il) == UNKNOWN_FIT
    assert location_fit(il, None, frozenset()) == UNKNOWN_FIT
    assert location_fit(il, None, frozenset({("US", None)})) == 1.0  # the posting names the country only


def test_resume_title_and_places_from_the_header() -> None:
    text = "SUBSTITUTE TEACHER\nSkills\nOutlook, Excel\nExperience\n09/2016 to Current\nCity , State"
    assert resume_title(text) == "substitute teacher"
    assert resume_places(text) == set()  # the shared resumes' placeholders name no place
    mine = "Data Engineer\nSpringfield, IL [ZIP]\n[PHONE] [EMAIL]\nSummary\nMoved from Austin, TX in 2019."
    assert resume_title(mine) == "data engineer" and resume_places(mine) == {("US", "IL")}
    assert resume_places("ATHLETIC DIRECTOR, COACH, PE TEACHER\nSummary\nCoach in Ohio") == set()  # not a province
    assert resume_places("TEACHER\nAccomplishments\nLed Texas Education Agency reviews") == set()  # body, not header
    assert resume_title("Summary\nSeasoned engineer") is None
    assert resume_title("[EMAIL]\nData Engineer") is None
    assert resume_title("Worked 12 years at 3 companies as a welder and fitter in the navy yard") is None


def test_profiles_of_arrow_backed_silver_columns_with_missing_values() -> None:
    """Silver tables come back from Parquet with Arrow-backed strings and nullable booleans (pd.NA)."""
    postings = pd.DataFrame({"posting_id": ["a", "b"], "title": ["Senior Data Engineer", None],
                             "seniority": [None, "Entry level"], "location": ["Chicago, IL", None],
                             "remote": [None, True], "text": [None, "2+ years of experience"]})
    postings = postings.astype({c: "string[pyarrow]" for c in ("posting_id", "title", "seniority", "location",
                                                              "text")} | {"remote": "boolean"})
    pp = posting_profiles(postings)
    assert pp.loc["a", ["title", "years_min", "remote"]].tolist() == ["senior data engineer", 5.0, None]
    assert pp.loc["a", "places"] == {("US", "IL")}
    assert pd.isna(pp.loc["b", "title"]) and pp.loc["b", ["years_min", "years_max", "remote"]].tolist() == [2.0, 5.0, True]
    resumes = pd.DataFrame({"candidate_id": ["c", "d"], "text": ["Nurse\nSummary\nCaring.", None],
                            "years_experience": [3.5, None]}).astype({"text": "string[pyarrow]",
                                                                      "years_experience": "Float64"})
    cp = candidate_profiles(resumes)
    assert cp.loc["c", "title"] == "nurse" and cp.loc["c", "years_min"] == 3.5
    assert pd.isna(cp.loc["d", "title"]) and math.isnan(cp.loc["d", "years_min"])


def _profiles(frame: pd.DataFrame, emb: np.ndarray) -> Profiles:
    return Profiles(frame, emb.astype(np.float32))


def test_profiles_rank_the_fitting_candidate_first(settings: Settings) -> None:
    """Same skills and document embeddings: the candidate with the matching title, enough years and the
    posting's state comes first, and each component moves the score by its weight."""
    skills = {"python", "sql"}
    cands = ["fit", "junior", "far", "other-title"]
    held = dict.fromkeys(cands, skills)
    asked = {"P": skills}
    idf = pd.Series(1.0, index=sorted(skills))
    emb = np.ones((1, 4), np.float32) / 2
    de, ds = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])  # title embeddings: data engineer, sales
    cand = pd.DataFrame({"title": ["data engineer", "data engineer", "data engineer", "sales"],
                         "years_min": [6.0, 1.0, 6.0, 6.0], "years_max": math.inf, "remote": None,
                         "places": [frozenset({("US", "IL")}), frozenset({("US", "IL")}), frozenset({("US", "TX")}),
                                    frozenset({("US", "IL")})]}, index=cands)
    post = posting_profiles(pd.DataFrame({"posting_id": ["P"], "title": ["Senior Data Engineer"],
                                          "seniority": [None], "location": ["Chicago, IL"], "remote": [False],
                                          "text": ["5+ years of experience with Python and SQL"]}))
    out = top_k_matches(held, asked, idf, np.repeat(emb, 4, 0), emb, cands, ["P"], settings,
                        cand_prof=_profiles(cand, np.vstack([de, de, de, ds])), post_prof=_profiles(post, de))
    by = out.set_index("candidate_id")
    assert by.loc["fit", "rank_for_posting"] == 1
    assert by.loc["fit", ["title_similarity", "seniority_fit", "location_fit"]].tolist() == [1.0, 1.0, 1.0]
    w = settings.weights
    assert by.loc["fit", "score"] - by.loc["other-title", "score"] == pytest.approx(w.title, abs=1e-5)
    assert by.loc["junior", "seniority_fit"] == pytest.approx(1 - 4 / 6, abs=1e-5)
    assert by.loc["far", "location_fit"] == 0.5
    for r in by.itertuples():
        parts = (w.skill_coverage * r.skill_coverage + w.semantic * r.semantic_similarity + w.title * r.title_similarity
                 + w.seniority * r.seniority_fit + w.location * r.location_fit)
        assert r.score == pytest.approx(parts, abs=1e-5)


@pytest.mark.parametrize("seed,block", [(0, 1), (1, 5), (2, None)])
def test_profile_terms_equal_brute_force(settings: Settings, seed: int, block: int | None) -> None:
    rng = np.random.default_rng(seed)
    cand_ids, post_ids = [f"C{i}" for i in range(19)], [f"P{j}" for j in range(13)]
    vocab = [f"s{i}" for i in range(20)]
    cs = {c: set(rng.choice(vocab, size=rng.integers(0, 6), replace=False)) for c in cand_ids}
    ps = {p: set(rng.choice(vocab, size=rng.integers(1, 5), replace=False)) for p in post_ids}
    idf = pd.Series(1.0, index=vocab)

    def unit(n: int, d: int) -> np.ndarray:
        x = rng.normal(size=(n, d))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    ce, pe, ct, pt = unit(19, 8), unit(13, 8), unit(19, 6), unit(13, 6)
    ct[3] = 0  # a resume without a title
    regions = [frozenset(), frozenset({("US", "IL")}), frozenset({("US", "TX")}), frozenset({("GB", None)})]
    cand = pd.DataFrame({"title": "t", "years_min": [math.nan if i % 5 == 0 else float(rng.integers(0, 25))
                                                     for i in range(19)],
                         "years_max": math.inf, "remote": None,
                         "places": [regions[i % 4] for i in range(19)]}, index=cand_ids)
    lo = [math.nan, 0.0, 3.0, 5.0, 8.0]
    post = pd.DataFrame({"title": "t", "years_min": [lo[j % 5] for j in range(13)],
                         "years_max": [3.0 if j % 5 == 1 else math.inf for j in range(13)],
                         "remote": [True if j % 4 == 0 else None for j in range(13)],
                         "places": [regions[(j + 1) % 4] for j in range(13)]}, index=post_ids)
    w: MatchWeights = settings.weights
    floor = 3.0
    score = np.zeros((19, 13))
    for i, c in enumerate(cand_ids):
        for j, p in enumerate(post_ids):
            cov = len(cs[c] & ps[p]) / max(len(ps[p]), floor)
            score[i, j] = (w.skill_coverage * cov + w.semantic * max(0.0, float(ce[i] @ pe[j]))
                           + w.title * max(0.0, float(ct[i] @ pt[j]))
                           + w.seniority * seniority_fit(min(round(cand.years_min.iloc[i]), 40)
                                                         if not math.isnan(cand.years_min.iloc[i]) else math.nan,
                                                         post.years_min.iloc[j], post.years_max.iloc[j])
                           + w.location * location_fit(cand.places.iloc[i], post.remote.iloc[j], post.places.iloc[j]))
    # the posting side takes its profiles in another order than post_ids: the engine aligns them by id
    shuffled = list(reversed(post_ids))
    out = top_k_matches(cs, ps, idf, ce, pe, cand_ids, post_ids, settings, block=block,
                        cand_prof=Profiles(cand, ct), post_prof=Profiles(post.loc[shuffled], pt[::-1].copy()))
    assert_top_k_is_brute_force(out, score, cand_ids, post_ids, 3)
    assert (out.loc[out["candidate_id"] == "C3", "title_similarity"] == 0).all()


def test_weights_must_sum_to_one(monkeypatch) -> None:
    monkeypatch.setenv("SKILLMATCH_WEIGHT_TITLE", "0.5")
    with pytest.raises(ValueError, match="sum to 1"):
        load_settings()
