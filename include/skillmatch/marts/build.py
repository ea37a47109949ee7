"""Marts: the lake's gold tables as a DuckDB warehouse (schema ``marts``) plus Parquet copies under ``marts/``
(one file per mart, or a Hive-partitioned dataset for the marts in :data:`PARTITIONED`, swapped in as a whole).

The DuckDB file is built under a temporary name and swapped in with an atomic rename, so a reader never sees a
half-built warehouse; a re-run replaces the file, never appends to it.
"""
from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, write_parquet_atomic, write_partitioned_atomic
from skillmatch.marts.dictionary import PARTITIONED, sql_literal
from skillmatch.marts.market import skill_salaries, skill_trends, weekly_skill_demand
from skillmatch.ops import pipeline_runs

log = logging.getLogger(__name__)

# marts whose every run is kept (``history.<table>`` in the warehouse): what a BI user compares over time
HISTORY_TABLES = ["dim_job_posting", "dim_candidate", "fact_posting_skill", "fact_candidate_skill", "fact_match",
                  "fact_assignment", "fact_learning_step", "mart_skill_demand", "mart_skill_demand_weekly",
                  "mart_skill_trend", "mart_skill_salary"]

MART_TABLES = ["dim_skill", "dim_skill_hierarchy", "dim_job_posting", "dim_candidate", "fact_posting_skill",
               "fact_candidate_skill", "fact_match", "fact_assignment", "fact_learning_step", "mart_skill_demand",
               "mart_skill_demand_weekly", "mart_skill_trend", "mart_skill_salary", "dq_check_result",
               "dq_reconciliation",
               "quarantine_record", "pipeline_run"]


