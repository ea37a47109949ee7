"""The nightly link threshold: set P / R / F1 of the nightly skill facts on the Decorte validation sentences, by the
minimum cosine a tagger span's link needs (``SKILLMATCH_LINK_THRESHOLD``), and what each floor keeps of the lake.

Each Decorte validation sentence (TECH and HOUSE, Decorte et al. 2023; gold: the ESCO skills annotators gave it) is
read as a one-sentence document by the nightly extraction (:func:`skillmatch.extraction.extract.extract_mentions`
with the promoted tagger and linker: alias hits, tagger spans linked to their nearest concept, sentences linked as
a whole), then filtered as :func:`extract_documents` filters facts (the span-link rules of
:func:`plausible_links`) at each floor. Scores are micro set precision / recall / F1 of the ESCO skills a sentence
gets against its gold set, as ``esco_extractor_side_by_side.py`` scores them. The gold sets name one to three
skills per sentence, so a right extra skill counts against precision: compare floors with each other, not with a
complete annotation. The lake columns count the tagger+linker facts of the last ``make run`` at or above each floor.

    .venv/bin/python benchmarks/link_threshold.py [--shared ../shared/data] [--data data]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd
from esco_extractor_side_by_side import ESCO_SKILL_PREFIX, esco_uri_by_label, load_decorte, prf  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FLOORS = (0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--data", type=Path, default=ROOT / "data")
    a = ap.parse_args(argv)
    os.environ["SKILLMATCH_DATA_DIR"] = str(a.data.resolve())
    from skillmatch.config import load_settings
    from skillmatch.extraction.extract import SkillIndex, extract_mentions, plausible_links
    from skillmatch.lake import read_parquet
    from skillmatch.taxonomy.build import read_dim_skill

    esco_zip = next((a.shared / "taxonomy").glob("esco-*/*classification*csv.zip"))
    sents = load_decorte(a.shared / "eval" / "decorte", esco_uri_by_label(esco_zip))
    settings = load_settings()
    index = SkillIndex(read_dim_skill(settings), settings)
    t0 = time.time()
    docs = pd.DataFrame({"doc_id": [s.sid for s in sents], "text": [s.text for s in sents]})
    mentions, _ = extract_mentions(docs, index, settings, tag_chars=1 << 20)
    mentions = mentions[mentions["skill_id"].str.startswith(ESCO_SKILL_PREFIX)]
    tagged = (mentions["method"] == "tagger+linker").to_numpy()
    plausible = pd.Series(True, index=mentions.index)
    plausible[tagged] = plausible_links(mentions[tagged], index)
    print(f"{len(sents)} Decorte validation sentences ({sum(bool(s.gold) for s in sents)} with a gold skill), "
          f"extracted in {time.time() - t0:.1f} s; model version {index.model_version}\n")

    lake_scores = {}  # the tagger+linker facts' link scores of the last make run, per entity
    for e in ("posting", "candidate"):
        f = read_parquet(settings.lake("gold", f"fact_{e}_skill.parquet"), columns=["method", "score"])
        lake_scores[e] = f.loc[f["method"] == "tagger+linker", "score"]
    print("| link floor | TECH P / R / F1 | HOUSE P / R / F1 | both P / R / F1 | skills predicted | "
          "lake posting tagger+linker facts kept | lake resume tagger+linker facts kept |\n|---|---|---|---|---|---|---|")
    for floor in FLOORS:
        keep = ~tagged | ((mentions["score"] >= floor) & plausible).to_numpy()
        pred = mentions[keep].groupby("doc_id")["skill_id"].apply(set).to_dict()
        cells = []
        for group in (("tech",), ("house",), ("tech", "house")):
            p, r, f = prf(pred, [s for s in sents if s.set_name in group])
            cells.append(f"{p:.3f} / {r:.3f} / {f:.3f}")
        kept = [f"{int((sc >= floor).sum()):,} of {len(sc):,}" for sc in lake_scores.values()]
        print(f"| {floor:g} | {' | '.join(cells)} | {sum(len(v) for v in pred.values())} | {' | '.join(kept)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
