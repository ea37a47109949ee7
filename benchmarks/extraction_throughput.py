"""Extraction throughput on one device (CPU or CUDA), stage by stage, in one process after a warm-up.

Rows (each timed after a warm-up pass on the first 256 inputs, so model loads, CUDA context and kernel choice stay
out of the rate; cold start is its own row):

- cold start:       read ``dim_skill``, build the alias automaton, load the encoder and the promoted tagger, and
                    embed every concept label and name (or read them from the cache under the model folder);
- tokenize only:    the encoder's tokenizer over the sentences, one thread and all cores;
- encode:           the sentence encoder alone (``encoder.encode``) at each ``--batch-sizes``, through
                    ``SentenceTransformer.encode`` and through the direct path (the CUDA default);
- linker inference: encode + cosine against every concept's preferred label + top-10 (``SkillIndex.rank``): the
                    sentence linker, what issue 5's ">= 20,000 sentences/s on a GPU" goal counts;
- span linker:      encode + the best of every concept name (108k labels and aliases) + top-1, on the distinct
                    spans the tagger finds in the sentences;
- tagger:           ``SpanTagger.tag`` (the fine-tuned token classifier), 64 and 256 sentences a batch;
- rank-skills path: ``rank_sentences`` top-10 over ESCO (sentence + tagger/alias spans), the CLI contract's work,
                    on the first ``--n-path-sentences``;
- extract path:     ``extract_spans`` over whole postings (``skillmatch extract --input``'s work), documents/s;
- nightly path:     ``extract_documents`` (alias + tagger + span linker + sentence linker, the DAG's work).

Inputs are files so the same run works where the shared data is not (a GPU machine):
``--prepare OUT`` writes ``OUT/sentences.txt`` (distinct posting sentences of 30-400 characters) and
``OUT/postings.jsonl`` (``{"id", "text"}``) from the shared postings.

  .venv/bin/python benchmarks/extraction_throughput.py --prepare .cache/bench-extraction
  .venv/bin/python benchmarks/extraction_throughput.py --sentences .cache/bench-extraction/sentences.txt \\
      --docs .cache/bench-extraction/postings.jsonl [--device cpu|cuda] [--n-sentences N] [--n-docs N]
  (on the CPU, run it under SKILLMATCH_CPU_PRECISION=fp32 and =bf16 to compare the precisions; the header names
  the one in use)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

WARM = 256


POSTING_FOLDERS = ("linkedin-2023-24-sample", "linkedin-ca-2018", "glassdoor-2020")  # the CSV sources


def prepare(out: Path, shared: Path, n_sentences: int, n_docs: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from esco_extractor_side_by_side import descriptions, posting_sentences

    out.mkdir(parents=True, exist_ok=True)
    sents: dict[str, None] = {}
    docs: list[dict[str, str]] = []
    for folder in POSTING_FOLDERS:
        sents.update(dict.fromkeys(posting_sentences(shared / "postings" / folder, n_sentences, exact=False)))
        docs.extend({"id": f"{folder}/{i}", "text": t.strip()} for i, t in descriptions(shared / "postings" / folder)
                    if t.strip())
    lines = list(sents)[:n_sentences]
    (out / "sentences.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(out / "postings.jsonl", "w", encoding="utf-8") as f:
        for d in docs[:n_docs]:
            f.write(json.dumps(d) + "\n")
    print(f"wrote {len(lines):,} sentences and {min(len(docs), n_docs):,} postings to {out}")


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def timed(fn, device: str):  # noqa: ANN001, ANN201
    _sync(device)
    t = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prepare", type=Path, help="write the input files to this folder and stop")
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    ap.add_argument("--sentences", type=Path)
    ap.add_argument("--docs", type=Path)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n-sentences", type=int, default=2000)
    ap.add_argument("--n-docs", type=int, default=200)
    ap.add_argument("--n-path-sentences", type=int, default=None, help="sentences for the rank-skills row")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[128])
    ap.add_argument("--json", type=Path, help="also write the rows here")
    a = ap.parse_args(argv)
    if a.prepare:
        prepare(a.prepare, a.shared, a.n_sentences, a.n_docs)
        return 0
    os.environ["SKILLMATCH_DEVICE"] = a.device
    t_imp = time.perf_counter()
    import numpy as np
    import pandas as pd
    import torch

    from skillmatch.config import load_settings
    from skillmatch.extraction import encoder
    from skillmatch.extraction.extract import SkillIndex, extract_documents, extract_spans, rank_sentences
    from skillmatch.taxonomy.build import read_dim_skill

    imports = time.perf_counter() - t_imp
    settings = load_settings()
    sents = [s for s in a.sentences.read_text(encoding="utf-8").splitlines() if s.strip()][: a.n_sentences]
    rows_in = [json.loads(x) for x in a.docs.read_text(encoding="utf-8").splitlines() if x.strip()][: a.n_docs]
    docs = pd.DataFrame({"doc_id": [r["id"] for r in rows_in], "text": [r["text"] for r in rows_in]})
    dev = encoder.resolve_device(a.device)
    gpu = torch.cuda.get_device_name(0) if dev.startswith("cuda") else "none"
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} · {platform.node()} · {os.cpu_count()} CPUs · torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads) · device {dev} "
          f"({encoder.inference_precision(dev)}; SKILLMATCH_CPU_PRECISION picks fp32 or bf16 on the CPU) · GPU {gpu}")
    print(f"# {len(sents):,} posting sentences (mean {np.mean([len(s) for s in sents]):.0f} chars), "
          f"{len(docs):,} postings (mean {docs['text'].str.len().mean():.0f} chars)")
    results: list[dict[str, object]] = []

    def row(what: str, n: int, seconds: float, unit: str = "sentences") -> None:
        rate = n / seconds if seconds > 0 else float("inf")
        results.append({"what": what, "n": n, "seconds": round(seconds, 3), "rate": round(rate, 1), "unit": unit})
        shown = f"{rate:,.0f} {unit}/s" if n > 1 else ""
        print(f"| {what} | {f'{n:,} {unit}' if n > 1 else ''} | {seconds:.3f} | {shown} |", flush=True)

    print("| stage | input | seconds | rate |")
    print("|---|---|---|---|")
    row("imports (torch, pandas, skillmatch)", 1, imports, "process")
    t = time.perf_counter()
    index = SkillIndex(read_dim_skill(settings), settings)
    _ = index.matcher
    encoder.load_encoder(dev)
    tagger = index.tagger
    t_lab = time.perf_counter()
    _ = index.label_emb, index.surface_emb
    lab = time.perf_counter() - t_lab
    cold = time.perf_counter() - t
    row(f"cold start: taxonomy, automaton, encoder, tagger, label embeddings ({lab:.1f} s of it: "
        f"{len(index.dim_skill):,} labels + {len(index.surface_emb[0]):,} names)", 1, cold, "start")
    tok = encoder.load_encoder(dev).tokenizer
    for par in ("false", "true"):  # the tokenizer alone, one thread (the encoder's setting) and all cores
        os.environ["TOKENIZERS_PARALLELISM"] = par
        sec, _ = timed(lambda: [tok(sents[b:b + 1024], padding=True, truncation=True, max_length=64)
                                for b in range(0, len(sents), 1024)], "cpu")
        row(f"tokenize only, batch 1024, TOKENIZERS_PARALLELISM={par}", len(sents), sec)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    for direct in (False, True):
        for bs in a.batch_sizes:
            encoder.encode(sents[:WARM], dev, batch_size=bs, direct=direct)
            sec, _ = timed(lambda: encoder.encode(sents, dev, batch_size=bs, direct=direct), dev)
            how = "modules run directly" if direct else "SentenceTransformer.encode"
            row(f"encode ({how}), batch {bs}", len(sents), sec)
    for par in ("false", "true"):
        os.environ["TOKENIZERS_PARALLELISM"] = par
        for bs in a.batch_sizes if par == "false" else a.batch_sizes[-1:]:
            index.rank(encoder.encode(sents[:WARM], dev, batch_size=bs), top_k=10)
            sec, _ = timed(lambda: index.rank(encoder.encode(sents, dev, batch_size=bs), top_k=10), dev)
            row(f"linker inference: encode + rank vs {len(index.dim_skill):,} concepts, top-10, batch {bs}"
                + (", tokenizer on all cores" if par == "true" else ""), len(sents), sec)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    if tagger is not None:
        for bs in (64, 256):
            tagger.tag(sents[:WARM], batch_size=bs)
            sec, tagged = timed(lambda: tagger.tag(sents, batch_size=bs), dev)
            row(f"tagger (fine-tuned token classifier), batch {bs}", len(sents), sec)
        spans = sorted({s[a:b] for s, found in zip(sents, tagged) for a, b, _t, _c in found})
        if spans:
            index.rank(encoder.encode(spans[:WARM], dev), top_k=1, by_surface=True)
            sec, _ = timed(lambda: index.rank(encoder.encode(spans, dev), top_k=1, by_surface=True), dev)
            row(f"span linker: encode + best of {len(index.surface_emb[0]):,} names, top-1 (distinct spans)",
                len(spans), sec, "spans")
    path_sents = sents[: a.n_path_sentences]
    rank_sentences(path_sents[:WARM], index, 10, "esco")
    sec, _ = timed(lambda: rank_sentences(path_sents, index, 10, "esco"), dev)
    row("rank-skills path (sentence + spans, ESCO, top-10)", len(path_sents), sec)
    extract_spans(docs.head(20), index, settings)
    sec, spans_df = timed(lambda: extract_spans(docs, index, settings), dev)
    row(f"extract --input path over whole postings ({len(spans_df):,} spans)", len(docs), sec, "documents")
    extract_documents(docs.head(20), index, settings)
    sec, (facts, _emb) = timed(lambda: extract_documents(docs, index, settings), dev)
    row(f"nightly path, extract_documents ({len(facts):,} facts)", len(docs), sec, "documents")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu_peak = f", peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:,.0f} MiB" if dev.startswith("cuda") \
        else ""
    print(f"\npeak RSS {peak:,.0f} MiB{gpu_peak}")
    if a.json:
        a.json.write_text(json.dumps({"device": dev, "gpu": gpu, "rows": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
