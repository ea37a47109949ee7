"""Read-only queries of the DuckDB marts behind the dashboard pages.

Every function takes an open DuckDB connection and returns plain dicts; user input only ever travels as a bound
parameter (`?`), never formatted into SQL. Table and column names are those of docs/data_dictionary.md.
"""
from __future__ import annotations

from typing import Any

PAGE_SIZE = 50


def _rows(con: Any, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run `sql` with bound `params` and return the rows as dicts keyed by column name."""
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def last_runs(con: Any) -> list[dict[str, Any]]:
    """The latest run of each DAG from `marts.pipeline_run`, with its stages (status, rows in / out)."""
    stages = _rows(
        con,
        """
        WITH last AS (
            SELECT dag_id, arg_max(run_id, started_at) AS run_id FROM marts.pipeline_run GROUP BY dag_id
        )
        SELECT p.dag_id, p.run_id, p.stage, p.status, p.rows_in, p.rows_out, p.seconds, p.started_at,
               p.ended_at, p.error
        FROM marts.pipeline_run p JOIN last USING (dag_id, run_id)
        ORDER BY p.dag_id, p.started_at, p.stage
        """,
    )
    runs: dict[tuple[str, str], dict[str, Any]] = {}
    for s in stages:
        run = runs.setdefault(
            (s["dag_id"], s["run_id"]),
            {"dag_id": s["dag_id"], "run_id": s["run_id"], "started_at": s["started_at"], "stages": []},
        )
        run["stages"].append(s)
    for run in runs.values():
        # A run is only as good as its worst stage.
        run["status"] = "failed" if any(s["status"] != "success" for s in run["stages"]) else "success"
        run["ended_at"] = max((s["ended_at"] for s in run["stages"] if s["ended_at"] is not None), default=None)
    return sorted(runs.values(), key=lambda r: r["dag_id"])


def dq_pass_rate(con: Any) -> list[dict[str, Any]]:
    """Checks passed / run per entity in its latest validation run (`marts.dq_check_result`)."""
    return _rows(
        con,
        """
        WITH last AS (
            SELECT entity, arg_max(run_id, checked_at) AS run_id FROM marts.dq_check_result GROUP BY entity
        )
        SELECT d.entity, d.run_id, count(*) AS checks, count(*) FILTER (WHERE d.success) AS passed,
               count(*) FILTER (WHERE d.success) / count(*) AS pass_rate, max(d.checked_at) AS checked_at
        FROM marts.dq_check_result d JOIN last USING (entity, run_id)
        GROUP BY d.entity, d.run_id ORDER BY d.entity
        """,
    )


def latest_dq_results(con: Any) -> list[dict[str, Any]]:
    """Every check of the latest validation run per entity, failures first."""
    return _rows(
        con,
        """
        WITH last AS (
            SELECT entity, arg_max(run_id, checked_at) AS run_id FROM marts.dq_check_result GROUP BY entity
        )
        SELECT d.entity, d.run_id, d.check_name, d.column_name, d.success, d.element_count,
               d.unexpected_count, d.unexpected_percent
        FROM marts.dq_check_result d JOIN last USING (entity, run_id)
        ORDER BY d.success, d.entity, d.check_name, d.column_name
        """,
    )


def reconciliations(con: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent count reconciliations (`marts.dq_reconciliation`), newest first."""
    return _rows(
        con,
        """
        SELECT run_id, stage, entity, source, fetched, bronze_new, already_seen, rejected, bronze, silver,
               quarantine, duplicates, holds, checked_at
        FROM marts.dq_reconciliation ORDER BY checked_at DESC, stage, entity, source LIMIT ?
        """,
        [limit],
    )


def quarantine_by_reason(con: Any, limit: int = 50) -> list[dict[str, Any]]:
    """Quarantined records counted by entity and reason, most frequent first."""
    return _rows(
        con,
        """
        SELECT entity, reason, count(*) AS records, max(ingested_at) AS last_seen
        FROM marts.quarantine_record GROUP BY entity, reason ORDER BY records DESC, entity, reason LIMIT ?
        """,
        [limit],
    )


def skill_demand_page(con: Any, q: str, page: int) -> tuple[list[dict[str, Any]], int]:
    """One page (PAGE_SIZE rows) of skills by demand rank, filtered on the label; returns (rows, total rows)."""
    where, params = "", []
    if q:
        where, params = "WHERE contains(lower(preferred_label), lower(?))", [q]
    total = con.execute(f"SELECT count(*) FROM marts.mart_skill_demand {where}", params).fetchone()[0]
    rows = _rows(
        con,
        f"""
        SELECT demand_rank, skill_id, preferred_label, postings, posting_share, candidates_holding,
               candidate_share, demand_supply_gap
        FROM marts.mart_skill_demand {where} ORDER BY demand_rank, preferred_label LIMIT ? OFFSET ?
        """,
        [*params, PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE],
    )
    return rows, int(total)


def emerging_skills(con: Any, limit: int = 15, min_postings: int = 5) -> list[dict[str, Any]]:
    """Fastest-growing skills over the last 4 weeks (`marts.mart_skill_trend`), emerging ones first."""
    return _rows(
        con,
        """
        SELECT preferred_label, as_of_week, postings_last_4w, postings_prev_4w, growth_4w, is_new, is_emerging
        FROM marts.mart_skill_trend WHERE postings_last_4w >= ?
        ORDER BY is_emerging DESC, growth_4w DESC NULLS LAST, postings_last_4w DESC LIMIT ?
        """,
        [min_postings, limit],
    )


def supply_gap(con: Any, limit: int = 15) -> list[dict[str, Any]]:
    """Skills most scarcer among candidates than postings ask for (largest positive demand_supply_gap)."""
    return _rows(
        con,
        """
        SELECT preferred_label, postings, posting_share, candidates_holding, candidate_share, demand_supply_gap
        FROM marts.mart_skill_demand WHERE demand_supply_gap > 0
        ORDER BY demand_supply_gap DESC, demand_rank LIMIT ?
        """,
        [limit],
    )


def trend_skill(con: Any, q: str) -> dict[str, Any] | None:
    """The skill whose weekly trend is charted: the best-ranked one matching `q`, else the most demanded."""
    if q:
        rows = _rows(
            con,
            """
            SELECT skill_id, preferred_label FROM marts.mart_skill_demand
            WHERE contains(lower(preferred_label), lower(?))
            ORDER BY lower(preferred_label) = lower(?) DESC, demand_rank LIMIT 1
            """,
            [q, q],
        )
    else:
        rows = _rows(con, "SELECT skill_id, preferred_label FROM marts.mart_skill_demand ORDER BY demand_rank LIMIT 1")
    return rows[0] if rows else None


def weekly_demand(con: Any, skill_id: str) -> list[dict[str, Any]]:
    """Postings per week asking for one skill, all sources together (`marts.mart_skill_demand_weekly`)."""
    return _rows(
        con,
        """
        SELECT week_start, sum(postings) AS postings FROM marts.mart_skill_demand_weekly
        WHERE skill_id = ? GROUP BY week_start ORDER BY week_start
        """,
        [skill_id],
    )


def find_postings(con: Any, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Postings whose id equals `text` or whose title contains it (case-insensitive): exact id, then with matches."""
    return _rows(
        con,
        """
        SELECT p.posting_id, p.title, p.company, p.location, p.source FROM marts.dim_job_posting p
        WHERE p.posting_id = ? OR contains(lower(p.title), lower(?))
        ORDER BY p.posting_id = ? DESC,
                 EXISTS (SELECT 1 FROM marts.fact_match m WHERE m.posting_id = p.posting_id
                         AND m.rank_for_posting IS NOT NULL) DESC,
                 p.title, p.posting_id
        LIMIT ?
        """,
        [text, text, text, limit],
    )


def find_candidates(con: Any, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Candidates whose pseudonymous id equals or starts with `text` (ids only: no personal data is shown)."""
    return _rows(
        con,
        """
        SELECT candidate_id, category, years_experience, n_skills FROM marts.dim_candidate
        WHERE starts_with(candidate_id, ?) ORDER BY candidate_id = ? DESC, candidate_id LIMIT ?
        """,
        [text, text, limit],
    )


# labels of the missing skills a related held skill partly covers (`partial_skill_ids`), in the match row's order
PARTIAL = ("(SELECT list(s.preferred_label ORDER BY list_position(m.partial_skill_ids, s.skill_id)) "
           "FROM marts.dim_skill s WHERE list_contains(m.partial_skill_ids, s.skill_id))")


def matches_for_posting(con: Any, posting_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The posting's top candidates (`marts.fact_match`), with score components and matched / missing skills (and
    the choices of which any one would do)."""
    return _rows(
        con,
        f"""
        SELECT candidate_id, score, skill_coverage, required_coverage, semantic_similarity, title_similarity,
               seniority_fit, location_fit, rank_for_posting AS rank, matched_skills, missing_skills,
               missing_choices, {PARTIAL} AS partial_skills
        FROM marts.fact_match m WHERE posting_id = ? AND rank_for_posting IS NOT NULL
        ORDER BY rank_for_posting LIMIT ?
        """,
        [posting_id, limit],
    )


def matches_for_candidate(con: Any, candidate_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The candidate's top postings (`marts.fact_match`), with titles, score components and skills."""
    return _rows(
        con,
        f"""
        SELECT m.posting_id, p.title, p.company, m.score, m.skill_coverage, m.required_coverage,
               m.semantic_similarity, m.title_similarity, m.seniority_fit, m.location_fit,
               m.rank_for_candidate AS rank, m.matched_skills, m.missing_skills, m.missing_choices,
               {PARTIAL} AS partial_skills
        FROM marts.fact_match m LEFT JOIN marts.dim_job_posting p USING (posting_id)
        WHERE m.candidate_id = ? AND m.rank_for_candidate IS NOT NULL
        ORDER BY m.rank_for_candidate LIMIT ?
        """,
        [candidate_id, limit],
    )


def learning_path(con: Any, candidate_id: str) -> list[dict[str, Any]]:
    """The candidate's learning path (`marts.fact_learning_step`): what to learn, in order, and what it buys; then
    the soft skills to show on the resume (``action = 'show'``)."""
    return _rows(
        con,
        """
        SELECT step, skill_label, action, expected_gain, expected_score_after, demand_postings, reason
        FROM marts.fact_learning_step WHERE candidate_id = ? ORDER BY step
        """,
        [candidate_id],
    )


def example_ids(con: Any, limit: int = 5) -> dict[str, list[dict[str, Any]]]:
    """A few candidates with a learning path and postings with matches, to start exploring from."""
    return {
        "candidates": _rows(
            con,
            "SELECT DISTINCT candidate_id FROM marts.fact_learning_step ORDER BY candidate_id LIMIT ?",
            [limit],
        ),
        "postings": _rows(
            con,
            """
            SELECT p.posting_id, p.title, p.company FROM marts.dim_job_posting p
            WHERE EXISTS (SELECT 1 FROM marts.fact_match m WHERE m.posting_id = p.posting_id
                          AND m.rank_for_posting IS NOT NULL)
            ORDER BY p.posting_id LIMIT ?
            """,
            [limit],
        ),
    }
