"""How much the sentence linker's gate result hangs on the training draw: train linkers over several seeds and
training-set sizes, side by side with the packaged encoder, and print each one's held-out and Decorte scores.

The gate scores a linker on Decorte TECH + HOUSE validation (136 sentences, ``rank-skills``'s scoring over ESCO,
the mean of both sets). Each row trains one linker with :func:`train_linker` exactly as ``skillmatch
train-linker`` does, but with the given ``seed`` and ``max_pairs`` (0: every training pair), into a scratch model
folder: nothing is promoted, and the project's ``models/`` is only read (its label-embedding cache and its promoted
tagger, which the scoring uses; ``--tagger`` picks another tagger folder, e.g. the one a clean clone's ``make
setup`` trained). ``--fresh`` reads the postings from the sources, as a clean clone's ``make setup`` does, instead
of the lake's silver table. Per row: RP@5 and MRR of the packaged encoder / the linker, the gain with the 5th-95th
percentiles and the share above 0 of a paired bootstrap over the sentences (4,000 draws), the former rule (RP@5
gain >= ``SKILLMATCH_LINKER_GATE_MARGIN``) and the current gate (:func:`gate_refusal`).

    .venv/bin/python benchmarks/linker_gate_stability.py --seeds 0 1 2 --max-pairs 8000 0 [--fresh] [--tagger DIR]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scratch_model_dir(models: Path, tagger: Path | None, where: Path) -> Path:
    """A model folder holding links to ``models``' embedding cache and one tagger (promoted), and no linker."""
    out = where / "models"
    out.mkdir(parents=True)
    (out / "cache").symlink_to((models / "cache").resolve(), target_is_directory=True)
    from skillmatch.config import load_settings
    from skillmatch.extraction.tagger import PROMOTED_FILE, model_base, promoted_version

    if tagger is None:
        rec = promoted_version(models, load_settings().tagger_base)
        tagger = models / str(rec["version"]) if rec else None
    if tagger is not None:
        (out / tagger.name).symlink_to(tagger.resolve(), target_is_directory=True)
        (out / PROMOTED_FILE).write_text(json.dumps({model_base(tagger): {"version": tagger.name}}))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--max-pairs", type=int, nargs="+", default=[8000, 0], help="0: every training pair")
    ap.add_argument("--models", type=Path, default=ROOT / "models")
    ap.add_argument("--tagger", type=Path, default=None, help="tagger folder (default: the promoted one)")
    ap.add_argument("--fresh", action="store_true",
                    help="read the postings from the sources, as a clean clone's make setup does (no silver table)")
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="linker-gate-"))
    os.environ["SKILLMATCH_MODEL_DIR"] = str(scratch_model_dir(a.models, a.tagger, work))
    if a.fresh:  # a lake holding only the taxonomy: posting sentences come from the configured file sources
        lake = Path(os.environ.get("SKILLMATCH_DATA_DIR") or ROOT / "data")
        (work / "data").mkdir()
        (work / "data" / "taxonomy").symlink_to((lake / "taxonomy").resolve(), target_is_directory=True)
        os.environ["SKILLMATCH_DATA_DIR"] = str(work / "data")
    from skillmatch.config import load_settings
    from skillmatch.extraction.linker import LinkerConfig, gate_refusal, paired_gain_interval, train_linker

    settings = load_settings()
    margin = settings.linker_gate_margin
    rows = []
    print(f"{'max_pairs':>9} {'seed':>4} {'pairs':>6} {'train':>6} {'train s':>7} {'held-out b/o':>13} "
          f"{'RP@5 b/o':>13} {'RP@5 gain [90%]':>24} {'P>0':>5} {'MRR b/o':>13} {'MRR gain [90%]':>24} {'P>0':>5} "
          f"{'RP@5 rule':>9}  gate", flush=True)
    try:
        for max_pairs in a.max_pairs:
            for seed in a.seeds:
                cfg = LinkerConfig(max_pairs=max_pairs or 10**9, seed=seed)
                t0 = time.time()
                folder = train_linker(settings, cfg)
                meta = json.loads((folder / "meta.json").read_text())
                shutil.rmtree(folder)
                d, held, by = meta["decorte"], meta["held_out_rp5"], meta["decorte_by_sentence"]
                rp, mrr = ((d["base"]["mean"][m], d["linker"]["mean"][m],
                            *paired_gain_interval(by["base"], by["linker"], col))
                           for m, col in (("RP@5", "RP@5"), ("MRR", "RR")))
                row = {"max_pairs": max_pairs, "seed": seed, "pairs": meta["pairs"]["total"],
                       "train_pairs": meta["pairs"]["train"], "train_seconds": meta["train_seconds"],
                       "seconds": round(time.time() - t0, 1), "held_out_rp5": held, "decorte": d,
                       **{f"{m}_gain": {"base": v[0], "ours": v[1], "gain": round(v[1] - v[0], 4), "p5": v[2],
                                        "p95": v[3], "p_above_0": v[4]} for m, v in (("rp5", rp), ("mrr", mrr))},
                       "rp5_margin_rule": rp[1] >= rp[0] + margin and held["linker"] > held["base"],
                       "gate": gate_refusal(meta, margin) or "pass"}
                rows.append(row)
                cells = " ".join(f"{v[0]:.4f}/{v[1]:.4f} {v[1] - v[0]:>+8.4f} [{v[2]:+.3f}, {v[3]:+.3f}] {v[4]:>5.2f}"
                                 for v in (rp, mrr))
                print(f"{max_pairs or 'all':>9} {seed:>4} {row['pairs']:>6} {row['train_pairs']:>6} "
                      f"{row['train_seconds']:>7.0f} {held['base']:.4f}/{held['linker']:.4f} {cells} "
                      f"{'pass' if row['rp5_margin_rule'] else 'FAIL':>9}  {row['gate']}", flush=True)
                if a.json:
                    a.json.write_text(json.dumps(rows, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
