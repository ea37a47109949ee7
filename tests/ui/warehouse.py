"""A small hand-built warehouse with the marts' column names (docs/data_dictionary.md) for the dashboard tests.

A real one needs a full pipeline run (minutes), so the tables the pages read are created here with a few rows.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

XSS_LABEL = "<script>alert('x')</script>"
CANDIDATE = "cand_0123456789abcdef0123"
OTHER_CANDIDATE = "cand_fedcba9876543210fedc"
POSTING = "hn:4242"
RUN_INGEST = "scheduled__2026-05-01T02:00:00+00:00"
RUN_OLD = "scheduled__2026-04-30T02:00:00+00:00"
N_SKILLS = 60  # more than one 50-row page

DDL = """
CREATE SCHEMA marts;
CREATE TABLE marts.pipeline_run (run_id VARCHAR, dag_id VARCHAR, stage VARCHAR, started_at TIMESTAMP,
  ended_at TIMESTAMP, seconds DOUBLE, status VARCHAR, error VARCHAR, rows_in BIGINT, rows_out BIGINT, counts VARCHAR,
  tagger_version VARCHAR, taxonomy_version VARCHAR, host VARCHAR);
CREATE TABLE marts.dq_check_result (run_id VARCHAR, entity VARCHAR, check_name VARCHAR, column_name VARCHAR,
  success BOOLEAN, element_count BIGINT, unexpected_count BIGINT, unexpected_percent DOUBLE, details VARCHAR,
  checked_at TIMESTAMP);
CREATE TABLE marts.dq_reconciliation (run_id VARCHAR, stage VARCHAR, entity VARCHAR, source VARCHAR, fetched BIGINT,
  bronze_new BIGINT, already_seen BIGINT, rejected BIGINT, bronze BIGINT, silver BIGINT, quarantine BIGINT,
  duplicates BIGINT, holds BOOLEAN, details VARCHAR, checked_at TIMESTAMP);
CREATE TABLE marts.quarantine_record (entity VARCHAR, record_id VARCHAR, source VARCHAR, reason VARCHAR,
  run_id VARCHAR, ingested_at TIMESTAMP);
CREATE TABLE marts.mart_skill_demand (demand_rank BIGINT, skill_id VARCHAR, postings BIGINT,
  candidates_holding BIGINT, posting_share DOUBLE, candidate_share DOUBLE, demand_supply_gap DOUBLE,
  preferred_label VARCHAR, taxonomy_source VARCHAR);
CREATE TABLE marts.mart_skill_demand_weekly (week_start DATE, source VARCHAR, skill_id VARCHAR, postings BIGINT,
  postings_in_week BIGINT, share DOUBLE, preferred_label VARCHAR);
CREATE TABLE marts.mart_skill_trend (skill_id VARCHAR, as_of_week DATE, postings_last_4w BIGINT,
  postings_prev_4w BIGINT, share_last_4w DOUBLE, share_prev_4w DOUBLE, growth_4w DOUBLE, postings_last_12w BIGINT,
  postings_prev_12w BIGINT, share_last_12w DOUBLE, share_prev_12w DOUBLE, growth_12w DOUBLE, is_new BOOLEAN,
  is_emerging BOOLEAN, preferred_label VARCHAR);
CREATE TABLE marts.dim_job_posting (posting_id VARCHAR, source VARCHAR, native_id VARCHAR, title VARCHAR,
  company VARCHAR, location VARCHAR, remote BOOLEAN, posted_at TIMESTAMP, url VARCHAR, n_skills BIGINT,
  is_synthetic BOOLEAN);
CREATE TABLE marts.dim_candidate (candidate_id VARCHAR, source VARCHAR, category VARCHAR, pages BIGINT,
  ingested_at TIMESTAMP, years_experience DOUBLE, n_skills BIGINT, is_synthetic BOOLEAN);
CREATE TABLE marts.dim_skill (skill_id VARCHAR, preferred_label VARCHAR);
CREATE TABLE marts.fact_match (candidate_id VARCHAR, posting_id VARCHAR, score DOUBLE, skill_coverage DOUBLE,
  semantic_similarity DOUBLE, title_similarity DOUBLE, seniority_fit DOUBLE, location_fit DOUBLE,
  required_coverage DOUBLE, rank_for_candidate BIGINT, rank_for_posting BIGINT,
  matched_skill_ids VARCHAR[], missing_skill_ids VARCHAR[], partial_skill_ids VARCHAR[], matched_skills VARCHAR[],
  missing_skills VARCHAR[], missing_choices VARCHAR[][]);
