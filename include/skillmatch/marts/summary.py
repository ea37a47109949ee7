"""A short, human-readable summary of the warehouse, printed at the end of ``make run``."""
from __future__ import annotations

from skillmatch.config import Settings
from skillmatch.marts.build import MART_TABLES


def render_summary(settings: Settings, sample_candidate: str | None = None) -> str:
    """Rows per mart, top 10 skills in demand, one candidate's top 3 matches, and the DuckDB path."""
    import duckdb

    path = settings.warehouse_path
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run the marts stage first")
    con = duckdb.connect(str(path), read_only=True)
    try:
        lines = [f"skillmatch warehouse: {path.resolve()}", ""]
        synthetic = con.execute("SELECT count(*) FROM marts.dim_job_posting WHERE is_synthetic").fetchone()[0]
        if synthetic:
            lines += ["NOTE: input is the SYNTHETIC sample (no ../shared/data found): not real people or jobs.", ""]
        lines.append("Rows per mart:")
        for t in MART_TABLES:
            lines.append(f"  {t:<24}{con.execute(f'SELECT count(*) FROM marts.{t}').fetchone()[0]:>10,}")
        lines += ["", "Top 10 skills in demand (postings mentioning the skill):"]
        for rank, label, n, share in con.execute(
                "SELECT demand_rank, preferred_label, postings, posting_share FROM marts.mart_skill_demand "
                "ORDER BY demand_rank LIMIT 10").fetchall():
            lines.append(f"  {rank:>2}. {label:<45}{n:>6,} ({share:.1%})")
        cid = sample_candidate or con.execute(
            "SELECT candidate_id FROM marts.fact_match WHERE rank_for_candidate = 1 "
            "ORDER BY score DESC, candidate_id LIMIT 1").fetchone()
        cid = cid[0] if isinstance(cid, tuple) else cid
        if cid:
            lines += ["", f"Top 3 matches for candidate {cid}:"]
            for rank, score, cov, sem, title, company, matched, missing in con.execute(
                    "SELECT m.rank_for_candidate, m.score, m.skill_coverage, m.semantic_similarity, p.title, "
                    "p.company, m.matched_skills, m.missing_skills FROM marts.fact_match m "
                    "JOIN marts.dim_job_posting p USING (posting_id) WHERE m.candidate_id = ? "
                    "AND m.rank_for_candidate <= 3 ORDER BY m.rank_for_candidate", [cid]).fetchall():
                lines.append(f"  {rank}. {title} @ {company or 'n/a'}  score {score:.3f} "
                             f"(skills {cov:.2f}, text {sem:.2f})")
                lines.append(f"     matched: {', '.join(matched[:8]) or '-'}")
                lines.append(f"     missing: {', '.join(missing[:8]) or '-'}")
            steps = con.execute(
                "SELECT step, skill_label, expected_score_after, action FROM marts.fact_learning_step "
                "WHERE candidate_id = ? ORDER BY step", [cid]).fetchall()
            learn = [s for s in steps if s[3] == "learn"][:3]
            if learn:
                lines.append("  Learn next (expected average score over the top targets after each step):")
                lines += [f"   step {n}: {label} -> {after:.3f}" for n, label, after, _ in learn]
            shown = [label for _, label, _, action in steps if action == "show"]
            if shown:
                lines.append(f"  Show on the resume, if held: {', '.join(shown)}")
        return "\n".join(lines)
    finally:
        con.close()
