"""What a change to the span-link rules does to the nightly skill facts of every silver document, before and after.

"Before" is another checkout of the package (``--baseline``, e.g. ``git worktree add /tmp/base <commit>``), "after"
this one; each runs :func:`skillmatch.extraction.extract.extract_documents` in its own process over the same silver
postings and resumes, with the same promoted models, reading the tagger's spans and the encoders' vectors from the
lake's per-text caches (``make run`` fills them), so only the linking and the rules run again. The caches are
read, never written. Prints facts per method before and after, the tagger+linker facts of one-word spans, and the
(surface, concept) pairs whose fact count changed most.

Run (a few minutes on 2 CPU cores after a ``make run``)::

    git worktree add /tmp/base 2d81262
    .venv/bin/python benchmarks/link_rule_effect.py --baseline /tmp/base
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from alias_rule_effect import print_largest_changes  # noqa: E402 - the sibling script (benchmarks/ is on the path)

ROOT = Path(__file__).resolve().parents[1]


def facts(include: str) -> dict[str, object]:
    """Skill facts per entity with the package under ``include``: rows per method, one-word tagger facts, and
    tagger+linker facts per (lowercased surface, preferred label)."""
    sys.path.insert(0, include)
    import pandas as pd

    from skillmatch.config import load_settings
    from skillmatch.extraction.extract import SkillIndex, extract_documents
    from skillmatch.extraction.stage import text_caches
    from skillmatch.taxonomy.build import read_dim_skill

    settings = load_settings()
    index = SkillIndex(read_dim_skill(settings), settings)
    out: dict[str, object] = {}
    for entity, id_col in (("postings", "posting_id"), ("resumes", "candidate_id")):
        docs = pd.read_parquet(settings.lake("silver", f"{entity}.parquet"), columns=[id_col, "text"])
        docs = docs.rename(columns={id_col: "doc_id"}).sort_values("doc_id").reset_index(drop=True)
        rows, _ = extract_documents(docs, index, settings, text_caches(settings, entity, index),
                                    postings=entity == "postings")
        tagged = rows[rows["method"] == "tagger+linker"]
        one_word = tagged["surface_form"].str.strip().str.split().str.len() == 1
        pairs = collections.Counter(f"{s.lower()}\t{lbl}" for s, lbl in zip(tagged["surface_form"],
                                                                           tagged["preferred_label"]))
        out[entity] = {"docs": len(docs), "facts": len(rows), "by_method": rows["method"].value_counts().to_dict(),
                       "one_word_tagger": int(one_word.sum()), "pairs": dict(pairs)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="root of the checkout to compare against")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--save", help="also write both runs' counts to this JSON file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(facts(args.child)))
        return
    env = {**os.environ, "SKILLMATCH_DATA_DIR": os.environ.get("SKILLMATCH_DATA_DIR", str(ROOT / "data")),
           "SKILLMATCH_MODEL_DIR": os.environ.get("SKILLMATCH_MODEL_DIR", str(ROOT / "models"))}
    runs = {}
    for name, root in (("before", Path(args.baseline)), ("after", ROOT)):
        cmd = [sys.executable, __file__, "--baseline", args.baseline, "--child", str(root / "include")]
        runs[name] = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
    if args.save:
        Path(args.save).write_text(json.dumps(runs))
    entities = list(runs["before"])
    print(f"| facts | {' | '.join(entities)} |\n|---|{'---|' * len(entities)}")

    def cell(entity: str, get) -> str:  # noqa: ANN001
        nb, na = (get(runs[r][entity]) for r in ("before", "after"))
        return f"{nb:,} -> {na:,} ({(na - nb) / max(nb, 1):+.1%})"

    print(f"| all | {' | '.join(cell(e, lambda r: r['facts']) for e in entities)} |")
    for method in ("alias", "tagger+linker", "sentence-linker"):
        print(f"| {method} | {' | '.join(cell(e, lambda r: r['by_method'].get(method, 0)) for e in entities)} |")
    print(f"| tagger+linker, one-word spans | {' | '.join(cell(e, lambda r: r['one_word_tagger']) for e in entities)} |")
    for entity in entities:
        print_largest_changes(runs["before"][entity]["pairs"], runs["after"][entity]["pairs"], args.top,
                              f"{entity}: the {args.top} largest changes in tagger+linker facts")


if __name__ == "__main__":
    main()
