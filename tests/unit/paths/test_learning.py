"""Unit tests for skillmatch.paths.learning on hand-made frames: expected-gain ordering, expected scores,
demand and learnability weighting, prerequisites (given and mined from postings), soft skills shown rather than
learned (on a hand-made hierarchy and on the official ESCO one)."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from skillmatch.paths.learning import (ON_THE_JOB, SHOW_GROUPS, STEP_COLUMNS, broader_prerequisites,
                                       market_factor, mine_prerequisites, rank_learning_steps, show_skills)
from tests.conftest import SHARED_DATA

W = 0.65  # coverage weight (passed explicitly: the tests do not depend on the configured default)
N = 10  # market size used for IDF
LABELS = {"x": "Xray", "y": "Yak shaving", "z": "Zookeeping", "w": "Welding", "q": "Quilting"}


def idf(df: int) -> float:
    return math.log((1 + N) / (1 + df)) + 1.0


def _posting_skills() -> pd.DataFrame:
    # P1 asks for x, y, q; P2 for x, z; P3 for w. Market demand (distinct postings): x 2, y 1, z 1, q 1, w 1
    rows = [("P1", "x"), ("P1", "y"), ("P1", "q"), ("P2", "x"), ("P2", "z"), ("P2", "z"), ("P3", "w")]
    return pd.DataFrame(rows, columns=["doc_id", "skill_id"])


def _fact_match() -> pd.DataFrame:
    rows = [("C1", "P1", 1, 0.40, ["x", "y", "q"]), ("C1", "P2", 2, 0.30, ["x", "z"]),
            ("C1", "P3", 3, 0.20, ["w"]),  # beyond targets=2
            ("C1", "P9", None, 0.10, ["w"]),  # ranked only for the posting: not a target
            ("C2", "P3", 1, 0.90, [])]  # nothing to learn
    fm = pd.DataFrame(rows, columns=["candidate_id", "posting_id", "rank_for_candidate", "score", "missing_skill_ids"])
    fm["rank_for_candidate"] = fm["rank_for_candidate"].astype("Int64")
    return fm


def _steps(**kw: object) -> pd.DataFrame:
    args = dict(targets=2, max_steps=10, coverage_weight=W, n_postings=N)
    args.update(kw)
    return rank_learning_steps(_fact_match(), _posting_skills(), LABELS, **args)


def _denominators() -> dict[str, float]:
    floor = 3 * sum(idf(d) for d in [2, 1, 1, 1, 1]) / 5  # three average skills' worth of IDF
    return {"P1": max(idf(2) + 2 * idf(1), floor), "P2": max(idf(2) + idf(1), floor)}


def test_columns_and_candidates_without_gaps() -> None:
    steps = _steps()
    assert list(steps.columns) == STEP_COLUMNS
    assert set(steps["candidate_id"]) == {"C1"}


def test_gain_is_the_mean_score_increase_over_targets_and_x_comes_first() -> None:
    c1 = _steps().reset_index(drop=True)
    den = _denominators()
    gain_x = W * (idf(2) / den["P1"] + idf(2) / den["P2"]) / 2
    assert c1["skill_id"].iat[0] == "x"
    assert c1["expected_gain"].iat[0] == pytest.approx(gain_x, abs=1e-6)
    assert c1["expected_score_after"].iat[0] == pytest.approx((0.40 + 0.30) / 2 + gain_x, abs=1e-6)
    assert c1["targets_needing"].iat[0] == 2 and list(c1["target_posting_ids"].iat[0]) == ["P1", "P2"]
    assert "w" not in set(c1["skill_id"])  # only asked for by a posting beyond the top 2
    # learning every step closes both targets' coverage: the last expected score is the old mean plus all gains
    assert c1["expected_score_after"].iat[-1] == pytest.approx(0.35 + c1["expected_gain"].sum(), abs=1e-5)


def test_scores_never_fall_and_priorities_never_rise() -> None:
    c1 = _steps()
    assert c1["step"].tolist() == list(range(1, len(c1) + 1))
    assert c1["expected_score_after"].is_monotonic_increasing
    assert c1["priority"].is_monotonic_decreasing
    assert (c1["expected_gain"] > 0).all()


def test_priority_weighs_gain_by_market_demand() -> None:
    # more postings asking for q: its IDF (hence its coverage gain) drops, its demand index rises
    ps = pd.concat([_posting_skills(), pd.DataFrame({"doc_id": ["P7", "P8"], "skill_id": ["q", "q"]})])
    steps = rank_learning_steps(_fact_match(), ps, LABELS, targets=2, max_steps=10, coverage_weight=W,
                                n_postings=N).set_index("skill_id")
    assert steps.loc["q", "demand_postings"] == 3 and steps.loc["q", "demand_index"] == 1.0
    assert steps.loc["y", "demand_index"] == pytest.approx(1 / 3, abs=1e-6)
    for s in ["x", "q", "z"]:
        d = steps.loc[s, "demand_postings"]
        assert steps.loc[s, "priority"] == pytest.approx(
            steps.loc[s, "expected_gain"] * math.log(1 + d) / math.log(1 + 3), rel=1e-4)
    # y, P1's last missing skill, would push it past a perfect score: the expected gain counts only what is left
    # below 1.0, and the priority (what y's full gain is worth) is more than that gain times its market factor
    assert steps.loc["y", "expected_score_after"] < 1.0
    assert steps.loc["y", "expected_gain"] * math.log(2) / math.log(4) < steps.loc["y", "priority"]
    # q is asked for by three postings, y by one: q's demand outweighs y's larger gain (its rarer skill's IDF)
    assert steps.loc["y", "expected_gain"] > steps.loc["q", "expected_gain"]
    assert steps.loc["q", "step"] < steps.loc["y", "step"]


def test_market_factor_is_log_demand_relative_to_the_most_asked_for_skill() -> None:
    assert market_factor(1648, 1648) == 1.0
    assert market_factor(1, 1648) == pytest.approx(math.log(2) / math.log(1649))
    assert market_factor(0, 10) == 0.0 and market_factor(5, 0) == pytest.approx(math.log(6) / math.log(2))
    assert [market_factor(d, 1000) for d in (1, 10, 100, 1000)] == sorted(market_factor(d, 1000) for d in (1, 10, 100, 1000))


def test_a_skill_one_posting_asks_for_does_not_outrank_one_the_market_asks_for() -> None:
    # the candidate's one target asks for "rare" (no other posting does) and "common" (30 of 50 postings do): the
    # rare skill's IDF buys 2.8x the match gain, yet the market asks for "common" and so the path starts with it
    rows = [("T", "rare"), ("T", "common")] + [(f"P{i}", "common") for i in range(29)]
    rows += [(f"P{i}", f"other{i % 7}") for i in range(29)]
    ps = pd.DataFrame(rows, columns=["doc_id", "skill_id"])
    fm = pd.DataFrame({"candidate_id": ["C"], "posting_id": ["T"], "rank_for_candidate": [1], "score": [0.3],
                       "missing_skill_ids": [["rare", "common"]]})
    labels = {"rare": "host wine-tasting events", "common": "communication"}
    steps = rank_learning_steps(fm, ps, labels, targets=1, max_steps=5, coverage_weight=W, n_postings=50)
    gain = dict(zip(steps["skill_id"], steps["expected_gain"]))
    assert steps["skill_id"].tolist() == ["common", "rare"]
    assert gain["rare"] > 2 * gain["common"]
    assert steps["priority"].tolist()[1] == pytest.approx(gain["rare"] * market_factor(1, 30), rel=1e-4)
    # by gain alone (no market weighting) the rare skill would come first
    by_gain = rank_learning_steps(fm, ps, labels, targets=1, max_steps=5, coverage_weight=W, n_postings=50,
                                  demand_factor=lambda d, m: 1.0)
    assert by_gain["skill_id"].tolist() == ["rare", "common"]


def test_learnability_bonus_for_a_sibling_of_a_held_skill() -> None:
    base = _steps()["skill_id"].tolist()
    assert base.index("q") < base.index("y")  # equal gain and demand: label order (Quilting < Yak shaving)
    parents = {"y": {"group:animals"}, "held-skill": {"group:animals"}}
    steps = _steps(held={"C1": {"held-skill"}}, parents=parents)["skill_id"].tolist()
    assert steps.index("y") < steps.index("q")  # y is close to what C1 already knows


def test_prerequisite_comes_first_and_inherits_priority() -> None:
    # learning x requires q first (e.g. a broader skill or a mined pair)
    c1 = _steps(prerequisites={"x": {"q"}}).reset_index(drop=True)
    assert c1["skill_id"].tolist()[:2] == ["q", "x"]
    assert c1["priority"].iat[0] == c1["priority"].iat[1]  # q carries the priority of the step it unlocks
    assert list(c1["prerequisite_ids"].iat[1]) == ["q"]
    assert c1["reason"].iat[1].endswith("; learn after Quilting")
    assert c1["priority"].is_monotonic_decreasing
    assert c1["expected_score_after"].is_monotonic_increasing
    # a cycle in mined pairs does not loop forever and keeps every skill once
    cyc = _steps(prerequisites={"x": {"q"}, "q": {"x"}})
    assert sorted(cyc["skill_id"]) == sorted(c1["skill_id"])


def test_max_steps_and_empty_input() -> None:
    assert _steps(max_steps=2)["step"].tolist() == [1, 2]
    empty = rank_learning_steps(_fact_match().iloc[0:0], _posting_skills(), LABELS, targets=2, max_steps=5)
    assert empty.empty and list(empty.columns) == STEP_COLUMNS


def test_reason_states_gain_and_counts() -> None:
    first = _steps().iloc[0]
    assert first["reason"] == (f"raises your average match with your top 2 postings by {first['expected_gain']:.3f} "
                               f"(to {first['expected_score_after']:.2f}); asked for by 2 of them and by 2 postings overall")


def test_mine_prerequisites_from_postings() -> None:
    # every posting asking for "pandas" also asks for "python"; python appears in many postings without pandas
    rows = [(f"P{i}", "python") for i in range(12)] + [(f"P{i}", "pandas") for i in range(5)]
    rows += [(f"P{i}", "sql") for i in range(3, 9)]
    pre = mine_prerequisites(pd.DataFrame(rows, columns=["doc_id", "skill_id"]), min_support=5)
    assert pre.get("pandas") == {"python"}
    assert "python" not in pre  # not the reverse
    assert "sql" in pre and pre["sql"] == {"python"}  # 6 of 6 sql postings ask for python, 6 of 12 the reverse
    assert mine_prerequisites(pd.DataFrame(rows, columns=["doc_id", "skill_id"]), min_support=7) == {}


def test_broader_prerequisites_only_between_known_skills() -> None:
    hier = pd.DataFrame({"skill_id": ["b", "b", "c"], "broader_id": ["a", "group:1", "b"],
                         "broader_label": ["A", "G", "B"]})
    assert broader_prerequisites(hier, {"a", "b", "c"}) == {"b": {"a"}, "c": {"b"}}


def test_soft_skills_follow_the_skills_to_learn_as_skills_to_show() -> None:
    # x (the best step) and z are soft skills: they leave the learning steps and follow them, best first
    full = _steps().set_index("skill_id")
    steps = _steps(show={"x", "z"})
    assert steps["skill_id"].tolist() == ["q", "y", "x", "z"] and steps["step"].tolist() == [1, 2, 3, 4]
    assert steps["action"].tolist() == ["learn", "learn", "show", "show"]
    assert set(_steps()["action"]) == {"learn"}
    # the same skills in another order: the same expected score at the end (a target's score stops at 1.0, so a
    # step's gain depends on what came before it)
    assert steps["expected_score_after"].iat[-1] == pytest.approx(full["expected_score_after"].max(), abs=1e-6)
    assert steps["expected_score_after"].is_monotonic_increasing
    assert steps["reason"].iat[2].startswith("asked for by 2 of your top 2 postings and by 2 postings overall, and your "
                                             "resume does not show it: if you have it, say where you used it; that "
                                             "raises your average match")
    # at most max_show_steps of them; none at 0; learning steps are capped by max_steps alone
    assert _steps(show={"x", "z"}, max_show_steps=1)["skill_id"].tolist() == ["q", "y", "x"]
    assert _steps(show={"x", "z"}, max_show_steps=0)["skill_id"].tolist() == ["q", "y"]
    assert _steps(show={"x", "z"}, max_steps=1)["skill_id"].tolist() == ["q", "x", "z"]
    # a soft prerequisite of a skill to learn is not pulled in front of it: it is shown, after
    pre = _steps(show={"x"}, prerequisites={"q": {"x"}})
    assert pre["skill_id"].tolist()[-1] == "x" and list(pre.set_index("skill_id").loc["q", "prerequisite_ids"]) == []


def test_skills_learned_on_the_job_are_no_steps_and_leave_the_others_as_they_were() -> None:
    # x, the best step, names the employer's own rules: it is neither learned nor shown, and the other steps keep
    # their gains and priorities (coverage adds up, so leaving one skill out moves none of the others)
    full = _steps().set_index("skill_id")
    steps = _steps(on_the_job={"x"}, show={"z"})
    assert steps["skill_id"].tolist() == ["q", "y", "z"] and steps["action"].tolist() == ["learn", "learn", "show"]
    kept = steps.set_index("skill_id")
    assert kept.loc["q", "priority"] == pytest.approx(full.loc["q", "priority"])
    assert kept.loc["z", "expected_gain"] == pytest.approx(full.loc["z", "expected_gain"])
    # a candidate whose only gap is such a skill gets no path
    assert _steps(on_the_job={"x", "y", "z", "q"}).empty


@pytest.mark.skipif(not (SHARED_DATA / "taxonomy" / "esco-v1.1.1").is_dir(),
                    reason=f"the official ESCO export is not under {SHARED_DATA}")
def test_on_the_job_concepts_are_the_official_ones_named() -> None:
    from skillmatch.taxonomy.load import load_official

    dim, _ = load_official(SHARED_DATA)
    labels = dict(zip(dim["skill_id"], dim["preferred_label"]))
    assert {sid: labels.get(sid) for sid in ON_THE_JOB} == ON_THE_JOB


def test_show_skills_are_the_members_of_the_soft_skill_groups() -> None:
    t3 = next(g for g, name in SHOW_GROUPS.items() if "(T3)" in name)
    hier = pd.DataFrame({"skill_id": ["group:efficiency", "manage time", "textile teamwork", "English", "SQL",
                                      "group:languages"],
                         "broader_id": [t3, "group:efficiency", "manage time", "group:languages", "group:ict",
                                        "group:transversal"]})
    known = {"manage time", "textile teamwork", "English", "SQL"}
    # in a subgroup of T3; a narrower skill of it is an occupation's own skill; groups are not skills
    assert show_skills(hier, known) == {"manage time"}
    assert show_skills(hier, known, groups=["group:ict"]) == {"SQL"}
    # and the listed skills, with a hierarchy or without one
    assert show_skills(hier, known, skills=["textile teamwork", "unknown"]) == {"manage time", "textile teamwork"}
    assert show_skills(None, known, skills=["textile teamwork"]) == {"textile teamwork"}


@pytest.mark.skipif(not (SHARED_DATA / "taxonomy" / "esco-v1.1.1").is_dir(),
                    reason=f"the official ESCO export is not under {SHARED_DATA}")
def test_show_skills_on_the_official_esco_hierarchy() -> None:
    from skillmatch.taxonomy.load import load_official

    dim, hier = load_official(SHARED_DATA)
    shown = show_skills(hier, set(dim["skill_id"]))
    labels = set(dim.loc[dim["skill_id"].isin(shown), "preferred_label"])
    assert {"communication", "attend to detail", "manage time", "work independently", "solve problems",
            "think analytically", "lead others", "cooperate with colleagues", "meet deadlines",
            "perform multiple tasks at the same time", "have computer literacy"} <= labels
    # languages, digital and occupational skills, and narrower skills of a soft one are learned
    assert not labels & {"English", "SQL", "Python (computer programming)", "customer service", "accounting",
                         "work in textile manufacturing teams", "use spreadsheets software"}
    assert 50 <= len(shown) <= 100
