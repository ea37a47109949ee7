"""Skills a posting names as a choice ("Python or Java"): found in the text, weighed as one requirement by the
match engine, explained in fact_match and taken as one learning step."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from skillmatch.config import Settings
from skillmatch.matching.engine import (
    PREFERRED_WEIGHT,
    alternative_sets,
    coverage_weights,
    skill_matrices,
    top_k_matches,
    with_skill_lists,
)
from skillmatch.matching.requirements import alternatives, posting_requirements
from skillmatch.paths.learning import rank_learning_steps


def _mentions(text: str, words: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, skill id = the word lowercased) of every whole-word occurrence of each word."""
    return [(m.start(), m.end(), w.lower()) for w in words
            for m in re.finditer(r"(?<![\w+])" + re.escape(w) + r"(?![\w+])", text)]


@pytest.mark.parametrize("text,words,expected", [
    ("3+ years of Python, R, or Scala. Strong SQL.", ["Python", "R", "Scala", "SQL"], [{"python", "r", "scala"}]),
    ("Programming skills in C/C++ or Java", ["C", "C++", "Java"], [{"c", "c++", "java"}]),
    ("R and/or Python familiarity preferred", ["R", "Python"], [{"r", "python"}]),
    ("HTML/CSS and SQL; Docker, Kubernetes", ["HTML", "CSS", "SQL", "Docker", "Kubernetes"], []),
    # "or related / similar..." after a run makes it a choice too
    ("MS in Statistics, Economics or a related field", ["Statistics", "Economics"], [{"statistics", "economics"}]),
    ("Strong scripting in Perl, Bash, or similar.", ["Perl", "Bash"], [{"perl", "bash"}]),
    ("Python, SQL, Tableau, and similar tools", ["Python", "SQL", "Tableau"], []),
    # Python is also asked for on its own: it leaves the group, and a group of one is none
    ("Java or Python. You will write Python every day.", ["Java", "Python"], []),
    # two choices sharing a skill are one
    ("Python or R for modelling; R or SAS for reporting", ["Python", "R", "SAS"], [{"python", "r", "sas"}]),
])
def test_alternatives_are_runs_of_mentions_joined_by_or(text: str, words: list[str],
                                                         expected: list[set[str]]) -> None:
    assert [set(g) for g in alternatives(text, _mentions(text, words))] == expected


def test_posting_requirements_number_the_groups_and_a_group_is_required_when_any_member_is() -> None:
    text = "Must have: SQL. Experience with Kafka is a plus. Nice to have: Go or Rust"
    found = _mentions(text, ["SQL", "Kafka", "Go", "Rust"])
    facts = pd.DataFrame({"doc_id": "P", "skill_id": [m[2] for m in found], "char_start": [m[0] for m in found],
                          "char_end": [m[1] for m in found]})
    out = posting_requirements(pd.DataFrame({"posting_id": ["P"], "text": [text]}), facts).set_index("skill_id")
    assert out.loc["go", "alternative_group"] == out.loc["rust", "alternative_group"] == 1
    assert out[["alternative_group"]].loc[["sql", "kafka"]].isna().all().all()
    assert out.loc[["go", "rust"], "requirement"].tolist() == ["preferred", "preferred"]
    # the same pair, one of them also said without hedging: both required
    text2 = "Go or Rust (Rust is a plus)"
    facts2 = pd.DataFrame({"doc_id": "Q", "skill_id": ["go", "rust"], "char_start": [0, 6], "char_end": [2, 10],
                           "surface_form": ["Go", "Rust"], "mention_starts": [[0], [6, 12]]})
    out2 = posting_requirements(pd.DataFrame({"posting_id": ["Q"], "text": [text2]}), facts2)
    # Rust's second mention ("Rust is a plus") lies outside the choice, so it is asked for on its own
    assert out2["alternative_group"].isna().all()


IDF = pd.Series({"python": 1.0, "java": 2.0, "sql": 1.0, "spark": 1.0, "kafka": 1.0})
ASKED = {"P": {"python", "java", "sql", "spark", "kafka"}}
CHOICE = {"P": [frozenset({"python", "java"})]}


def _coverage(settings: Settings, held: dict[str, set[str]], credits=None,  # noqa: ANN001, ANN202
              preferred=None):  # noqa: ANN001
    c_ids = list(held)
    emb = np.ones((1, 4), np.float32) / 2
    out = top_k_matches(held, ASKED, IDF, np.repeat(emb, len(c_ids), 0), emb, c_ids, ["P"], settings,
                        preferred=preferred, credits=credits, alternatives=CHOICE)
    return {r.candidate_id: r.skill_coverage for r in out.itertuples()}


