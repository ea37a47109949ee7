"""``skillmatch`` command line: one sub-command per stage, on the same functions the DAGs call.

Stage commands read and write the lake under ``SKILLMATCH_DATA_DIR`` (default ``./data``). ``extract`` and
``rank-skills`` with ``--input`` work on ad-hoc files instead (the evaluation contract).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path

from skillmatch.config import Settings, load_settings
from skillmatch.extraction.bases import RECIPES
from skillmatch.lake import new_run_id


def _taxonomy(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.taxonomy.build import build_taxonomy

    return build_taxonomy(s)


def _ingest(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.sources.ingest import ingest_postings, ingest_resumes

    return {"postings": ingest_postings(s, a.run_id), "resumes": ingest_resumes(s, a.run_id)}


def _validate(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.validation.validate import validate_postings, validate_resumes

    return {"postings": validate_postings(s, a.run_id), "resumes": validate_resumes(s, a.run_id)}


def _skill_index(s: Settings):  # noqa: ANN202
    from skillmatch.extraction.extract import SkillIndex
    from skillmatch.taxonomy.build import build_taxonomy, read_dim_skill

    if not s.lake("taxonomy", "dim_skill.parquet").exists():
        build_taxonomy(s)
    return SkillIndex(read_dim_skill(s), s)


def _extract(s: Settings, a: argparse.Namespace) -> object:
    if getattr(a, "facts", None) and not getattr(a, "input", None):
        raise ValueError("--facts reports on the documents of --input: give --input too")
    if getattr(a, "input", None):
        import pandas as pd

        from skillmatch.extraction.extract import extract_spans
        from skillmatch.matching.adhoc import read_jsonl

        rows = read_jsonl(Path(a.input), ("text",))
        docs = pd.DataFrame({"doc_id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})
        if a.facts:  # what the nightly extraction keeps: every method, one row per skill, its best evidence
            from skillmatch.extraction.extract import extract_documents

            spans, _ = extract_documents(docs, _skill_index(s), s, postings=a.facts == "posting")
        else:  # the evaluation contract: skill spans
            spans = extract_spans(docs, _skill_index(s), s)
        by_doc = {d: g.sort_values("char_start") for d, g in spans.groupby("doc_id")}
        with _open_out(a.output) as out:
            for d in docs["doc_id"]:
                g = by_doc.get(d)
                ms = [] if g is None else [
                    {"skill_id": r.skill_id, "label": r.preferred_label, "surface": r.surface_form,
                     "start": int(r.char_start), "end": int(r.char_end), "score": float(r.score), "method": r.method,
                     **({"count": int(r.mention_count)} if a.facts else {})}
                    for r in g.itertuples()]
                out.write(json.dumps({"id": d, "mentions": ms}) + "\n")
        return {"documents": len(docs), "mentions": len(spans),
                "by_method": spans["method"].value_counts().to_dict()}
    from skillmatch.extraction.extract import SkillIndex
    from skillmatch.extraction.stage import extract_entity
    from skillmatch.taxonomy.build import read_dim_skill

    index = SkillIndex(read_dim_skill(s), s)
    return {e: extract_entity(s, e, index) for e in ("postings", "resumes")}


def _train_tagger(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.extraction.tagger import TrainConfig, promoted_version, train_and_promote

    current = promoted_version(s.model_dir, s.tagger_base)
    if a.if_missing and current is not None:
        return {"skipped": f"a tagger promoted from {s.tagger_base} exists", **current}
    cfg = TrainConfig.for_base(s.tagger_base, epochs=a.epochs, limit=a.limit)
    return train_and_promote(s, Path(a.data) if a.data else None, cfg, a.gate, a.distill_from, a.teacher_sentences)


def _train_linker(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.extraction.linker import (LinkerConfig, backfill_sentence_threshold, promote_linker_if_better,
                                              promoted_linker, train_and_promote_linker, trained_linkers)

    current = promoted_linker(s.model_dir)
    if a.if_missing and current is not None:
        calibrated = backfill_sentence_threshold(s)  # a linker promoted before the nightly pass used linkers
        return {"skipped": "a promoted linker exists", **current,
                **({"sentence_threshold": calibrated} if calibrated else {})}
    if a.if_missing and (trained := trained_linkers(s.model_dir)):
        # a linker the gate refused is not retrained on every setup (the weekly DAG or a plain call retries), but
        # the newest is judged again by the current gate, which may have changed since it was trained
        margin = s.linker_gate_margin if a.margin is None else a.margin
        promoted, why = promote_linker_if_better(trained[-1], s.model_dir, margin)
        if promoted:
            return {"promoted": True, "gate": why, "sentence_threshold": backfill_sentence_threshold(s)}
        return {"skipped": f"a linker was trained already ({trained[-1].name}) and not promoted", "gate": why}
    cfg = LinkerConfig() if a.max_pairs is None else LinkerConfig(max_pairs=a.max_pairs)
    return train_and_promote_linker(s, cfg, a.margin)


def _rank_skills(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.extraction.extract import rank_sentences

    if not Path(a.input).is_file():
        raise FileNotFoundError(f"input file {a.input} does not exist")
    sents = [line for line in Path(a.input).read_text(encoding="utf-8", errors="replace").splitlines()]
    source = None if a.taxonomy_source == "all" else a.taxonomy_source
    ranked = rank_sentences(sents, _skill_index(s), a.top_k, source)
    with _open_out(a.output) as out:
        for sent, skills in zip(sents, ranked):
            out.write(json.dumps({"text": sent, "skills": skills}) + "\n")
    return {"sentences": len(sents)}


def _adhoc_inputs(s: Settings, a: argparse.Namespace):  # noqa: ANN202
    from skillmatch.matching.adhoc import read_postings, read_resumes

    if not (a.resumes and a.postings):
        raise ValueError("--resumes and --postings go together")
    if a.top_k is not None:
        s = dataclasses.replace(s, top_k=a.top_k)
    resumes, postings = read_resumes(Path(a.resumes)), read_postings(Path(a.postings))
    return s, resumes, postings, _skill_index(s)


def _match(s: Settings, a: argparse.Namespace) -> object:
    if getattr(a, "resumes", None) or getattr(a, "postings", None):
        from skillmatch.matching.adhoc import adhoc_matches, match_records

        s, resumes, postings, index = _adhoc_inputs(s, a)
        fm, _, _ = adhoc_matches(resumes, postings, index, s)
        records = match_records(fm, resumes["doc_id"].tolist())
        _write_jsonl(a.output, records)
        return {"resumes": len(resumes), "postings": len(postings), "matches": sum(len(r["matches"]) for r in records)}
    from skillmatch.matching.engine import compute_matches

    return compute_matches(s)


def _paths(s: Settings, a: argparse.Namespace) -> object:
    if getattr(a, "resumes", None) or getattr(a, "postings", None):
        from skillmatch.matching.adhoc import adhoc_matches, path_records

        s, resumes, postings, index = _adhoc_inputs(s, a)
        fm, ps, credits = adhoc_matches(resumes, postings, index, s)
        records = path_records(fm, ps, resumes["doc_id"].tolist(), index.labels, s, n_postings=len(postings),
                               credits=credits)
        _write_jsonl(a.output, records)
        return {"resumes": len(resumes), "postings": len(postings), "steps": sum(len(r["steps"]) for r in records)}
    from skillmatch.paths.learning import compute_learning_paths

    return compute_learning_paths(s)


def _write_jsonl(path: str | None, records: list[dict[str, object]]) -> None:
    with _open_out(path) as out:
        for r in records:
            out.write(json.dumps(r) + "\n")


def _marts(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.marts.build import build_marts

    return build_marts(s, a.run_id)


def _summary(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.marts.summary import render_summary

    print(render_summary(s))
    return None


def _dictionary(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.config import PROJECT_ROOT
    from skillmatch.marts.dictionary import render_dictionary

    out = Path(a.output) if a.output else PROJECT_ROOT / "docs" / "data_dictionary.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_dictionary() + "\n", encoding="utf-8")
    return {"written": str(out)}


def _status(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.ops import status_report

    report, code = status_report(s, a.stale_hours)
    if code:
        raise _StatusFailed(report)
    return report


class _StatusFailed(Exception):
    def __init__(self, report: dict) -> None:
        super().__init__("; ".join(report["problems"]))
        self.report = report


def _run_all(s: Settings, a: argparse.Namespace) -> object:
    out = {}
    for name, fn in [("taxonomy", _taxonomy), ("ingest", _ingest), ("validate", _validate), ("extract", _extract),
                     ("match", _match), ("paths", _paths), ("marts", _marts)]:
        out[name] = fn(s, a)
    return out


class _open_out:
    def __init__(self, path: str | None) -> None:
        self.path = path

    def __enter__(self):  # noqa: ANN204
        self.f = open(self.path, "w") if self.path else sys.stdout
        return self.f

    def __exit__(self, *exc: object) -> None:
        if self.path:
            self.f.close()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and --help)."""
    p = argparse.ArgumentParser(prog="skillmatch", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    stages = {
        "taxonomy": (_taxonomy, "load ESCO + O*NET into dim_skill"),
        "ingest": (_ingest, "read postings and resumes into bronze"),
        "validate": (_validate, "bronze -> silver + quarantine with Great Expectations"),
        "extract": (_extract, "extract skills (stage), or from --input JSONL {id,text} to --output JSONL"),
        "match": (_match, "resume x posting top-k matches -> fact_match, or --resumes/--postings to --output"),
        "paths": (_paths, "learning steps -> fact_learning_step, or --resumes/--postings to --output"),
        "marts": (_marts, "DuckDB warehouse + Parquet marts"),
        "summary": (_summary, "print rows per mart, top skills and a sample match"),
        "dictionary": (_dictionary, "write docs/data_dictionary.md from the marts' documentation"),
        "status": (_status, "last run per DAG, mart freshness, failing checks, promoted models and the gate's "
                             "verdict on newer ones; exit 1 when stale or failed"),
        "run-all": (_run_all, "every stage in order, outside Airflow"),
        "rank-skills": (_rank_skills, "rank taxonomy concepts for each line of --input"),
        "train-tagger": (_train_tagger, "fine-tune the span tagger on SkillSpan; promote it if it passes the gate"),
        "train-linker": (_train_linker, "fine-tune the sentence linker on job-ad sentences; promote it if it passes "
                                        "the gate"),
    }
    for name, (fn, help_) in stages.items():
        sp = sub.add_parser(name, help=help_)
        sp.set_defaults(fn=fn)
        sp.add_argument("--run-id", default=new_run_id(), help="run id (default: a new manual id)")
        if name == "dictionary":
            sp.add_argument("--output", help="where to write it (default docs/data_dictionary.md)")
        if name in {"extract", "rank-skills"}:
            sp.add_argument("--input", required=name == "rank-skills", help="input file")
            sp.add_argument("--output", help="output JSONL (default stdout)")
        if name == "extract":
            sp.add_argument("--facts", choices=["posting", "resume"], default=None,
                            help="with --input: report the skill facts the nightly extraction keeps for documents of "
                                 "this kind (every method, one per skill with its best evidence and a count of the "
                                 "sentences naming it) instead of the skill spans of the evaluation contract")
        if name == "rank-skills":
            sp.add_argument("--top-k", type=int, default=10)
            sp.add_argument("--taxonomy-source", choices=["esco", "onet", "all"], default="all")
        if name in {"match", "paths"}:
            sp.add_argument("--resumes", help="ad hoc: a folder of resume files (PDF/DOCX/TXT, id = file stem) "
                                              "or a JSONL of {id, text}")
            sp.add_argument("--postings", help="ad hoc: a JSONL of {id, title, text}")
            sp.add_argument("--top-k", type=int, default=None, help="matches per resume (default SKILLMATCH_TOP_K)")
            sp.add_argument("--output", help="ad hoc output JSONL (default stdout)")
        if name == "status":
            from skillmatch.ops import STALE_HOURS

            sp.add_argument("--stale-hours", type=float, default=STALE_HOURS,
                            help=f"marts older than this are stale (default {STALE_HOURS:g})")
        if name == "train-tagger":
            sp.add_argument("--data", help="folder with SkillSpan train.json/dev.json (default: the shared data)")
            sp.add_argument("--epochs", type=int, default=None, help="default: the base's recipe (3 for all-mpnet-base-v2)")
            sp.add_argument("--limit", type=int, default=None, help="train on the first N sentences only")
            sp.add_argument("--gate", type=float, default=None, help="minimum dev span F1 to promote")
            sp.add_argument("--if-missing", action="store_true", help="do nothing when a promoted model exists")
            sp.add_argument("--distill-from", choices=list(RECIPES), default=None,
                            help="also train on posting sentences tagged by the tagger promoted from this base "
                                 "(e.g. all-mpnet-base-v2 teaching SKILLMATCH_TAGGER_BASE=all-MiniLM-L6-v2); "
                                 "default SKILLMATCH_TAGGER_TEACHER, whose tagger is trained first if missing")
            sp.add_argument("--teacher-sentences", type=int, default=8000,
                            help="posting sentences the teacher tags (default 8000)")
        if name == "train-linker":
            sp.add_argument("--max-pairs", type=int, default=None, help="training sentences (default 8000)")
            sp.add_argument("--margin", type=float, default=None,
                            help="Decorte mean MRR gain over the packaged encoder needed to promote (default "
                                 "SKILLMATCH_LINKER_GATE_MARGIN, 0.01)")
            sp.add_argument("--if-missing", action="store_true", help="do nothing when a promoted linker exists")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``skillmatch`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("great_expectations", "pypdf", "sentence_transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        result = args.fn(load_settings(), args)
    except _StatusFailed as exc:
        print(json.dumps(exc.report, indent=2, default=str))
        print(f"skillmatch status: unhealthy: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        print(f"skillmatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    if result is not None:
        adhoc = args.command == "rank-skills" or bool(getattr(args, "input", None) or getattr(args, "resumes", None))
        print(json.dumps(result, indent=2, default=str), file=sys.stderr if adhoc else sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