CREATE TABLE marts.fact_learning_step (candidate_id VARCHAR, step BIGINT, skill_id VARCHAR, skill_label VARCHAR,
  action VARCHAR, expected_gain DOUBLE, expected_score_after DOUBLE, priority DOUBLE, demand_postings BIGINT, demand_index DOUBLE,
  prerequisite_ids VARCHAR[], targets_needing BIGINT, targets_considered BIGINT, target_posting_ids VARCHAR[],
  reason VARCHAR);
"""


def skill_label(rank: int) -> str:
    """The label of the skill at demand `rank` in the test warehouse."""
    fixed = {1: "Python (computer programming)", 2: "SQL", 3: "Kubernetes", 4: XSS_LABEL}
    return fixed.get(rank, f"Skill number {rank:02d}")


def build_warehouse(data_dir: Path) -> Path:
    """Write `<data_dir>/warehouse.duckdb` (plus a Data Docs index) and return the warehouse path."""
    import duckdb

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "warehouse.duckdb"
    t0 = datetime(2026, 5, 1, 2, 0)
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL)
        runs = [
            (RUN_OLD, "skillmatch_ingest", "ingest_postings", t0 - timedelta(days=1), 1.0, "success", None, 10, 10),
            (RUN_INGEST, "skillmatch_ingest", "ingest_postings", t0, 12.5, "success", None, 1200, 1180),
            (RUN_INGEST, "skillmatch_ingest", "ingest_resumes", t0 + timedelta(seconds=20), 30.0, "success", None,
             300, 290),
            ("manual__2026-05-01T03:00:00+00:00", "skillmatch_match", "match", t0 + timedelta(hours=1), 80.0,
             "failed", "RuntimeError: out of memory", 290, 0),
        ]
        con.executemany(
            "INSERT INTO marts.pipeline_run (run_id, dag_id, stage, started_at, ended_at, seconds, status, error, "
            "rows_in, rows_out) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r, d, s, st, st + timedelta(seconds=sec), sec, stat, err, i, o)
             for r, d, s, st, sec, stat, err, i, o in runs],
        )
        checks = [  # latest postings run: 3 of 4 pass; an older run that failed everything must not count
            (RUN_INGEST, "postings", "expect_column_values_to_not_be_null", "title", True, 1180, 0, 0.0),
            (RUN_INGEST, "postings", "expect_column_values_to_be_unique", "posting_id", True, 1180, 0, 0.0),
            (RUN_INGEST, "postings", "expect_column_value_lengths_to_be_between", "description", False, 1180, 12, 1.02),
            (RUN_INGEST, "postings", "reconcile_counts(hn)", None, True, 1180, 0, 0.0),
            (RUN_OLD, "postings", "expect_column_values_to_not_be_null", "title", False, 10, 10, 100.0),
            (RUN_INGEST, "resumes", "expect_column_values_to_not_be_null", "candidate_id", True, 290, 0, 0.0),
        ]
        con.executemany(
            "INSERT INTO marts.dq_check_result VALUES (?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)",
            [(*c, t0 if c[0] == RUN_INGEST else t0 - timedelta(days=1)) for c in checks],
        )
        con.execute(
            "INSERT INTO marts.dq_reconciliation VALUES "
            "(?, 'validate', 'postings', 'hn', NULL, NULL, NULL, NULL, 1200, 1180, 12, 8, true, '', ?),"
            "(?, 'ingest', 'postings', 'landing', 50, 45, 4, 1, NULL, NULL, NULL, NULL, false, '', ?)",
            [RUN_INGEST, t0, RUN_INGEST, t0],
        )
        con.executemany(
            "INSERT INTO marts.quarantine_record VALUES (?, ?, 'hn', ?, ?, ?)",
            [("postings", f"hn:{i}", "expect_column_value_lengths_to_be_between(description)", RUN_INGEST, t0)
             for i in range(7)]
            + [("postings_file", "landing/bad.csv", "unparseable CSV: line 3", RUN_INGEST, t0)],
        )
        demand = []
        for rank in range(1, N_SKILLS + 1):
            postings = 400 - rank * 5
            holding = 20 if rank == 3 else 100 - rank
            demand.append((rank, f"skill:{rank}", postings, holding, postings / 1000, holding / 300,
                           postings / 1000 - holding / 300, skill_label(rank), "esco"))
        con.executemany("INSERT INTO marts.mart_skill_demand VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", demand)
        con.executemany("INSERT INTO marts.dim_skill VALUES (?, ?)", [(d[1], d[7]) for d in demand])
        monday = date(2026, 3, 23)
        weekly = [(monday + timedelta(weeks=w), "hn", "skill:1", n, 100, n / 100, skill_label(1))
                  for w, n in enumerate([10, 12, 15, 14, 20, 26])]
        weekly += [(monday, "landing", "skill:1", 4, 40, 0.1, skill_label(1))]
        con.executemany("INSERT INTO marts.mart_skill_demand_weekly VALUES (?, ?, ?, ?, ?, ?, ?)", weekly)
        con.executemany(
            "INSERT INTO marts.mart_skill_trend (skill_id, as_of_week, postings_last_4w, postings_prev_4w, "
            "growth_4w, is_new, is_emerging, preferred_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [("skill:3", monday, 40, 10, 2.5, False, True, "Kubernetes"),
             ("skill:9", monday, 8, 0, None, True, True, "Skill number 09"),
             ("skill:2", monday, 30, 29, 0.03, False, False, "SQL"),
             ("skill:10", monday, 2, 0, None, False, False, "Skill number 10")],
        )
        con.executemany(
            "INSERT INTO marts.dim_job_posting (posting_id, source, native_id, title, company, n_skills) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(POSTING, "hn", "4242", "Senior Data Engineer", "Acme Analytics", 5),
             ("landing:7", "landing", "7", "Data Engineer II", "Globex", 4),
             ("landing:8", "landing", "8", "Frontend Developer", "Initech", 3)],
        )
        con.executemany(
            "INSERT INTO marts.dim_candidate (candidate_id, source, category, n_skills) VALUES (?, ?, ?, ?)",
            [(CANDIDATE, "resumes", "INFORMATION-TECHNOLOGY", 12), (OTHER_CANDIDATE, "resumes", "ENGINEERING", 7)],
        )
        con.executemany(
            "INSERT INTO marts.fact_match (candidate_id, posting_id, score, skill_coverage, semantic_similarity, "
            "title_similarity, seniority_fit, location_fit, required_coverage, rank_for_candidate, rank_for_posting, "
            "matched_skills, missing_skills, partial_skill_ids, missing_choices) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(CANDIDATE, POSTING, 0.812, 0.7, 0.873, 0.91, 1.0, 0.5, 0.75, 1, 1,
              ["Python (computer programming)", "SQL"], ["Kubernetes"], ["skill:3"], []),
             (OTHER_CANDIDATE, POSTING, 0.455, 0.3, 0.538, 0.2, 0.4, 0.5, 0.25, 2, 2, ["SQL"],
              ["Kubernetes", "Apache Spark"], [], [["Apache Spark", "Kubernetes"]]),
             (CANDIDATE, "landing:7", 0.61, 0.5, 0.67, 0.8, 1.0, 1.0, None, 2, None, ["SQL"], ["dbt"], [], [])],
        )
        con.executemany(
            "INSERT INTO marts.fact_learning_step (candidate_id, step, skill_id, skill_label, action, expected_gain, "
            "expected_score_after, demand_postings, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(CANDIDATE, 1, "skill:3", "Kubernetes", "learn", 0.041, 0.702, 385, "asked for by 2 of your 5 top targets"),
             (CANDIDATE, 2, "skill:40", "Apache Spark", "learn", 0.022, 0.724, 200, "prerequisite of dbt"),
             (CANDIDATE, 3, "skill:41", "dbt", "learn", 0.015, 0.739, 150, "asked for by 1 of your 5 top targets"),
             (CANDIDATE, 4, "skill:42", "communication", "show", 0.018, 0.757, 900,
              "your resume does not show it: if you have it, say where you used it")],
        )
    finally:
        con.close()
    docs = data_dir / "dq" / "gx" / "data_docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "index.html").write_text("<html><body><h1>GX Data Docs test site</h1></body></html>")
    (data_dir / "secret.txt").write_text("TOP-SECRET-OUTSIDE-DOCS")
    return path
