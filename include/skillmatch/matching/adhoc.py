"""Ad-hoc matching outside the lake: the ``skillmatch match`` / ``skillmatch paths`` file contract.

Resumes come from a folder of files (PDF / DOCX / TXT; id = file stem) or a JSONL of ``{"id", "text"}``; postings
from a JSONL of ``{"id", "title", "text"}``. Both are extracted with the same engine as the nightly run, then
matched (and given learning paths) with the same functions. Nothing is written to the lake.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from skillmatch.config import Settings
from skillmatch.extraction.extract import SkillIndex, extract_documents
from skillmatch.matching.engine import match_frames
from skillmatch.matching.incremental import COMPONENTS
from skillmatch.paths.learning import lake_show_skills, mine_prerequisites, rank_learning_steps
from skillmatch.sources.normalize import unglue_lines

log = logging.getLogger(__name__)


def read_jsonl(path: Path, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """JSON objects with an ``id`` (and optional text ``fields``); a bad line fails naming file and line."""
    if not path.is_file():
        raise FileNotFoundError(f"input file {path} does not exist")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            rows.append({"id": str(r["id"]), **{f: r.get(f) if isinstance(r.get(f), str) else "" for f in fields},
                         **({"remote": r["remote"]} if isinstance(r.get("remote"), bool) else {})})
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: expected a JSON object with id and {', '.join(fields)} ({exc})") from exc
    ids = [r["id"] for r in rows]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise ValueError(f"{path}: duplicate ids {dup}")
    return rows


def read_resumes(path: Path) -> pd.DataFrame:
    """(doc_id, text) of every resume in a folder (recursively) or a JSONL file; unreadable files are skipped
    with a warning naming them and why."""
    from skillmatch.sources.resumes import RESUME_SUFFIXES, extract_texts

    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RESUME_SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no resume files ({', '.join(sorted(RESUME_SUFFIXES))}) under {path}")
        stems = [f.stem for f in files]
        if len(stems) != len(set(stems)):
            raise ValueError(f"{path}: two resume files share a stem (the stem is the resume id)")
        ids, texts = [], []
        for f, (text, _pages, error) in zip(files, extract_texts(files)):
            if error or not text.strip():
                log.warning("resume %s skipped: %s", f, error or "no text")
                continue
            ids.append(f.stem)
            texts.append(text)
        return pd.DataFrame({"doc_id": ids, "text": texts})
    rows = read_jsonl(path, ("text",))
    return pd.DataFrame({"doc_id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})


def read_postings(path: Path) -> pd.DataFrame:
    """(doc_id, title, text, location, seniority, remote) of a postings JSONL; the title leads the text that skills
    are extracted from. ``location`` and ``seniority`` (strings) and ``remote`` (true / false) are optional."""
    rows = read_jsonl(path, ("title", "text", "location", "seniority"))
    return pd.DataFrame({"doc_id": [r["id"] for r in rows], "title": [r["title"] for r in rows],
                         "text": [(r["title"] + "\n" + unglue_lines(r["text"])).strip() for r in rows],
                         "location": [r["location"] or None for r in rows],
                         "seniority": [r["seniority"] or None for r in rows],
                         "remote": [r.get("remote") for r in rows]})


def adhoc_matches(resumes: pd.DataFrame, postings: pd.DataFrame, index: SkillIndex,
                  settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, float]]]:
    """(fact_match rows, posting skill facts with their requirement, the candidates' soft credits) for ad-hoc
    inputs, with the nightly run's engine."""
    from skillmatch.extraction.encoder import resolve_device
    from skillmatch.matching.evidence import candidate_evidence, strengths
    from skillmatch.matching.profile import candidate_profiles, posting_profiles, with_title_embeddings
    from skillmatch.matching.requirements import posting_requirements
    from skillmatch.matching.soft import candidate_credits, load_relations

    ps, post_emb = extract_documents(postings[["doc_id", "text"]], index, settings, postings=True)
    cs, cand_emb = extract_documents(resumes[["doc_id", "text"]], index, settings)
    ps = posting_requirements(postings.rename(columns={"doc_id": "posting_id"}), ps)
    relations = load_relations(settings)
    device = resolve_device(settings.device)
    post_prof = with_title_embeddings(posting_profiles(postings), device)
    cand_prof = with_title_embeddings(candidate_profiles(resumes), device)
    evidence = candidate_evidence(resumes, cs)
    fm = match_frames(ps, cs, postings["doc_id"].tolist(), post_emb, resumes["doc_id"].tolist(), cand_emb,
                      index.labels, settings, relations=relations, post_prof=post_prof, cand_prof=cand_prof,
                      evidence=evidence)
    return fm, ps, candidate_credits(cs.groupby("doc_id")["skill_id"].apply(set).to_dict(), relations,
                                     strengths(evidence))


def match_records(fm: pd.DataFrame, resume_ids: list[str]) -> list[dict[str, object]]:
    """One ``{"resume_id", "matches": [...]}`` per resume, best match first."""
    top = fm[fm["rank_for_candidate"].notna()].sort_values(["candidate_id", "rank_for_candidate"])
    by = {c: g for c, g in top.groupby("candidate_id")}
    out = []
    for rid in resume_ids:
        g = by.get(rid)
        matches = [] if g is None else [
            {"posting_id": r.posting_id, "score": round(float(r.score), 4),
             "components": {c: None if pd.isna(getattr(r, c)) else round(float(getattr(r, c)), 4)
                            for c in (*COMPONENTS, "required_coverage")},
             "matched_skills": list(r.matched_skills), "missing_skills": list(r.missing_skills),
             "missing_choices": [list(c) for c in r.missing_choices],
             "matched_skill_ids": list(r.matched_skill_ids), "missing_skill_ids": list(r.missing_skill_ids),
             "partial_skill_ids": list(r.partial_skill_ids)}
            for r in g.itertuples()]
        out.append({"resume_id": rid, "matches": matches})
    return out


def path_records(fm: pd.DataFrame, posting_skills: pd.DataFrame, resume_ids: list[str], labels: dict[str, str],
                 settings: Settings, n_postings: int | None = None,
                 credits: dict[str, dict[str, float]] | None = None) -> list[dict[str, object]]:
    """One ``{"resume_id", "steps": [...]}`` per resume, first step first."""
    steps = rank_learning_steps(fm, posting_skills, labels, settings.path_targets, settings.path_max_steps,
                                settings.weights.skill_coverage, prerequisites=mine_prerequisites(posting_skills),
                                n_postings=n_postings, credits=credits, show=lake_show_skills(settings),
                                max_show_steps=settings.path_max_show_steps)
    by = {c: g.sort_values("step") for c, g in steps.groupby("candidate_id")}
    out = []
    for rid in resume_ids:
        g = by.get(rid)
        out.append({"resume_id": rid, "steps": [] if g is None else [
            {"step": int(r.step), "skill_id": r.skill_id, "label": r.skill_label, "action": r.action,
             "expected_gain": round(float(r.expected_gain), 4),
             "expected_score_after": round(float(r.expected_score_after), 4),
             "demand_postings": int(r.demand_postings), "demand_index": round(float(r.demand_index), 4),
             "prerequisites": list(r.prerequisite_ids), "targets_needing": int(r.targets_needing),
             "targets_considered": int(r.targets_considered), "target_posting_ids": list(r.target_posting_ids),
             "reason": r.reason} for r in g.itertuples()]})
    return out
