"""Match score components on hand-made pairs: required vs preferred skills, soft coverage, the explanation columns,
and the learning-path gain that follows the same formula."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings
from skillmatch.matching.engine import PREFERRED_WEIGHT, coverage_weights, top_k_matches, with_skill_lists
from skillmatch.matching.requirements import classify, posting_requirements
from skillmatch.matching.soft import BROADER_CREDIT, candidate_credits, skill_relations
from skillmatch.paths.learning import rank_learning_steps

IDF = pd.Series(1.0, index=["python", "sql", "spark", "kafka", "terraform", "deep-learning", "pytorch"])


def _coverage(settings: Settings, held: dict[str, set[str]], asked: dict[str, set[str]],
              preferred: dict[str, set[str]] | None = None, credits=None) -> dict[tuple[str, str], float]:  # noqa: ANN001
    """skill_coverage of every (candidate, posting) pair (embeddings identical, so only coverage differs)."""
    c_ids, p_ids = list(held), list(asked)
    emb = np.ones((1, 4), np.float32) / 2
    out = top_k_matches(held, asked, IDF, np.repeat(emb, len(c_ids), 0), np.repeat(emb, len(p_ids), 0),
                        c_ids, p_ids, settings, preferred=preferred, credits=credits)
    return {(r.candidate_id, r.posting_id): r.skill_coverage for r in out.itertuples()}


def test_a_resume_holding_every_required_skill_outranks_one_holding_half(cpu_settings: Settings) -> None:
    asked = {"P": {"python", "sql", "spark", "kafka"}}
    cov = _coverage(cpu_settings, {"all": {"python", "sql", "spark", "kafka"}, "half": {"python", "sql"}}, asked)
    assert cov[("all", "P")] == pytest.approx(1.0) and cov[("half", "P")] == pytest.approx(0.5)


def test_a_required_skill_counts_more_than_a_preferred_one(cpu_settings: Settings) -> None:
    asked = {"P": {"python", "sql", "spark", "kafka", "terraform"}}
    preferred = {"P": {"terraform"}}
    cov = _coverage(cpu_settings, {"req": {"python"}, "pref": {"terraform"}, "all": asked["P"]}, asked, preferred)
    total = 4 + PREFERRED_WEIGHT  # four required skills weigh 1 each, terraform half
    assert cov[("req", "P")] == pytest.approx(1 / total, abs=1e-5)
    assert cov[("pref", "P")] == pytest.approx(PREFERRED_WEIGHT / total, abs=1e-5)
    assert cov[("all", "P")] == pytest.approx(1.0, abs=1e-5)
    small = pd.DataFrame({"doc_id": "Q", "skill_id": ["python", "sql", "terraform"],
                          "requirement": ["required", "required", "preferred"]})
    idf, denom = coverage_weights(small, 3)
    assert float(denom["Q"]) == pytest.approx(max(2 * idf["python"] + PREFERRED_WEIGHT * idf["terraform"],
                                                  3 * float(idf.mean())))  # floor: 3 average skills' weight


def test_soft_coverage_credits_a_related_skill_less_than_the_skill_itself(cpu_settings: Settings) -> None:
    dim = pd.DataFrame({"skill_id": ["pytorch", "deep-learning", "kafka"]})
    hierarchy = pd.DataFrame({"skill_id": ["pytorch"], "broader_id": ["deep-learning"]})
    relations = skill_relations(dim, hierarchy, None)
    assert relations[["skill_id", "related_id"]].values.tolist() == [["pytorch", "deep-learning"]]
    held = {"exact": {"deep-learning", "python", "sql"}, "related": {"pytorch", "python", "sql"},
            "neither": {"kafka", "python", "sql"}}
    credits = candidate_credits(held, relations)
    assert credits == {"related": {"deep-learning": BROADER_CREDIT}}  # a held skill is never soft-credited
    asked = {"P": {"deep-learning", "python", "sql"}}
    cov = _coverage(cpu_settings, held, asked, credits=credits)
    assert cov[("exact", "P")] > cov[("related", "P")] > cov[("neither", "P")]
    assert cov[("related", "P")] - cov[("neither", "P")] == pytest.approx(BROADER_CREDIT / 3, abs=1e-5)
    pairs = pd.DataFrame({"candidate_id": ["related"], "posting_id": ["P"]})
    row = with_skill_lists(pairs.assign(score=0.0, skill_coverage=0.0, semantic_similarity=0.0,
                                        rank_for_candidate=1, rank_for_posting=1),
                           held, asked, IDF, {}, {}, credits).iloc[0]
    assert row["missing_skill_ids"] == ["deep-learning"] and row["partial_skill_ids"] == ["deep-learning"]
    assert row["required_coverage"] == pytest.approx(2 / 3)


def test_label_similarity_relations_stay_below_full_credit() -> None:
    dim = pd.DataFrame({"skill_id": ["python-esco", "python-onet", "welding"]})
    emb = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]], dtype=np.float32)
    rel = skill_relations(dim, pd.DataFrame(columns=["skill_id", "broader_id"]), emb)
    pairs = {(a, b): c for a, b, c in zip(rel["skill_id"], rel["related_id"], rel["credit"])}
    assert set(pairs) == {("python-esco", "python-onet"), ("python-onet", "python-esco")}  # welding is far
    assert all(0.7 < c < 1.0 for c in pairs.values())


def test_missing_skills_list_required_ones_first_and_required_coverage(cpu_settings: Settings) -> None:
    held, asked = {"C": {"python"}}, {"P": {"python", "sql", "terraform", "kafka"}}
    pairs = pd.DataFrame({"candidate_id": ["C"], "posting_id": ["P"], "score": [0.0], "skill_coverage": [0.0],
                          "semantic_similarity": [0.0], "rank_for_candidate": [1], "rank_for_posting": [1]})
    idf = IDF.copy()
    idf["terraform"] = 3.0  # rarest, but preferred: listed after the required gap
    row = with_skill_lists(pairs, held, asked, idf, {}, {"P": {"terraform", "kafka"}}).iloc[0]
    assert row["missing_skill_ids"] == ["sql", "terraform", "kafka"]
    assert row["required_coverage"] == pytest.approx(0.5)


def test_learning_gain_follows_the_match_formula_for_preferred_and_partly_covered_skills() -> None:
    ps = pd.DataFrame({"doc_id": ["P"] * 4, "skill_id": ["python", "sql", "terraform", "deep-learning"],
                       "requirement": ["required", "required", "preferred", "required"]})
    fm = pd.DataFrame({"candidate_id": ["C"], "posting_id": ["P"], "rank_for_candidate": [1], "score": [0.2],
                       "missing_skill_ids": [["sql", "terraform", "deep-learning"]]})
    credits = {"C": {"deep-learning": BROADER_CREDIT}}
    steps = rank_learning_steps(fm, ps, {}, targets=1, max_steps=5, coverage_weight=0.35, credits=credits,
                                n_postings=10)
    gain = dict(zip(steps["skill_id"], steps["expected_gain"]))
    idf, denom = coverage_weights(ps, 10)
    assert gain["sql"] == pytest.approx(0.35 * idf["sql"] / denom["P"], abs=1e-6)
    assert gain["terraform"] == pytest.approx(0.35 * idf["terraform"] * PREFERRED_WEIGHT / denom["P"], abs=1e-6)
    assert gain["deep-learning"] == pytest.approx(
        0.35 * idf["deep-learning"] * (1 - BROADER_CREDIT) / denom["P"], abs=1e-6)
    assert steps["skill_id"].iloc[0] == "sql"  # the full, required gap first


@pytest.mark.parametrize("text,expected", [
    ("Requirements: 3+ years of Python and SQL. Experience with Amazon Redshift is a plus. Nice to have: "
     "Terraform, Kafka", {"Python": "required", "SQL": "required", "Redshift": "preferred",
                          "Terraform": "preferred", "Kafka": "preferred"}),
    ("At least 2 years of experience with SQL (BigQuery and MySQL is a plus)",
     {"SQL": "required", "BigQuery": "preferred"}),
    ("summarized business termsPreferred QualificationsExperience with SAS. Responsibilities: build Tableau "
     "dashboards", {"SAS": "preferred", "Tableau": "required"}),
    ("You know Java. Kubernetes preferred. Bonus: Rust", {"Java": "required", "Kubernetes": "preferred",
                                                         "Rust": "preferred"}),
])
def test_requirement_classifier_on_posting_phrasing(text: str, expected: dict[str, str]) -> None:
    spans = [(text.index(w), text.index(w) + len(w)) for w in expected]
    assert dict(zip(expected, classify(text, spans))) == expected


def test_a_skill_is_required_when_any_of_its_mentions_is() -> None:
    text = "Must know Python. Python 3.12 experience is a plus. Go is a plus."
    facts = pd.DataFrame({"doc_id": ["P"] * 3, "skill_id": ["python", "python", "go"],
                          "char_start": [10, 18, 52], "char_end": [16, 24, 54]})
    out = posting_requirements(pd.DataFrame({"posting_id": ["P"], "text": [text]}), facts)
    assert dict(zip(out["skill_id"], out["requirement"])) == {"go": "preferred", "python": "required"}