def mart_frames(settings: Settings) -> dict[str, pd.DataFrame]:
    """Assemble every mart table from the lake (pure reads, no writes)."""
    lake = settings.lake
    dim_skill = read_parquet(lake("taxonomy", "dim_skill.parquet"))
    posts = read_parquet(lake("silver", "postings.parquet"))
    res = read_parquet(lake("silver", "resumes.parquet"))
    fps = read_parquet(lake("gold", "fact_posting_skill.parquet")).rename(columns={"doc_id": "posting_id"})
    req = read_parquet(lake("gold", "posting_skill_requirement.parquet")).rename(columns={"doc_id": "posting_id"})
    fps = fps.merge(req, on=["posting_id", "skill_id"], how="left", validate="many_to_one")
    fcs = read_parquet(lake("gold", "fact_candidate_skill.parquet")).rename(columns={"doc_id": "candidate_id"})
    evidence = read_parquet(lake("gold", "candidate_skill_evidence.parquet")).rename(columns={"doc_id": "candidate_id"})
    fcs = fcs.merge(evidence, on=["candidate_id", "skill_id"], how="left", validate="one_to_one")
    fm = read_parquet(lake("gold", "fact_match.parquet"))
    steps = read_parquet(lake("gold", "fact_learning_step.parquet"))
    n_post = fps.groupby("posting_id").size()
    n_cand = fcs.groupby("candidate_id").size()
    dim_posting = posts.reindex(columns=[
        "posting_id", "source", "native_id", "title", "company", "location", "remote", "employment_type",
        "seniority", "salary_text", "salary_min", "salary_max", "salary_currency", "salary_period", "posted_at",
        "url", "ingested_at"]).copy()
    dim_posting["n_skills"] = dim_posting["posting_id"].map(n_post).fillna(0).astype("int64")
    dim_posting["is_synthetic"] = dim_posting["source"].eq("synthetic-sample")
    dim_cand = res.reindex(columns=["candidate_id", "source", "category", "pages", "years_experience",
                                    "ingested_at"]).copy()
    dim_cand["sections_found"] = [
        ",".join(n for n in ("summary", "experience", "education", "skills")
                 if isinstance(r.get(f"section_{n}"), str) and r.get(f"section_{n}"))
        for r in res.reindex(columns=[f"section_{n}" for n in ("summary", "experience", "education", "skills")])
        .to_dict("records")]
    dim_cand["text_chars"] = res["text"].str.len()
    dim_cand["n_skills"] = dim_cand["candidate_id"].map(n_cand).fillna(0).astype("int64")
    dim_cand["is_synthetic"] = dim_cand["source"].eq("synthetic-sample")
    demand = (fps.groupby("skill_id")["posting_id"].nunique().rename("postings").to_frame()
              .join(fcs.groupby("skill_id")["candidate_id"].nunique().rename("candidates_holding"), how="left")
              .fillna({"candidates_holding": 0}).reset_index())
    demand["candidates_holding"] = demand["candidates_holding"].astype("int64")
    demand["posting_share"] = demand["postings"] / max(len(posts), 1)
    demand["candidate_share"] = demand["candidates_holding"] / max(len(res), 1)
    # supply vs demand: positive = the market asks for it more often than candidates hold it
    demand["demand_supply_gap"] = demand["posting_share"] - demand["candidate_share"]
    demand = demand.merge(dim_skill[["skill_id", "preferred_label", "taxonomy_source"]], on="skill_id", how="left")
    demand = demand.sort_values(["postings", "preferred_label"], ascending=[False, True]).reset_index(drop=True)
    demand.insert(0, "demand_rank", range(1, len(demand) + 1))
    labels = dim_skill[["skill_id", "preferred_label"]]
    weekly = weekly_skill_demand(posts[["posting_id", "source", "posted_at"]], fps)
    trends = skill_trends(weekly).merge(labels, on="skill_id", how="left")
    weekly = weekly.merge(labels, on="skill_id", how="left")
    salaries = skill_salaries(posts, fps).merge(labels, on="skill_id", how="left")
    quarantine = []
    for entity, id_col in [("postings", "posting_id"), ("resumes", "candidate_id")]:
        q = read_parquet(lake("quarantine", f"{entity}.parquet"))
        if len(q):
            quarantine.append(pd.DataFrame({"entity": entity, "record_id": q[id_col].astype("string"),
                                            "source": q["source"], "reason": q["reason"],
                                            "run_id": q["run_id"], "ingested_at": q["ingested_at"]}))
    rejects = lake("quarantine", "ingest_rejects")
    if rejects.exists():
        r = read_parquet(rejects)
        if len(r):
            # files and records rejected whole at ingest: the record id is the file (or file#record) named
            from skillmatch.validation.pii import candidate_id, pseudonym_key

            key = pseudonym_key(settings.data_dir)
            # a resume's file name can name the person: the mart carries its pseudonym, as for any resume
            ids = [candidate_id(key, src, f) if ent == "resumes" else f
                   for ent, src, f in zip(r["entity"], r["source"], r["source_file"])]
            quarantine.append(pd.DataFrame({"entity": r["entity"] + "_file", "record_id": ids,
                                            "source": r["source"], "reason": r["error"], "run_id": r["run_id"],
                                            "ingested_at": r["rejected_at"]}))
    quarantine_df = (pd.concat(quarantine, ignore_index=True) if quarantine else
                     pd.DataFrame(columns=["entity", "record_id", "source", "reason", "run_id", "ingested_at"]))
    return {
        "dim_skill": dim_skill,
        "dim_skill_hierarchy": read_parquet(lake("taxonomy", "dim_skill_hierarchy.parquet")),
        "dim_job_posting": dim_posting,
        "dim_candidate": dim_cand,
        "fact_posting_skill": fps,
        "fact_candidate_skill": fcs,
        "fact_match": fm,
        "fact_assignment": read_parquet(lake("gold", "fact_assignment.parquet")),
        "fact_learning_step": steps,
        "mart_skill_demand": demand,
        "mart_skill_demand_weekly": weekly,
        "mart_skill_trend": trends,
        "mart_skill_salary": salaries,
        "dq_check_result": read_parquet(lake("dq", "dq_check_result")),
        "dq_reconciliation": _reconciliation(settings),
        "quarantine_record": quarantine_df,
        "pipeline_run": pipeline_runs(settings),
    }


def _reconciliation(settings: Settings) -> pd.DataFrame:
    from skillmatch.sources.ingest import RECONCILIATION_COLUMNS

    folder = settings.lake("dq", "dq_reconciliation")
    df = read_parquet(folder) if folder.exists() else pd.DataFrame()
    return df.reindex(columns=RECONCILIATION_COLUMNS) if len(df) else pd.DataFrame(columns=RECONCILIATION_COLUMNS)


def _comment(con, tables: list[str]) -> None:  # noqa: ANN001 - duckdb connection
    """Attach the data dictionary to the tables (``COMMENT ON``); drift is logged, and caught by the tests."""
    from skillmatch.marts.dictionary import MARTS, sql_literal

    for table in tables:
        doc = MARTS.get(table)
        if doc is None:
            log.warning("marts.%s is not in the data dictionary", table)
            continue
        con.execute(f"COMMENT ON TABLE marts.{table} IS {sql_literal(f'{doc.row} Grain: {doc.grain}.')}")
        for (col,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' "
                                  "AND table_name = ?", [table]).fetchall():
            if col in doc.columns:
                con.execute(f"COMMENT ON COLUMN marts.{table}.{col} IS {sql_literal(doc.columns[col])}")
            else:
                log.warning("marts.%s.%s is not in the data dictionary", table, col)