def test_a_choice_is_one_requirement_met_by_any_member(cpu_settings: Settings) -> None:
    cov = _coverage(cpu_settings, {"python": {"python"}, "java": {"java"}, "both": {"python", "java"},
                               "neither": {"sql"}, "all": {"python", "sql", "spark", "kafka"}})
    total = 2.0 + 3 * 1.0  # the group weighs its heaviest member (java, 2), then sql, spark, kafka
    assert cov["python"] == pytest.approx(2.0 / total, abs=1e-5)  # python meets the choice as well as java
    assert cov["java"] == pytest.approx(2.0 / total, abs=1e-5)
    assert cov["both"] == pytest.approx(2.0 / total, abs=1e-5)  # holding both counts once
    assert cov["neither"] == pytest.approx(1.0 / total, abs=1e-5)
    assert cov["all"] == pytest.approx(1.0, abs=1e-5)  # every requirement met without java
    # the learning paths' denominator is the engine's
    ps = pd.DataFrame({"doc_id": "P", "skill_id": sorted(ASKED["P"]), "requirement": "required",
                       "alternative_group": pd.array([1 if s in CHOICE["P"][0] else None for s in sorted(ASKED["P"])],
                                                     dtype="Int64")})
    assert alternative_sets(ps) == CHOICE
    idf10, denom = coverage_weights(ps, 10)
    _, _, engine_denom = skill_matrices({}, ASKED, idf10, [], ["P"], alternatives=CHOICE)
    assert float(denom["P"]) == pytest.approx(float(engine_denom[0]), rel=1e-5)


def test_a_choice_takes_the_best_credit_of_its_members_and_is_preferred_with_them(
        cpu_settings: Settings) -> None:
    credits = {"weak": {"java": 0.8}, "related": {"python": 0.6}}  # a weakly shown held skill; a soft credit
    cov = _coverage(cpu_settings, {"weak": {"java"}, "related": {"sql"}}, credits=credits)
    total = 5.0
    assert cov["weak"] == pytest.approx(0.8 * 2.0 / total, abs=1e-5)
    assert cov["related"] == pytest.approx((0.6 * 2.0 + 1.0) / total, abs=1e-5)
    cov = _coverage(cpu_settings, {"python": {"python"}}, preferred={"P": {"python", "java"}})
    assert cov["python"] == pytest.approx(PREFERRED_WEIGHT * 2.0 / (PREFERRED_WEIGHT * 2.0 + 3), abs=1e-5)


def test_fact_match_lists_no_other_member_of_a_met_choice_as_missing() -> None:
    pairs = pd.DataFrame({"candidate_id": ["J", "N"], "posting_id": ["P", "P"], "score": 0.0, "skill_coverage": 0.0,
                          "semantic_similarity": 0.0, "rank_for_candidate": 1, "rank_for_posting": 1})
    fm = with_skill_lists(pairs, {"J": {"java", "sql"}, "N": {"sql"}}, ASKED, IDF, {}, {}, {}, CHOICE)
    j, n = fm.set_index("candidate_id").loc["J"], fm.set_index("candidate_id").loc["N"]
    assert j["matched_skill_ids"] == ["java", "sql"] and "python" not in j["missing_skill_ids"]
    assert j["required_coverage"] == pytest.approx(2 / 4)  # the choice, sql, spark, kafka: two met
    assert set(n["missing_skill_ids"]) == {"python", "java", "spark", "kafka"}  # a choice no one met: all listed
    assert n["missing_choices"] == [["java", "python"]] and j["missing_choices"] == []  # any one of them would do
    assert n["required_coverage"] == pytest.approx(1 / 4)


def test_a_choice_is_one_learning_step_on_the_member_the_candidate_is_closest_to() -> None:
    ps = pd.DataFrame({"doc_id": ["P"] * 3 + ["Q"] * 2 + ["R"],
                       "skill_id": ["python", "java", "sql", "python", "sql", "java"],
                       "requirement": "required",
                       "alternative_group": pd.array([1, 1, None, None, None, None], dtype="Int64")})
    fm = pd.DataFrame({"candidate_id": ["C"], "posting_id": ["P"], "rank_for_candidate": [1], "score": [0.1],
                       "missing_skill_ids": [["java", "python"]]})
    labels = {"python": "Python", "java": "Java"}
    steps = rank_learning_steps(fm, ps, labels, targets=1, max_steps=5, coverage_weight=0.35, n_postings=10)
    # one step for the choice: python and java are asked for by two postings each, so the label order picks java
    assert len(steps) == 1 and steps["skill_id"].iloc[0] == "java"
    idf, denom = coverage_weights(ps, 10)
    assert steps["expected_gain"].iloc[0] == pytest.approx(
        0.35 * max(idf["python"], idf["java"]) / denom["P"], abs=1e-6)
    assert "Python would do as well where a posting names them as a choice" in steps["reason"].iloc[0]
    # a candidate close to python (a soft credit) is pointed at it instead, for the rest of the group's weight
    steps = rank_learning_steps(fm, ps, labels, targets=1, max_steps=5, coverage_weight=0.35, n_postings=10,
                                credits={"C": {"python": 0.6}})
    assert steps["skill_id"].tolist() == ["python"]
    assert steps["expected_gain"].iloc[0] == pytest.approx(
        0.35 * max(idf["python"], idf["java"]) * 0.4 / denom["P"], abs=1e-6)


