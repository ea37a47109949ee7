"""Where the span tagger's SkillSpan dev F1 differs between its own evaluation and the ``extract`` contract.

The tagger's evaluation (``tagger.evaluate``, kept in the model's ``meta.json``) tags SkillSpan's own tokens; the
``extract`` contract the reference scorer reads (``tools/eval_extraction.py``) tags the joined text, split into words
by ``tagger.word_spans``, which cuts trailing punctuation off a word ("SQL;" -> "SQL" + ";"). SkillSpan keeps some
of it on the token, and some gold spans end with it. This script tags SkillSpan dev both ways with the promoted tagger
(or ``--tagger``) at its calibrated confidence floor, scores both against the gold spans as the reference scorer does
(exact character spans, skill and knowledge together), splits the sentences by whether the two word lists agree, and
counts the gold spans missed only because their end holds such punctuation while the same words without it were
predicted.

    .venv/bin/python benchmarks/tagger_word_split.py [--tagger models/tagger-...] [--shared ../shared/data]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tagger", type=Path, default=None, help="tagger folder (default: the promoted one in models/)")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    a = ap.parse_args(argv)
    from skillmatch.config import load_settings
    from skillmatch.extraction.tagger import (CLOSING_PUNCTUATION, SPAN_TYPES, SpanTagger, bio_spans, promoted_version,
                                              read_skillspan, span_f1, word_spans)

    models = ROOT / "models"
    folder = a.tagger or models / str(promoted_version(models, load_settings().tagger_base)["version"])
    tagger = SpanTagger(folder, "cpu")
    dev = read_skillspan(a.shared / "eval" / "skillspan" / "dev.json")
    texts = [" ".join(e.tokens) for e in dev]
    gold_words = [{s for ty in SPAN_TYPES for s in bio_spans(e.tags[ty])} for e in dev]
    gold = []
    for e, spans in zip(dev, gold_words):
        starts = [sum(len(t) + 1 for t in e.tokens[:i]) for i in range(len(e.tokens))]
        gold.append({(starts[s], starts[t - 1] + len(e.tokens[t - 1])) for s, t in spans})
    by_words = [{(s, t) for s, t, _, _ in p} for p in tagger.tag_words([e.tokens for e in dev])]
    by_text = [{(s, t) for s, t, _, _ in p} for p in tagger.tag(texts)]
    same = [[x[s:t] for s, t in word_spans(x)] == list(e.tokens) for x, e in zip(texts, dev)]
    print(f"tagger {folder.name}, confidence floor {tagger.min_confidence}, SkillSpan dev {len(dev)} sentences, "
          f"{sum(map(len, gold))} gold spans")
    print("| sentences | n | own tokens P / R / F1 | extract's words P / R / F1 |\n|---|---|---|---|")
    for name, keep in (("all", lambda i: True), ("word lists agree", lambda i: same[i]),
                       ("word lists differ", lambda i: not same[i])):
        ix = [i for i in range(len(dev)) if keep(i)]
        cells = []
        for g, p in ((gold_words, by_words), (gold, by_text)):
            f = span_f1([g[i] for i in ix], [p[i] for i in ix])
            cells.append(f"{f['precision']:.3f} / {f['recall']:.3f} / {f['f1']:.3f}")
        print(f"| {name} | {len(ix)} | {cells[0]} | {cells[1]} |")
    tp = [sum(len(g & p) for g, p in zip(gs, ps)) for gs, ps in ((gold_words, by_words), (gold, by_text))]
    cut = sum(1 for i in range(len(dev)) for s, t in gold[i] - by_text[i]
              if (end := len(texts[i][s:t].rstrip(CLOSING_PUNCTUATION))) < t - s and (s, s + end) in by_text[i])
    print(f"true positives: own tokens {tp[0]}, extract's words {tp[1]}; predicted spans {sum(map(len, by_words))} / "
          f"{sum(map(len, by_text))}; gold spans missed only for the punctuation their end holds: {cut}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