def _parquet_source(path: Path) -> str:
    """A ``read_parquet`` call over one Parquet file or a Hive-partitioned dataset folder."""
    if path.is_dir():
        return f"read_parquet({sql_literal(str(path.resolve() / '**' / '*.parquet'))}, hive_partitioning = true)"
    return f"read_parquet({sql_literal(str(path.resolve()))})"


def _table_from_frame(con, table: str, df: pd.DataFrame, select: str = "*") -> None:  # noqa: ANN001 - duckdb
    con.register("_frame", df)
    try:
        con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM _frame")
    finally:
        con.unregister("_frame")


def swap_in_warehouse(target: Path, tables: dict[str, Path | pd.DataFrame],
                      views: dict[str, str | pd.DataFrame] | None = None,
                      columns: dict[str, list[str]] | None = None) -> Path:
    """Build a DuckDB file with one ``marts.<name>`` table per Parquet file or partitioned dataset folder (plus a
    ``main`` view each and the data dictionary's comments) under a temporary name, then rename it over ``target``
    in one step. A table or view given as a DataFrame is copied in as it is (a view so given becomes a table).
    ``columns`` gives a table's column order where it is not the files' own (a partitioned dataset's partition
    column comes last when read back).

    Readers never see a half-built warehouse: a connection opened before the swap keeps reading the complete old
    file (the rename does not touch an open file), a process that connects after it reads the complete new one,
    and an open reader never blocks the nightly writer. (Within one process DuckDB shares a database instance per
    path while any connection to it is open, so a long-lived reader process sees the new version once its
    connections are closed; the dashboard opens and closes one per request.)
    """
    import duckdb

    from skillmatch.marts.dictionary import PRIMARY_KEYS

    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        con = duckdb.connect(str(tmp))
        con.execute("CREATE SCHEMA marts")
        for name, path in tables.items():
            select = ", ".join(f'"{c}"' for c in (columns or {}).get(name, [])) or "*"
            if isinstance(path, pd.DataFrame):
                _table_from_frame(con, f"marts.{name}", path, select)
            else:
                con.execute(f"CREATE TABLE marts.{name} AS SELECT {select} FROM {_parquet_source(path)}")
            key = PRIMARY_KEYS.get(name)
            if key:
                try:
                    con.execute(f"ALTER TABLE marts.{name} ADD PRIMARY KEY ({', '.join(key)})")
                except duckdb.ConstraintException as exc:
                    raise ValueError(f"marts.{name}: rows are not unique on its key ({', '.join(key)}), or the key "
                                     f"has nulls; the warehouse was not replaced ({exc})") from exc
            con.execute(f"CREATE VIEW main.{name} AS SELECT * FROM marts.{name}")
        for schema in sorted({v.split(".", 1)[0] for v in views or {}}):
            con.execute(f"CREATE SCHEMA {schema}")
        for view, select in (views or {}).items():
            if isinstance(select, pd.DataFrame):
                _table_from_frame(con, view, select)
            else:
                con.execute(f"CREATE VIEW {view} AS {select}")
        _comment(con, list(tables))
        con.execute("CHECKPOINT")
        con.close()
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    return target


def keep_history(settings: Settings, run_id: str, frames: dict[str, pd.DataFrame]) -> int:
    """Keep this run's copy of each mart in :data:`HISTORY_TABLES` under ``marts_history/<table>/run=<run>/``
    (with ``run_id`` and ``built_at`` columns; a re-run of the run replaces its copy) and drop the copies of runs
    older than the newest ``marts_history_runs``; returns how many runs each table keeps."""
    from skillmatch.lake import modified_at, remove_tree, safe_name, utcnow

    keep = settings.marts_history_runs
    safe = safe_name(run_id)
    built = utcnow()
    kept = 0
    for name in HISTORY_TABLES:
        if name not in frames or keep <= 0:
            continue
        df = frames[name].copy()
        df.insert(0, "built_at", built)
        df.insert(0, "run_id", run_id)
        write_parquet_atomic(df, settings.lake("marts_history", name, f"run={safe}", f"{name}.parquet"))
        runs = sorted(settings.lake("marts_history", name).glob("run=*"),
                      key=lambda d, n=name: modified_at(d / f"{n}.parquet"), reverse=True)
        for old in runs[keep:]:
            remove_tree(old)
        kept = min(len(runs), keep)
    return kept


