"""Span taggers trained from different bases, side by side: quality on SkillSpan dev and tagging speed.

Each tagger folder (``--tagger``, two or more: the anchor first) tags the same text in each precision asked for
(``--precision fp32 bf16``): SkillSpan dev joined into text, as the reference scorer's ``extract`` sees it
(``tagger.word_spans``), and the opening sentences of the shared postings. For each it prints sentences per
second, the peak resident memory of the run, and span precision / recall / F1 on dev (exact character spans,
skill and knowledge together, at the tagger's calibrated confidence floor) beside the tagger's own per-type F1 from
its ``meta.json``. The taggers run one after the other in this process, in the order given, and each is timed
after a warm-up batch. Peak RSS only grows, so the column is the high-water mark so far.

    .venv/bin/python benchmarks/tagger_bases.py --tagger models/tagger-A models/tagger-B [--precision fp32 bf16]
        [--postings 2000] [--shared ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tagger", type=Path, nargs="+", required=True, help="tagger folders, the anchor first")
    ap.add_argument("--precision", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--postings", type=int, default=2000, help="posting sentences to tag")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    a = ap.parse_args(argv)
    from skillmatch.config import load_settings
    from skillmatch.extraction.tagger import (SPAN_TYPES, SpanTagger, bio_spans, posting_sentences, read_skillspan,
                                              span_f1)

    dev = read_skillspan(a.shared / "eval" / "skillspan" / "dev.json")
    texts = [" ".join(e.tokens) for e in dev]
    gold = []
    for e in dev:
        starts = [sum(len(t) + 1 for t in e.tokens[:i]) for i in range(len(e.tokens))]
        gold.append({(starts[s], starts[t - 1] + len(e.tokens[t - 1]))
                     for ty in SPAN_TYPES for s, t in bio_spans(e.tags[ty])})
    postings = posting_sentences(load_settings(), a.postings)
    rows = []
    for precision in a.precision:
        os.environ["SKILLMATCH_CPU_PRECISION"] = precision
        for folder in a.tagger:
            tagger = SpanTagger(folder, "cpu")
            meta = tagger.meta
            tagger.tag(texts[:64])  # warm-up
            t0 = time.perf_counter()
            pred = tagger.tag(texts)
            dev_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            tagger.tag(postings)
            post_s = time.perf_counter() - t0
            f = span_f1(gold, [{(s, e) for s, e, _, _ in p} for p in pred])
            own = meta.get("dev", {})
            rows.append({
                "tagger": folder.name, "base": meta.get("base_model", "all-MiniLM-L6-v2"), "precision": precision,
                "dev sent/s": round(len(texts) / dev_s, 1), "posting sent/s": round(len(postings) / post_s, 1),
                "peak RSS MB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "dev P": round(f["precision"], 3), "dev R": round(f["recall"], 3), "dev F1": round(f["f1"], 3),
                "own skill F1": own.get("skill", {}).get("f1"), "own knowledge F1": own.get("knowledge", {}).get("f1"),
            })
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
            del tagger
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")
    print(f"\n{len(texts)} SkillSpan dev sentences, {len(postings)} posting sentences, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