def _set_posting(root, text: str, spans: dict[str, tuple[int, int]]) -> None:  # noqa: ANN001 - Path
    """Give the lake's first posting ``text`` and exactly the skill facts ``spans`` (skill -> char range)."""
    from skillmatch.lake import read_parquet, write_parquet_atomic

    silver = read_parquet(root / "silver" / "postings.parquet")
    silver.loc[silver["posting_id"] == "post_000", "text"] = text
    write_parquet_atomic(silver, root / "silver" / "postings.parquet")
    facts = read_parquet(root / "gold" / "fact_posting_skill.parquet")
    facts = pd.concat([facts[facts["doc_id"] != "post_000"],
                       pd.DataFrame({"doc_id": "post_000", "skill_id": list(spans),
                                     "char_start": [s for s, _ in spans.values()],
                                     "char_end": [e for _, e in spans.values()]})], ignore_index=True)
    write_parquet_atomic(facts, root / "gold" / "fact_posting_skill.parquet")


def test_a_posting_whose_choice_changes_is_rescored_and_equals_a_full_recompute(tmp_path, monkeypatch) -> None:
    import shutil

    from skillmatch.lake import read_parquet
    from skillmatch.matching.engine import compute_matches
    from tests.unit.matching.test_match_shards import _same, _settings, _write_lake

    monkeypatch.setenv("SKILLMATCH_TOP_K", "4")
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    a, b = tmp_path / "incremental", tmp_path / "full"
    _write_lake(a)
    text = "We use skill 0 or skill 1 daily, and skill 2."
    _set_posting(a, text, {f"skill:{i}": (text.index(f"skill {i}"), text.index(f"skill {i}") + 7) for i in range(3)})
    assert compute_matches(_settings(a, monkeypatch))["mode"] == "full"
    req = read_parquet(a / "gold" / "posting_skill_requirement.parquet").query("doc_id == 'post_000'")
    groups = req.set_index("skill_id")["alternative_group"]
    assert groups["skill:0"] == groups["skill:1"] == 1 and pd.isna(groups["skill:2"])
    # the same skills, now all asked for: only the choice changes, and the night rescores that one posting
    text = "We use skill 0 and skill 1 daily, and skill 2."
    _set_posting(a, text, {f"skill:{i}": (text.index(f"skill {i}"), text.index(f"skill {i}") + 7) for i in range(3)})
    shutil.copytree(a, b)
    inc = compute_matches(_settings(a, monkeypatch))
    assert inc["mode"] == "incremental" and inc["changed_postings"] == 1 and inc["changed_candidates"] == 0
    assert read_parquet(a / "gold" / "posting_skill_requirement.parquet").query(
        "doc_id == 'post_000'")["alternative_group"].isna().all()
    monkeypatch.setenv("SKILLMATCH_MATCH_FULL", "1")
    assert compute_matches(_settings(b, monkeypatch))["mode"] == "full"
    _same(a, b)


def test_choices_that_share_a_member_are_met_by_one_step() -> None:
    # P asks for java or python, Q for python or go; the market asks for java and go more (S1, S2) than python
    ps = pd.DataFrame({"doc_id": ["P", "P", "Q", "Q", "S1", "S1", "S2", "S2"],
                       "skill_id": ["java", "python", "python", "go", "java", "go", "java", "go"],
                       "requirement": "required",
                       "alternative_group": pd.array([1, 1, 1, 1, None, None, None, None], dtype="Int64")})
    fm = pd.DataFrame({"candidate_id": "C", "posting_id": ["P", "Q"], "rank_for_candidate": [1, 2], "score": 0.1,
                       "missing_skill_ids": [["java", "python"], ["go", "python"]]})
    steps = rank_learning_steps(fm, ps, {}, targets=2, max_steps=5, coverage_weight=0.35, n_postings=10)
    # by demand alone P would take java and Q go: two steps; python meets both choices in one
    assert steps["skill_id"].tolist() == ["python"] and steps["targets_needing"].tolist() == [2]
    assert steps["reason"].iloc[0].endswith("; go or java would do as well where a posting names them as a choice")
