"""``skillmatch`` command line: one sub-command per stage, on the same functions the DAGs call.

Stage commands read and write the lake under ``SKILLMATCH_DATA_DIR`` (default ``./data``). ``extract`` and
``rank-skills`` with ``--input`` work on ad-hoc files instead (the evaluation contract).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from skillmatch.config import Settings, load_settings
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
    if getattr(a, "input", None):
        import pandas as pd

        from skillmatch.extraction.extract import extract_documents

        rows = [json.loads(line) for line in Path(a.input).read_text().splitlines() if line.strip()]
        docs = pd.DataFrame({"doc_id": [str(r["id"]) for r in rows], "text": [r["text"] for r in rows]})
        mentions, _ = extract_documents(docs, _skill_index(s), s)
        by_doc = {d: g for d, g in mentions.groupby("doc_id")}
        with _open_out(a.output) as out:
            for d in docs["doc_id"]:
                g = by_doc.get(d)
                ms = [] if g is None else [
                    {"start": int(r.char_start), "end": int(r.char_end), "skill_id": r.skill_id,
                     "label": r.preferred_label, "score": float(r.score), "method": r.method}
                    for r in g.itertuples() if r.method == "alias"]
                out.write(json.dumps({"id": d, "mentions": ms}) + "\n")
        return {"documents": len(docs), "mentions": int((mentions["method"] == "alias").sum())}
    from skillmatch.extraction.extract import SkillIndex
    from skillmatch.extraction.stage import extract_entity
    from skillmatch.taxonomy.build import read_dim_skill

    index = SkillIndex(read_dim_skill(s), s)
    return {e: extract_entity(s, e, index) for e in ("postings", "resumes")}


def _rank_skills(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.extraction.extract import rank_sentences

    sents = [line for line in Path(a.input).read_text().splitlines() if line.strip()]
    ranked = rank_sentences(sents, _skill_index(s), a.top_k, a.taxonomy_source)
    with _open_out(a.output) as out:
        for sent, skills in zip(sents, ranked):
            out.write(json.dumps({"sentence": sent, "skills": skills}) + "\n")
    return {"sentences": len(sents)}


def _match(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.matching.engine import compute_matches

    return compute_matches(s)


def _paths(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.paths.learning import compute_learning_paths

    return compute_learning_paths(s)


def _marts(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.marts.build import build_marts

    return build_marts(s)


def _summary(s: Settings, a: argparse.Namespace) -> object:
    from skillmatch.marts.summary import render_summary

    print(render_summary(s))
    return None


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
        "match": (_match, "resume x posting top-k matches -> fact_match"),
        "paths": (_paths, "learning steps -> fact_learning_step"),
        "marts": (_marts, "DuckDB warehouse + Parquet marts"),
        "summary": (_summary, "print rows per mart, top skills and a sample match"),
        "run-all": (_run_all, "every stage in order, outside Airflow"),
        "rank-skills": (_rank_skills, "rank taxonomy concepts for each sentence of --input"),
    }
    for name, (fn, help_) in stages.items():
        sp = sub.add_parser(name, help=help_)
        sp.set_defaults(fn=fn)
        sp.add_argument("--run-id", default=new_run_id(), help="run id (default: a new manual id)")
        if name in {"extract", "rank-skills"}:
            sp.add_argument("--input", required=name == "rank-skills", help="input file")
            sp.add_argument("--output", help="output JSONL (default stdout)")
        if name == "rank-skills":
            sp.add_argument("--top-k", type=int, default=10)
            sp.add_argument("--taxonomy-source", choices=["esco", "onet"], default=None)
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
    except (FileNotFoundError, ValueError) as exc:
        print(f"skillmatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    if result is not None:
        adhoc = args.command == "rank-skills" or (args.command == "extract" and getattr(args, "input", None))
        print(json.dumps(result, indent=2, default=str), file=sys.stderr if adhoc else sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
