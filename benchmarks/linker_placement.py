"""Where the fine-tuned sentence linker helps ``rank-skills``: Decorte TECH / HOUSE validation RP@5 and MRR with the
packaged encoder, the linker on whole sentences only (what ``rank-skills`` does), on spans only, and on both.

The linker is the promoted one (``models/promoted_linker.json``) or ``--linker FOLDER``; scoring is the reference
scorer's (``rank_sentences`` top-10 over ESCO, gold = lowercased ESCO preferred labels), beside the meta.json's
own held-out pairs score. Run from the project root after ``make setup``::

    .venv/bin/python benchmarks/linker_placement.py            # a few minutes on 2 CPU cores
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from skillmatch.config import load_settings
from skillmatch.extraction.encoder import encode, inference_precision
from skillmatch.extraction.extract import SkillIndex
from skillmatch.extraction.linker import decorte_scores, decorte_validation, promoted_linker_path
from skillmatch.taxonomy.build import read_dim_skill


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--linker", help="linker folder (default: the promoted one)")
    args = ap.parse_args()
    s = load_settings()
    folder = Path(args.linker) if args.linker else promoted_linker_path(s.model_dir)
    if folder is None or not (folder / "meta.json").is_file():
        sys.exit("no linker: run `skillmatch train-linker` (make setup) or pass --linker FOLDER")
    if s.shared_dir is None:
        sys.exit("the Decorte validation sets are read from ../shared/data/eval")
    index = SkillIndex(read_dim_skill(s), s)
    sets = decorte_validation(s.shared_dir / "eval")
    packaged = lambda t: encode(t, index.device)  # noqa: E731
    linker = lambda t: encode(t, index.device, path=folder)  # noqa: E731
    rows = {"packaged encoder": (packaged, packaged), "linker on sentences (rank-skills)": (linker, packaged),
            "linker on spans": (packaged, linker), "linker on both": (linker, linker)}
    print(f"linker {folder.name}, device {index.device} ({inference_precision(index.device)}), "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| encoder of sentences / spans | TECH RP@5 | TECH MRR | HOUSE RP@5 | HOUSE MRR | mean RP@5 |")
    print("|---|---|---|---|---|---|")
    for name, (sent, span) in rows.items():
        r = decorte_scores(index, sets, sent, span)
        print(f"| {name} | {r['tech']['RP@5']:.3f} | {r['tech']['MRR']:.3f} | {r['house']['RP@5']:.3f} | "
              f"{r['house']['MRR']:.3f} | {r['mean']['RP@5']:.3f} |", flush=True)
    meta = json.loads((folder / "meta.json").read_text())
    print(f"held-out pairs RP@5 (meta.json): packaged {meta['held_out_rp5']['base']}, linker "
          f"{meta['held_out_rp5']['linker']} ({meta['pairs']['held_out']} sentences of held-out documents)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