def _views(settings: Settings) -> dict[str, str | pd.DataFrame]:
    """The ``staging`` views (silver, read in place; resumes without their text) and the ``history`` views (every
    kept run of a mart, with its ``run_id``) for BI tools; they read the lake's Parquet files where they lie.

    A lake on an object store is not readable from the warehouse file without DuckDB's ``httpfs`` extension
    (fetched from the network at first use, which a nightly run never does): there, the same selections are
    copied into the warehouse as tables of the same names."""
    if settings.remote_lake:
        return _view_tables(settings)

    def parquet(path: Path) -> str:
        return "read_parquet(" + sql_literal(str(path.resolve())) + ", union_by_name = true)"

    views = {}
    silver_postings, silver_resumes = settings.lake("silver", "postings.parquet"), settings.lake("silver", "resumes.parquet")
    if silver_postings.exists():
        views["staging.stg_postings"] = f"SELECT * EXCLUDE (text) FROM {parquet(silver_postings)}"
    if silver_resumes.exists():
        views["staging.stg_resumes"] = (f"SELECT * EXCLUDE (text, section_summary, section_experience, "
                                        f"section_education, section_skills) FROM {parquet(silver_resumes)}")
    for name in HISTORY_TABLES:
        folder = settings.lake("marts_history", name)
        if folder.exists() and any(folder.glob("run=*/*.parquet")):
            views[f"history.{name}"] = f"SELECT * FROM {parquet(folder / 'run=*' / '*.parquet')}"
    return views


def _view_tables(settings: Settings) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {}
    drop = {"text", "section_summary", "section_experience", "section_education", "section_skills"}
    for entity in ("postings", "resumes"):
        path = settings.lake("silver", f"{entity}.parquet")
        if path.exists():
            df = read_parquet(path)
            tables[f"staging.stg_{entity}"] = df.drop(columns=[c for c in drop if c in df.columns])
    for name in HISTORY_TABLES:
        files = sorted(settings.lake("marts_history", name).glob("run=*/*.parquet"))
        if files:
            tables[f"history.{name}"] = pd.concat([read_parquet(f) for f in files], ignore_index=True)
    return tables


def publish_warehouse(settings: Settings, local_file: Path) -> None:
    """With a lake on an object store, upload the freshly swapped warehouse file beside the lake
    (``<lake>/warehouse.duckdb``, one PUT: a reader fetches the old file or the new one), for BI tools that attach
    it from there and for a dashboard on another machine."""
    if not settings.remote_lake:
        return
    target = settings.lake("warehouse.duckdb")
    target.fs.put_file(str(local_file), target.path)
    log.info("warehouse published to %s", target)


def fetch_published_warehouse(settings: Settings) -> Path:
    """The local warehouse file, first refreshed from the copy published beside a remote lake when that copy is
    newer (a dashboard or BI machine other than the worker that built it). Downloaded beside the target and
    renamed over it, so an open reader keeps its complete old file."""
    local = settings.warehouse_path
    if not settings.remote_lake:
        return local
    remote = settings.lake("warehouse.duckdb")
    try:
        published = remote.stat().st_mtime
    except FileNotFoundError:
        return local
    if local.is_file() and local.stat().st_mtime >= published:
        return local
    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}.download")
    try:
        remote.fs.get_file(remote.path, str(tmp))
        os.utime(tmp, (published, published))
        os.replace(tmp, local)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("warehouse fetched from %s", remote)
    return local


def build_marts(settings: Settings, run_id: str | None = None) -> dict[str, int]:
    """Write Parquet marts (and, for a run, their history copy) and swap in a freshly built DuckDB warehouse;
    returns rows per table."""
    frames = mart_frames(settings)
    paths: dict[str, Path | pd.DataFrame] = {}
    for name, df in frames.items():
        if name in PARTITIONED:
            paths[name] = write_partitioned_atomic(df, settings.lake("marts", name), PARTITIONED[name])
            settings.lake("marts", f"{name}.parquet").unlink(missing_ok=True)  # the single-file layout of old
        else:
            paths[name] = write_parquet_atomic(df, settings.lake("marts", f"{name}.parquet"))
    if run_id:
        keep_history(settings, run_id, frames)
    if settings.remote_lake:  # the frames just written, not a read back over the network (see _views)
        paths = dict(frames)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    target = swap_in_warehouse(settings.warehouse_path, paths, _views(settings),
                               columns={name: list(frames[name].columns) for name in PARTITIONED if name in frames})
    publish_warehouse(settings, target)
    counts = {name: len(df) for name, df in frames.items()}
    log.info("marts written to %s: %s", target, counts)
    return counts
