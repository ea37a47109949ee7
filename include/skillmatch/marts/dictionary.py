"""The data dictionary of the marts: what one row means, its grain, every column, an example query.

One source for three things: ``COMMENT ON`` statements in the DuckDB warehouse (so BI tools show them),
``docs/data_dictionary.md`` (written by ``skillmatch dictionary``; a test keeps it current) and the check that every
mart column is documented.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MartDoc:
    """Documentation of one mart table."""

    row: str
    grain: str
    columns: dict[str, str]
    example: str


def _skill_fact_columns(id_col: str, owner: str, text: str) -> dict[str, str]:
    """Columns shared by the two skill facts."""
    return {id_col: owner, "skill_id": "the skill (dim_skill)", "preferred_label": "its label",
            "surface_form": f"the evidence as written in {text}", "char_start": f"offset of the evidence in {text}",
            "char_end": "end offset (exclusive)", "sentence_index": "sentence of the evidence",
            "score": "1.0 for alias hits, else the linker's cosine",
            "method": "`alias`, `tagger+linker` or `sentence-linker`",
            "mention_count": f"sentences of {text.split(' text')[0].replace('the redacted ', 'the ')} "
                             "that mention the skill",
            "mention_starts": f"offsets in {text} of every mention of the skill, ascending",
            "content_key": "hash of the text the skills were extracted from (cache key)",
            "taxonomy_version": "taxonomy release used", "model_version": "extractor and model versions used"}


MARTS: dict[str, MartDoc] = {
    "dim_skill": MartDoc(
        "One skill concept of the taxonomy: an ESCO v1.1.1 skill / knowledge concept or an O*NET 29.2 technology "
        "product.", "skill_id",
        {"skill_id": "ESCO concept URI, or `onet-tech:<slug>` for an O*NET technology product",
         "preferred_label": "preferred English label",
         "aliases": "alternative and hidden labels (ESCO) used by the alias matcher and the linker",
         "skill_type": "`skill/competence`, `knowledge` (ESCO) or `technology` (O*NET)",
         "reuse_level": "ESCO reuse level (transversal, cross-sector, sector-specific, occupation-specific)",
         "description": "ESCO description, or the O*NET commodity title",
         "taxonomy_source": "`esco` or `onet`",
         "hot_technology": "O*NET Hot Technology flag", "in_demand": "O*NET In Demand flag",
         "taxonomy_version": "taxonomy release the row comes from"},
        "SELECT preferred_label, skill_type FROM marts.dim_skill WHERE preferred_label ILIKE '%python%';"),
    "dim_skill_hierarchy": MartDoc(
        "One edge from a skill to a broader concept (ESCO skill hierarchy, O*NET commodity class).",
        "(skill_id, broader_id)",
        {"skill_id": "the narrower concept", "broader_id": "the broader concept or group",
         "broader_label": "label of the broader concept"},
        "SELECT broader_label, count(*) FROM marts.dim_skill_hierarchy GROUP BY 1 ORDER BY 2 DESC LIMIT 10;"),
    "dim_job_posting": MartDoc(
        "One distinct, valid job posting (duplicates and quarantined records removed).", "posting_id",
        {"posting_id": "stable id: source + native id", "source": "where the posting came from",
         "native_id": "the id in its source", "title": "job title", "company": "employer",
         "location": "location as stated", "remote": "remote work allowed (null when not stated)",
         "employment_type": "full-time, contract... as stated", "seniority": "seniority as stated",
         "salary_text": "salary as stated (free text)",
         "salary_min": "lowest salary stated (structured field, or parsed from the text)",
         "salary_max": "highest salary stated", "salary_currency": "ISO 4217 code of the salary (USD, EUR, GBP...)",
         "salary_period": "what the salary is per: `year`, `month`, `week`, `day` or `hour`",
         "posted_at": "when the posting was published (UTC)",
         "url": "link to the posting", "ingested_at": "when the platform first loaded it (UTC)",
         "n_skills": "distinct skills extracted from it",
         "is_synthetic": "true for the generated offline sample: not a real job"},
        "SELECT source, count(*) FROM marts.dim_job_posting GROUP BY 1;"),
    "dim_candidate": MartDoc(
        "One distinct, valid resume, known by a pseudonymous id only (no text, no file name).", "candidate_id",
        {"candidate_id": "keyed hash (HMAC) of the source file identity: `cand_` + 20 hex",
         "source": "resume source", "category": "category folder of the resume, when the source has one",
         "pages": "pages in the PDF", "ingested_at": "when the resume was first loaded (UTC)",
         "years_experience": "years of experience estimated from the dated roles (overlaps merged; \"Current\" "
                             "runs to the document's own creation date when its metadata has one, else to the "
                             "day it was validated), or a stated \"N years of experience\"; null when neither is "
                             "found",
         "sections_found": "resume sections detected: any of summary, experience, education, skills",
         "text_chars": "characters of redacted text", "n_skills": "distinct skills extracted from it",
         "is_synthetic": "true for the generated offline sample: not a real person"},
        "SELECT category, count(*) FROM marts.dim_candidate GROUP BY 1 ORDER BY 2 DESC;"),
    "fact_posting_skill": MartDoc(
        "One skill a posting asks for, with the best evidence found.", "(posting_id, skill_id)",
        {**_skill_fact_columns("posting_id", "the posting", "the posting text"),
         "requirement": "`required`, or `preferred` where the posting marks it a bonus (a \"nice to have\" / "
                        "\"preferred qualifications\" section, or \"... is a plus\" in its clause); preferred "
                        "skills weigh half in skill_coverage",
         "alternative_group": "number (from 1 within the posting) of the \"any one of\" group the skill belongs to "
                              "where the posting names skills as a choice (\"Python or Java\", \"Statistics, "
                              "Economics or a related field\"); null when it asks for the skill on its own. A group counts as one "
                              "requirement in skill_coverage and required_coverage, met by any member"},
        "SELECT method, requirement, count(*) FROM marts.fact_posting_skill GROUP BY ALL ORDER BY ALL;\n"
        "SELECT posting_id, alternative_group, list(preferred_label) FROM marts.fact_posting_skill\n"
        "WHERE alternative_group IS NOT NULL GROUP BY ALL LIMIT 10;"),
    "fact_candidate_skill": MartDoc(
        "One skill a resume shows, with the best evidence found and how firmly the resume shows it.",
        "(candidate_id, skill_id)",
        {**_skill_fact_columns("candidate_id", "the candidate", "the redacted resume text"),
         "evidence_section": "resume section of the strongest mention: `experience`, `skills`, `summary`, "
                             "`education`, `other` or `unsectioned`",
         "last_used_year": "end year of the latest dated job whose entry mentions the skill (a current job ends "
                           "at the resume's own date: the latest date its jobs state); null when no dated job "
                           "mentions it",
         "evidence_strength": "credit the skill earns in skill_coverage, in [0.6, 1]: 1 when used in a recent job "
                              "(or the resume has no experience section to judge by), 0.8 when only listed "
                              "(skills, summary, education...), down to 0.6 when last used long before the resume's "
                              "latest job (matching.evidence)"},
        "SELECT evidence_section, round(avg(evidence_strength), 2), count(*) FROM marts.fact_candidate_skill "
        "GROUP BY 1 ORDER BY 3 DESC;"),
    "fact_match": MartDoc(
        "One (candidate, posting) pair in the candidate's top-k postings or the posting's top-k candidates.",
        "(candidate_id, posting_id)",
        {"candidate_id": "the candidate", "posting_id": "the posting",
         "score": "match score in [0, 1]: the weighted sum of the five components below (weights in "
                  "config.MatchWeights, SKILLMATCH_WEIGHT_*; README: How a match is scored)",
         "skill_coverage": "weighted share of the posting's skills the candidate covers: each skill weighs its IDF "
                           "(half for a preferred one); a held skill covers it by its evidence_strength "
                           "(fact_candidate_skill: fully when used in a recent job, less when only listed or "
                           "stale), a related held skill (ESCO hierarchy or a near-identical label) partly, never "
                           "fully; skills named as a choice (fact_posting_skill.alternative_group) count once, at "
                           "their heaviest member's weight, covered by the member the candidate covers best",
         "required_coverage": "share of the posting's required skills the candidate holds, a choice counting as one "
                              "skill held when any member is (null: none required)",
         "semantic_similarity": "cosine of the two documents' embeddings, centred on the corpus mean, clipped to "
                                "[0, 1]",
         "title_similarity": "the same for the posting title and the resume headline (0: the resume has none)",
         "seniority_fit": "years of experience held vs asked (stated, else from the level or title): 1 fits, "
                          "less when short of it or far past a junior role; 1 when the posting asks nothing, 0.5 "
                          "when the candidate's years are unknown",
         "location_fit": "1 for a remote posting or the same state (or country, where the posting names no "
                         "state), 0.5 for another state of the same country or an unknown place, 0 for another "
                         "country",
         "rank_for_candidate": "rank of the posting among the candidate's matches (null: not in their top-k)",
         "rank_for_posting": "rank of the candidate among the posting's matches (null: not in its top-k)",
         "matched_skill_ids": "posting skills the candidate holds, rarest first",
         "missing_skill_ids": "posting skills the candidate lacks: required ones first, each group rarest first "
                              "(not the other members of a choice the candidate meets)",
         "partial_skill_ids": "the missing skills a related skill the candidate holds partly covers",
         "matched_skills": "labels of matched_skill_ids", "missing_skills": "labels of missing_skill_ids",
         "missing_choices": "the posting's choices (fact_posting_skill.alternative_group) the candidate meets no "
                            "member of, each as the labels of its members: any one of them would do (its members "
                            "are also in missing_skills)"},
        "SELECT c.candidate_id, m.score, m.matched_skills, m.missing_skills FROM marts.fact_match m "
        "JOIN marts.dim_candidate c USING (candidate_id) WHERE m.posting_id = '<posting_id>' "
        "AND m.rank_for_posting <= 5 ORDER BY m.rank_for_posting;"),
    "fact_assignment": MartDoc(
        "One (candidate, posting) pair of the optimal one-to-one assignment over the top-k graph (maximum total "
        "score; each candidate and posting at most once).", "candidate_id (and posting_id)",
        {"candidate_id": "the candidate", "posting_id": "the posting assigned to them",
         "score": "the pair's match score", "rank_for_candidate": "the posting's rank for the candidate",
         "rank_for_posting": "the candidate's rank for the posting"},
        "SELECT avg(score), count(*) FROM marts.fact_assignment;"),
    "fact_learning_step": MartDoc(
        "One step of a candidate's learning path: the next missing skill to learn (or soft skill to show) and what it "
        "buys.",
        "(candidate_id, step)",
        {"candidate_id": "the candidate", "step": "1 = first; every `learn` step comes before the `show` steps",
         "skill_id": "the skill to learn or to show", "skill_label": "its label",
         "action": "`learn` (a skill the resume lacks) or `show` (a soft skill of ESCO's thinking, self-management "
                   "or social and communication groups, or personal development, or one of a few cross-sector ones "
                   "such as meet deadlines or computer literacy, the resume does not name: say where it was used, "
                   "if held); the employer's own rules and goals (company policies) are learned on the job and are no "
                   "step",
         "expected_gain": "rise of the average match score over the candidate's top targets from this step",
         "expected_score_after": "average match score over the top targets once this step is learned",
         "priority": "ordering value: expected gain x market factor log(1 + demand_postings) / log(1 + the most "
                     "asked-for skill's postings) x 1.25 for a sibling of a held skill (a prerequisite inherits "
                     "the priority of the step it unlocks)",
         "demand_postings": "postings in the market asking for the skill",
         "demand_index": "demand_postings relative to the most demanded skill (0-1)",
         "prerequisite_ids": "missing skills to learn before this one (ESCO broader skills, pairs mined from "
                             "postings)",
         "targets_needing": "how many of the top targets ask for the skill",
         "targets_considered": "how many top targets the path is computed over",
         "target_posting_ids": "the targets asking for the skill", "reason": "one-line explanation"},
        "SELECT step, skill_label, expected_score_after, reason FROM marts.fact_learning_step "
        "WHERE candidate_id = '<candidate_id>' ORDER BY step;"),
    "mart_skill_demand": MartDoc(
        "One skill asked for by at least one posting: demand and supply over the whole market.", "skill_id",
        {"demand_rank": "1 = asked for by the most postings", "skill_id": "the skill",
         "postings": "postings asking for it", "candidates_holding": "candidates whose resume shows it",
         "posting_share": "postings / all postings", "candidate_share": "candidates_holding / all candidates",
         "demand_supply_gap": "posting_share - candidate_share: positive = scarcer among candidates than asked for",
         "preferred_label": "its label", "taxonomy_source": "`esco` or `onet`"},
        "SELECT preferred_label, postings FROM marts.mart_skill_demand ORDER BY demand_rank LIMIT 10;"),
    "mart_skill_demand_weekly": MartDoc(
        "Weekly demand for one skill in one source (dated postings only).", "(week_start, source, skill_id)",
        {"week_start": "Monday of the ISO week", "source": "posting source", "skill_id": "the skill",
         "postings": "postings of that week and source asking for the skill",
         "postings_in_week": "all dated postings of that week and source", "share": "postings / postings_in_week",
         "preferred_label": "its label"},
        "SELECT week_start, sum(postings) FROM marts.mart_skill_demand_weekly WHERE preferred_label = 'Python "
        "(computer programming)' GROUP BY 1 ORDER BY 1;"),
    "mart_skill_trend": MartDoc(
        "One skill's trend as of the latest week with dated postings.", "skill_id",
        {"skill_id": "the skill", "as_of_week": "latest week with data (Monday)",
         "postings_last_4w": "postings in the last 4 weeks", "postings_prev_4w": "postings in the 4 weeks before",
         "share_last_4w": "share of dated postings, last 4 weeks", "share_prev_4w": "share, the 4 weeks before",
         "growth_4w": "relative change of the share (null when the earlier share is 0)",
         "postings_last_12w": "postings in the last 12 weeks", "postings_prev_12w": "postings in the 12 weeks before",
         "share_last_12w": "share, last 12 weeks", "share_prev_12w": "share, the 12 weeks before",
         "growth_12w": "relative change of the 12-week share",
         "is_new": "not asked for before the last 4 weeks (history permitting), at least 5 postings since",
         "is_emerging": "new, or 4-week share up >= 50 % with at least 5 postings", "preferred_label": "its label"},
        "SELECT preferred_label, postings_last_4w, growth_4w FROM marts.mart_skill_trend WHERE postings_last_4w "
        ">= 5 ORDER BY growth_4w DESC NULLS LAST LIMIT 10;"),
    "dq_check_result": MartDoc(
        "One data-quality check of one run: a Great Expectations expectation or a count reconciliation.",
        "(run_id, entity, check_name, column_name)",
        {"run_id": "the Airflow run", "entity": "`postings` or `resumes`",
         "check_name": "expectation type, or `reconcile_counts(<source>)`", "column_name": "column checked",
         "success": "whether the check passed", "element_count": "records checked",
         "unexpected_count": "records that failed it", "unexpected_percent": "unexpected_count / element_count x 100",
         "details": "observed values (JSON)", "checked_at": "when (UTC)"},
        "SELECT run_id, check_name, success FROM marts.dq_check_result WHERE NOT success;"),
    "mart_skill_salary": MartDoc(
        "One skill in one currency: the stated salaries of the postings asking for it, annualised (hour x 2080, day "
        "x 260, week x 52, month x 12) and summarised. Only skills with at least 3 such postings; currencies are "
        "never mixed or converted.", "(skill_id, salary_currency)",
        {"skill_id": "the skill (dim_skill)", "preferred_label": "its label",
         "salary_currency": "ISO 4217 code of the salaries summarised",
         "postings_with_salary": "postings asking for the skill that state a salary in this currency",
         "median_annual_min": "median of the annualised lower ends", "median_annual_max": "median of the upper ends",
         "median_annual_mid": "median of the range mid-points",
         "p25_annual_mid": "25th percentile of the mid-points", "p75_annual_mid": "75th percentile of the mid-points"},
        "SELECT preferred_label, postings_with_salary, median_annual_mid FROM marts.mart_skill_salary\n"
        "WHERE salary_currency = 'USD' AND postings_with_salary >= 10 ORDER BY median_annual_mid DESC LIMIT 10;"),
    "dq_reconciliation": MartDoc(
        "One count reconciliation of one source in one run: at ingest `fetched = bronze_new + already_seen`, at "
        "validation `bronze = silver + quarantine + duplicates`. The task fails when it does not hold.",
        "(run_id, stage, entity, source)",
        {"run_id": "the Airflow run", "stage": "`ingest` or `validate`", "entity": "`postings` or `resumes`",
         "source": "the configured source", "fetched": "records the connector returned (ingest)",
         "bronze_new": "of them, appended to bronze (ingest)",
         "already_seen": "of them, already in bronze or repeated in the batch (ingest)",
         "rejected": "files, responses or records rejected whole at ingest (see quarantine_record)",
         "bronze": "records in bronze (validate)", "silver": "valid, distinct records (validate)",
         "quarantine": "invalid records (validate)", "duplicates": "duplicates removed (validate)",
         "holds": "whether the equation holds", "details": "the counts as text", "checked_at": "when (UTC)"},
        "SELECT stage, source, fetched, bronze_new, bronze, silver, quarantine, duplicates, holds\n"
        "FROM marts.dq_reconciliation ORDER BY checked_at DESC LIMIT 20;"),
    "quarantine_record": MartDoc(
        "One rejected input record (or a file / API response rejected whole at ingest) and why.",
        "(entity, record_id, run_id)",
        {"entity": "`postings` or `resumes`; `postings_file` / `resumes_file` for what ingest rejected whole",
         "record_id": "posting id or candidate id; for a rejected file its path or URL (`#n` / `:line` for one "
                      "record of it; a resume file's pseudonym)", "source": "its source",
         "reason": "the expectations it broke or the parse error", "run_id": "the run that rejected it",
         "ingested_at": "when it was loaded (UTC)"},
        "SELECT reason, count(*) FROM marts.quarantine_record GROUP BY 1 ORDER BY 2 DESC;"),
    "pipeline_run": MartDoc(
        "One stage of one Airflow run (the last attempt): when, how it ended, rows in and out, model versions. "
        "The marts stage's own record appears from the next refresh.", "(run_id, stage)",
        {"run_id": "the Airflow run", "dag_id": "the DAG the stage belongs to",
         "stage": "`ingest_postings`, `validate_resumes`, `extract_postings`, `match`, `paths`, `marts`, ...",
         "started_at": "start (UTC)", "ended_at": "end (UTC)", "seconds": "wall time",
         "status": "`success` or `failed`", "error": "the exception, when it failed",
         "rows_in": "records the stage read (stage-specific: records read, documents, candidates)",
         "rows_out": "records it wrote (appended, silver rows, skill rows, match rows, steps, mart rows)",
         "counts": "every count the stage reported (JSON)", "tagger_version": "the promoted span tagger",
         "taxonomy_version": "the taxonomy release in the lake", "host": "the worker that ran it"},
        "SELECT dag_id, stage, status, seconds, rows_out FROM marts.pipeline_run "
        "WHERE run_id = (SELECT max(run_id) FROM marts.pipeline_run) ORDER BY started_at;"),
}


# Primary keys declared on the warehouse tables: the grain, where it is a set of non-null columns. The marts build
# fails (naming the table) when a refresh would break one, so a BI join on the key is always safe.
# quarantine_record has none: a posting without a native id is quarantined with a null record id.
PRIMARY_KEYS: dict[str, list[str]] = {
    "dim_skill": ["skill_id"], "dim_skill_hierarchy": ["skill_id", "broader_id"], "dim_job_posting": ["posting_id"],
    "dim_candidate": ["candidate_id"], "fact_posting_skill": ["posting_id", "skill_id"],
    "fact_candidate_skill": ["candidate_id", "skill_id"], "fact_match": ["candidate_id", "posting_id"],
    "fact_assignment": ["candidate_id"], "fact_learning_step": ["candidate_id", "step"],
    "mart_skill_demand": ["skill_id"], "mart_skill_demand_weekly": ["week_start", "source", "skill_id"],
    "mart_skill_trend": ["skill_id"], "mart_skill_salary": ["skill_id", "salary_currency"], "dq_check_result": ["run_id", "entity", "check_name"],
    "dq_reconciliation": ["run_id", "stage", "entity", "source"], "pipeline_run": ["run_id", "stage"],
}


# Parquet marts written as Hive-partitioned datasets (``marts/<table>/<column>=<value>/``): the time series a BI
# tool filters by week, so a query for a few weeks reads only their files. The others are one file each.
PARTITIONED = {"mart_skill_demand_weekly": "week_start"}

def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def render_dictionary() -> str:
    """``docs/data_dictionary.md``."""
    lines = ["# skillmatch data dictionary", "",
             "Generated by `skillmatch dictionary` from `include/skillmatch/marts/dictionary.py`; do not edit by hand.",
             "Every table lives in `data/warehouse.duckdb`, schema `marts` (a view of each in `main`), and as Parquet in "
             "`data/marts/<table>.parquet`, except the partitioned ones: "
             + ", ".join(f"`{t}` as `data/marts/{t}/{c}=<value>/*.parquet`" for t, c in PARTITIONED.items())
             + " (read them with `read_parquet('data/marts/<table>/**/*.parquet', hive_partitioning = true)`; a "
             "filter on the partition column reads only the matching folders; the folder is a link to the current "
             "version, so a reader that resolves it once never mixes two refreshes). Each Parquet mart is replaced "
             "as a whole at the end of a refresh. The same descriptions are attached to the tables and columns with "
             "`COMMENT ON`, so BI tools show them.", "",
             "Besides `marts`, the warehouse has two read-only view schemas over the lake's Parquet files: `history` "
             "(every kept run of the marts that change run to run, with `run_id` and `built_at`; the newest "
             "`SKILLMATCH_MARTS_HISTORY_RUNS`, 14 by default) and `staging` (`stg_postings`, `stg_resumes`: the "
             "validated silver records; resumes without their text).", ""]
    for table, doc in MARTS.items():
        key = PRIMARY_KEYS.get(table)
        lines += [f"## `{table}`", "", f"**One row:** {doc.row}", "", f"**Grain:** `{doc.grain}`"
                  + (f" (primary key `{', '.join(key)}`)" if key else " (no primary key declared)"), "",
                  "| column | meaning |", "|---|---|"]
        lines += [f"| `{c}` | {t} |" for c, t in doc.columns.items()]
        lines += ["", "```sql", doc.example, "```", ""]
    return "\n".join(lines)
