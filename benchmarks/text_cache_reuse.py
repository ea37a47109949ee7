"""What the per-text cache saves a night: new postings extracted with the cache of earlier nights vs cold.

From the local lake's silver postings (``make run`` builds it) it takes the first ``--seen`` postings as earlier
nights and the next ``--new`` as tonight's, then times, each in a fresh temporary lake on the same taxonomy:

- cold:  tonight's postings alone (empty text cache);
- warm:  the earlier postings first (filling the cache), then tonight's, timed alone.

It prints how many fact rows of the new postings agree between the two runs (texts that share an encoder or tagger
batch differently can move a score by ~1e-7, enough to break a tie or cross a threshold), the warm run's cache hit
rates (log lines), and the share of a night's sentences already seen after more earlier postings (no extraction).

  .venv/bin/python benchmarks/text_cache_reuse.py [--seen 300] [--new 300]
"""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=os.environ.get("SKILLMATCH_DATA_DIR", "data"))
    ap.add_argument("--seen", type=int, default=300)
    ap.add_argument("--new", type=int, default=300)
    a = ap.parse_args(argv)
    import pandas as pd

    from skillmatch.config import load_settings
    from skillmatch.extraction.stage import extract_entity, text_caches
    from skillmatch.extraction.extract import SkillIndex
    from skillmatch.lake import read_parquet, write_parquet_atomic
    from skillmatch.taxonomy.build import read_dim_skill

    logging.basicConfig(level=logging.WARNING)
    src = Path(a.data_dir)
    silver = read_parquet(src / "silver" / "postings.parquet").sort_values("posting_id").reset_index(drop=True)
    dim = read_parquet(src / "taxonomy" / "dim_skill.parquet")
    seen, new = silver.iloc[: a.seen], silver.iloc[a.seen: a.seen + a.new]
    os.environ["SKILLMATCH_LOCAL_DIR"] = tempfile.mkdtemp(prefix="tc-local-")

    def lake(name: str, docs: pd.DataFrame):  # noqa: ANN202
        os.environ["SKILLMATCH_DATA_DIR"] = tempfile.mkdtemp(prefix=f"tc-{name}-")
        s = load_settings()
        write_parquet_atomic(dim, s.lake("taxonomy", "dim_skill.parquet"))
        write_parquet_atomic(docs, s.lake("silver", "postings.parquet"))
        return s

    cold = lake("cold", new.head(5))
    index = SkillIndex(read_dim_skill(cold), cold)
    extract_entity(cold, "postings", index)  # warm-up: model loads, label embeddings
    cold = lake("cold2", new)
    t = time.perf_counter()
    extract_entity(cold, "postings", index)
    t_cold = time.perf_counter() - t
    warm = lake("warm", seen)
    extract_entity(warm, "postings", index)
    write_parquet_atomic(pd.concat([seen, new]), warm.lake("silver", "postings.parquet"))
    logging.getLogger("skillmatch.extraction.extract").setLevel(logging.INFO)  # the caches' hit rates
    t = time.perf_counter()
    counts = extract_entity(warm, "postings", index)
    t_warm = time.perf_counter() - t
    caches = text_caches(warm, "postings", index)
    f_cold = read_parquet(cold.lake("gold", "fact_posting_skill.parquet"))
    f_warm = read_parquet(warm.lake("gold", "fact_posting_skill.parquet"))
    f_warm = f_warm[f_warm["doc_id"].isin(set(f_cold["doc_id"]))]
    key = ["doc_id", "skill_id", "method", "char_start", "char_end"]
    both = f_cold.merge(f_warm, on=key, suffixes=("_c", "_w"))
    agree = int((both["score_c"] - both["score_w"]).abs().le(1e-4).sum())
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} · {os.cpu_count()} CPUs · device {index.device} · "
          f"{len(seen):,} earlier postings, {len(new):,} new")
    print("| run | new postings | seconds | postings/s |")
    print("|---|---|---|---|")
    print(f"| cold (empty text cache) | {len(new):,} | {t_cold:.1f} | {len(new) / t_cold:.2f} |")
    print(f"| warm (cache of the {len(seen):,} earlier postings) | {counts['extracted']:,} | {t_warm:.1f} | "
          f"{counts['extracted'] / t_warm:.2f} |")
    print(f"\nfacts of the new postings: {agree:,} rows alike in both runs, of {len(f_cold):,} cold and "
          f"{len(f_warm):,} warm; the cache now holds {len(caches.embedding.known):,} embeddings"
          + (f" and {len(caches.tags.known):,} tagged sentences" if caches.tags is not None else ""))
    print("\nsentence reuse (what the cache could serve): share of a night's distinct sentences (first 24 per "
          "posting) seen in the earlier postings")
    print("| earlier postings | new postings | distinct sentences | seen before |")
    print("|---|---|---|---|")
    for n_seen in sorted({a.seen, 1000, 2000, len(silver) - a.new}):
        if n_seen > len(silver) - a.new:
            continue
        before = {t for text in silver["text"].iloc[:n_seen] for t in _sentences(text)}
        tonight = {t for text in silver["text"].iloc[n_seen:n_seen + a.new] for t in _sentences(text)}
        print(f"| {n_seen:,} | {a.new:,} | {len(tonight):,} | {len(tonight & before) / max(len(tonight), 1):.1%} |")
    return 0


def _sentences(text: str) -> list[str]:
    from skillmatch.extraction.encoder import split_sentences

    return [text[s:e] for s, e in split_sentences(text)[:24]]


if __name__ == "__main__":
    raise SystemExit(main())
