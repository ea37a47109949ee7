"""Scale benchmark on SYNTHETIC data (issue 8): per-stage wall time and peak memory vs size and shard count, and
the workers needed for 1M postings x 1M resumes nightly.

Data: :mod:`skillmatch.sources.scale_synth` (skills drawn with the shared postings' co-occurrence statistics,
template texts naming them). Every measurement runs in its own process (peak RSS = that process's high-water
mark, its child processes included, i.e. the largest shard when it runs several). A stage "on s shards" runs
each of the s shards **one after the other** on this machine and reports the per-shard time: the machine has 2
cores, so parallelism is projected from per-shard costs, never pretended. Stages:

- generate: N postings + N resumes as Parquet frames (docs + (doc_id, skill_id)), per shard an id range;
- ingest+validate: the real ``ingest_postings`` / ``validate_postings`` / ``ingest_resumes`` / ``validate_resumes``
  on a landing folder (postings CSV, resume TXT files) of the shard, each shard its own lake (writing the landing
  folder is not timed);
- extract: the real ``extract_documents`` (alias + span tagger + linker + sentence linker, CPU) on a sample of
  generated documents, then **extrapolated** per shard (cold start + docs / measured rate): extraction at 10k+
  documents does not fit in a benchmark run on 2 cores;
- match: ``top_k_matches`` + ``with_skill_lists`` (the nightly path from id-keyed skill sets to ``fact_match``
  rows), a shard = a range of candidates scored against all postings (the posting-side top-k of the shards is
  merged afterwards); embeddings are synthetic (a sum of random per-skill vectors, a shared direction and noise),
  since extraction is not run at these sizes; with ``--match-1m-shard M`` also one shard of M candidates against
  1M postings;
- paths: ``rank_learning_steps`` over the shard's candidates, from the match stage's ``fact_match``.

``--one-shard`` runs only the first shard of each shard count (the others cost the same; the total is then
projected). A measurement whose resident memory passes ``SCALE_BENCH_RSS_CAP_GIB`` (12 by default) stops itself
rather than push a shared machine into the OOM killer. Results are appended to ``<work>/results.jsonl``; the table
shows the latest run of each (stage, size, shards), then the projection for 1M x 1M nightly.

  .venv/bin/python benchmarks/scale_synthetic.py [--sizes 10000 100000] [--shards 1 2 4] [--stages ...] [--quick]
  .venv/bin/python benchmarks/scale_synthetic.py --sizes 1000000 --stages match --match-1m-shard 2000
  .venv/bin/python benchmarks/scale_synthetic.py --report      # table + projection from the results stored so far
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "scale-synth"  # fitted model and extraction caches, shared by every --work folder
STAGES = ["generate", "ingest", "extract", "match", "paths"]
WINDOW_S = 4 * 3600
RSS_CAP_GIB = float(os.environ.get("SCALE_BENCH_RSS_CAP_GIB", "12"))  # the machine is shared: stop, do not OOM it
NIGHTLY = 1_000_000
DIM = 384


# --- helpers run inside a child ------------------------------------------------------------------------------

def _stats(work: Path):  # noqa: ANN202 - SkillStats
    from skillmatch.config import load_settings
    from skillmatch.sources.scale_synth import load_or_fit_stats

    shared = load_settings().shared_dir
    if shared is None:
        raise SystemExit("the scale benchmark fits its statistics on ../shared/data, which is absent")
    return load_or_fit_stats(CACHE / "model", shared)


ONE_SHARD = os.environ.get("SCALE_BENCH_ONE_SHARD") == "1"


def _shard_ranges(n: int, shards: int) -> list[tuple[int, int]]:
    """Id ranges of ``shards`` equal shards (the generator makes any id range alone); with --one-shard only the
    first, whose cost stands for each of the others."""
    cuts = [n * i // shards for i in range(shards + 1)]
    ranges = [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
    return ranges[:1] if ONE_SHARD else ranges


def _data_dir(work: Path, n: int) -> Path:
    return work / f"data-{n}"


def run_generate(work: Path, n: int, shards: int) -> dict:
    """Generate N postings + N resumes as Parquet frames, shard by shard; s=1 output is kept for later stages."""
    from skillmatch.sources.scale_synth import write_frames

    stats = _stats(work)
    out = _data_dir(work, n) if shards == 1 else work / f"scratch-generate-{n}-{shards}"
    shutil.rmtree(out, ignore_errors=True)
    times, docs = [], []
    for a, b in _shard_ranges(n, shards):
        t = time.perf_counter()
        c1 = write_frames(stats, out, "postings", b - a, start=a)
        c2 = write_frames(stats, out, "resumes", b - a, start=a)
        times.append(time.perf_counter() - t)
        docs.append(c1["documents"] + c2["documents"])
    if shards != 1:
        shutil.rmtree(out, ignore_errors=True)
    return {"shard_seconds": times, "shard_docs": docs, "note": "postings + resumes, Parquet"}


def run_ingest(work: Path, n: int, shards: int) -> dict:
    """Real ingest + validation of each shard's landing folder into its own lake."""
    from skillmatch.config import load_settings
    from skillmatch.sources.ingest import ingest_postings, ingest_resumes
    from skillmatch.sources.scale_synth import SCALE_SOURCE, write_landing
    from skillmatch.validation.validate import validate_postings, validate_resumes

    stats = _stats(work)
    times, docs, landing_s, checks = [], [], [], []
    for i, (a, b) in enumerate(_shard_ranges(n, shards)):
        base = work / f"scratch-ingest-{n}-{shards}-{i}"
        shutil.rmtree(base, ignore_errors=True)
        t = time.perf_counter()
        config = write_landing(stats, base / "landing", b - a, b - a, start=a)
        landing_s.append(time.perf_counter() - t)
        os.environ["SKILLMATCH_SOURCES_CONFIG"] = str(config)
        settings = replace(load_settings(), data_dir=base / "lake", source_mode="shared")
        t = time.perf_counter()
        ip = ingest_postings(settings, "scale", SCALE_SOURCE)
        vp = validate_postings(settings, "scale")
        ir = ingest_resumes(settings, "scale")
        vr = validate_resumes(settings, "scale")
        times.append(time.perf_counter() - t)
        docs.append(2 * (b - a))
        checks.append({"postings_in": ip["appended"], "postings_silver": vp["silver"],
                       "postings_quarantine": vp["quarantine"], "resumes_in": ir["appended"],
                       "resumes_silver": vr["silver"], "resumes_quarantine": vr["quarantine"]})
        shutil.rmtree(base, ignore_errors=True)
    return {"shard_seconds": times, "shard_docs": docs, "landing_seconds": landing_s, "checks": checks,
            "note": "ingest + GX validation, postings and resumes (landing write not timed)"}


def run_extract(work: Path, sample: int) -> dict:
    """Real nightly extraction on ``sample`` generated postings and ``sample`` resumes; rates for projection."""
    from skillmatch.config import load_settings
    from skillmatch.extraction.encoder import split_sentences
    from skillmatch.extraction.extract import SkillIndex, extract_documents
    from skillmatch.sources.scale_synth import iter_chunks
    from skillmatch.taxonomy.load import load_official

    stats = _stats(work)
    os.environ.setdefault("SKILLMATCH_DEVICE", "cpu")
    settings = replace(load_settings(), data_dir=CACHE / "lake")  # its label-embedding cache outlives a run
    t = time.perf_counter()
    index = SkillIndex(load_official(settings.shared_dir)[0], settings)
    _ = (index.tagger, index.label_emb, index.surface_emb)
    cold = time.perf_counter() - t
    out = {"cold_start_seconds": cold, "tagger": index.model_version}
    for kind in ("postings", "resumes"):
        docs, skills = next(iter_chunks(stats, kind, sample))
        sentences = sum(len(split_sentences(x)) for x in docs["text"])
        t = time.perf_counter()
        facts, _emb = extract_documents(docs[["doc_id", "text"]], index, settings)
        dt = time.perf_counter() - t
        want = skills.groupby("doc_id")["skill_id"].apply(set)
        got = facts[facts["method"] == "alias"].groupby("doc_id")["skill_id"].apply(set)
        found = sum(len(want[d] & got.get(d, set())) for d in want.index)
        out[kind] = {"docs": len(docs), "seconds": dt, "docs_per_s": len(docs) / dt, "sentences": sentences,
                     "sentences_per_s": sentences / dt, "generated_skills_found": found / max(len(skills), 1),
                     "facts_per_doc": len(facts) / len(docs)}
    return out


def _embeddings(skills, ids: list[str], n_skills: int, skill_pos: dict[str, int],  # noqa: ANN001
                seed: int) -> np.ndarray:
    """Synthetic document vectors: the sum of random per-skill vectors (one fixed set for both sides), plus a
    direction every document shares (as raw MiniLM vectors do) and noise; unit length."""
    from scipy import sparse

    basis = np.random.default_rng(0).standard_normal((n_skills, DIM)).astype(np.float32)
    row = {d: i for i, d in enumerate(ids)}
    r = skills["doc_id"].map(row).to_numpy()
    c = skills["skill_id"].map(skill_pos).to_numpy()
    x = sparse.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(ids), n_skills))
    rng = np.random.default_rng(seed)
    out = np.empty((len(ids), DIM), np.float32)
    for a in range(0, len(ids), 100_000):  # in row blocks: no full-size temporaries at 1M documents
        e = np.asarray(x[a:a + 100_000] @ basis) + 2.0 * rng.standard_normal((min(100_000, len(ids) - a), DIM),
                                                                            dtype=np.float32) + 1.5
        out[a:a + len(e)] = e / np.linalg.norm(e, axis=1, keepdims=True)
    return out


def _match_inputs(work: Path, n_post: int, n_cand: int, data_n: int):  # noqa: ANN202
    """(posting facts, candidate facts, post ids, post emb, cand ids, cand emb, labels) from the generated data."""
    from skillmatch.sources.scale_synth import read_frames

    stats = _stats(work)
    pos = {s: i for i, s in enumerate(stats.skill_ids)}
    folder = _data_dir(work, data_n)
    ps = read_frames(folder, "postings")
    cs = read_frames(folder, "resumes")
    post_ids = sorted(read_frames(folder, "postings", "docs", ["doc_id"])["doc_id"])[:n_post]
    cand_ids = sorted(read_frames(folder, "resumes", "docs", ["doc_id"])["doc_id"])[:n_cand]
    ps, cs = ps[ps["doc_id"].isin(set(post_ids))], cs[cs["doc_id"].isin(set(cand_ids))]
    labels = dict(zip(stats.skill_ids, stats.surfaces))
    return (ps, cs, post_ids, _embeddings(ps, post_ids, len(pos), pos, 1), cand_ids,
            _embeddings(cs, cand_ids, len(pos), pos, 2), labels)


def run_match(work: Path, n: int, shards: int, n_cand: int | None = None) -> dict:
    """Top-k both ways per candidate shard (all postings each), then the posting-side merge."""
    import pandas as pd

    from skillmatch.config import load_settings
    from skillmatch.matching.engine import top_k_matches, with_skill_lists
    from skillmatch.matching.incremental import fit_scoring_model

    os.environ["SKILLMATCH_DEVICE"] = "cpu"
    settings = load_settings()
    t = time.perf_counter()
    ps, cs, post_ids, pe, cand_ids, ce, labels = _match_inputs(work, n, n_cand or n, n)
    # through a categorical, every set shares one string object per skill (1M postings: ~1 GB less)
    post_sets = ps["skill_id"].astype("category").groupby(ps["doc_id"].to_numpy()).apply(set).to_dict()
    cand_sets = cs.groupby("doc_id")["skill_id"].apply(set).to_dict()
    model = fit_scoring_model(ps, pe, ce)
    cce, ppe = model.centred(ce), model.centred(pe)
    del ps, cs, pe, ce  # only the sets and the centred vectors are scored
    gc.collect()
    setup = time.perf_counter() - t
    times, docs, frames, score_s, list_s, list_rows = [], [], [], [], [], []
    ranges = _shard_ranges(len(cand_ids), shards) if n_cand is None else [(0, len(cand_ids))]
    for a, b in ranges:
        t = time.perf_counter()
        pairs = top_k_matches(cand_sets, post_sets, model.idf, cce[a:b], ppe, cand_ids[a:b], post_ids, settings)
        score_s.append(time.perf_counter() - t)
        if n_cand is not None:
            # one shard of many: its posting-side lists (k x all postings) are partial until every shard is
            # merged, so skill lists are built for its candidate-side rows here and once after the merge
            pairs = pairs[pairs["rank_for_candidate"].notna()]
        t2 = time.perf_counter()
        frames.append(with_skill_lists(pairs, cand_sets, post_sets, model.idf, labels))
        list_s.append(time.perf_counter() - t2)
        list_rows.append(len(pairs))
        times.append(time.perf_counter() - t)
        docs.append(b - a)
    t = time.perf_counter()
    fm = pd.concat(frames, ignore_index=True)
    if len(frames) > 1:  # each shard ranked candidates for every posting: keep the best k per posting overall
        best = fm.sort_values(["posting_id", "score"], ascending=[True, False]).groupby("posting_id").head(
            settings.top_k)
        fm = fm[fm["rank_for_candidate"].notna() | fm.index.isin(best.index)]
    merge = time.perf_counter() - t
    if n_cand is None:
        fm.to_parquet(_data_dir(work, n) / f"fact_match-s{shards}.parquet", index=False)
    return {"shard_seconds": times, "shard_docs": docs, "setup_seconds": setup, "merge_seconds": merge,
            "score_seconds": score_s, "list_seconds": list_s, "list_rows": list_rows,
            "rows": len(fm), "postings": len(post_ids),
            "note": f"{len(post_ids):,} postings x shard candidates, top-{settings.top_k} both ways, CPU"}


def run_paths(work: Path, n: int, shards: int) -> dict:
    """Learning paths per candidate shard from the s=1 match output."""
    import pandas as pd

    from skillmatch.paths.learning import mine_prerequisites, rank_learning_steps
    from skillmatch.sources.scale_synth import read_frames

    stats = _stats(work)
    folder = _data_dir(work, n)
    found = sorted(folder.glob("fact_match-s*.parquet"), key=lambda f: int(f.stem.split("-s")[1]))
    if not found:
        raise SystemExit(f"no fact_match in {folder}: run the match stage at this size first")
    fm_path = found[0]  # the fewest shards: the most candidates
    t = time.perf_counter()
    fm = pd.read_parquet(fm_path)
    ps = read_frames(folder, "postings")
    held = read_frames(folder, "resumes").groupby("doc_id")["skill_id"].apply(set).to_dict()
    prereq = mine_prerequisites(ps)
    labels = dict(zip(stats.skill_ids, stats.surfaces))
    setup = time.perf_counter() - t
    cands = sorted(fm["candidate_id"].unique())
    times, docs, steps = [], [], 0
    for a, b in _shard_ranges(len(cands), shards):
        part = fm[fm["candidate_id"].isin(set(cands[a:b]))]
        t = time.perf_counter()
        out = rank_learning_steps(part, ps, labels, 5, 10, 0.35, held=held, prerequisites=prereq, n_postings=n)
        times.append(time.perf_counter() - t)
        docs.append(b - a)
        steps += len(out)
    return {"shard_seconds": times, "shard_docs": docs, "setup_seconds": setup, "steps": steps,
            "candidates": len(cands), "note": f"top-5 targets, 10 steps, mined prerequisites ({fm_path.name})"}


def _rss_watchdog() -> None:
    """Stop this process (exit 3, with a message) when its resident memory passes ``RSS_CAP_GIB``."""
    import threading

    page = os.sysconf("SC_PAGE_SIZE")

    def watch() -> None:
        while True:
            with open("/proc/self/statm", encoding="ascii") as f:
                rss = int(f.read().split()[1]) * page
            if rss > RSS_CAP_GIB * 2**30:
                print(f"stopped: resident memory over {RSS_CAP_GIB:g} GiB", file=sys.stderr, flush=True)
                os._exit(3)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()


def _child(args: list[str]) -> None:
    stage, work, n, shards, extra = args[0], Path(args[1]), int(args[2]), int(args[3]), int(args[4])
    _rss_watchdog()
    if stage == "generate":
        res = run_generate(work, n, shards)
    elif stage == "ingest":
        res = run_ingest(work, n, shards)
    elif stage == "extract":
        res = run_extract(work, extra)
    elif stage == "match":
        res = run_match(work, n, shards, extra or None)
    elif stage == "paths":
        res = run_paths(work, n, shards)
    else:
        raise SystemExit(f"unknown stage {stage}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    res["peak_rss_mib"] = max(own, kids) / 1024
    res["one_shard"] = ONE_SHARD
    print("RESULT " + json.dumps(res, default=float))


# --- the driver --------------------------------------------------------------------------------------------------

def _measure(work: Path, stage: str, n: int, shards: int, extra: int = 0) -> dict:
    t = time.perf_counter()
    run = subprocess.run(["nice", "-n", "10", sys.executable, __file__, "--child", stage, str(work), str(n),
                          str(shards), str(extra)], capture_output=True, text=True)
    line = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
    if run.returncode != 0 or not line:
        tail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return {"stage": stage, "n": n, "shards": shards, "error": tail[:300]}
    res = json.loads(line[0][7:])
    res.update({"stage": stage, "n": n, "shards": shards, "extra": extra,
                "process_seconds": time.perf_counter() - t, "date": time.strftime("%Y-%m-%d %H:%M")})
    return res


def _fmt(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def _row(r: dict) -> str:
    if "error" in r:
        return f"| {r['stage']} | {r['n']:,} | {r['shards']} | failed: {r['error']} | | | | |"
    sec = r["shard_seconds"]
    per_doc = sum(sec) / max(sum(r["shard_docs"]), 1)
    kind = "measured"
    total = _fmt(sum(sec))
    if r.get("one_shard") and r["shards"] > 1:
        kind, total = f"shard 1 of {r['shards']} measured", f"{_fmt(np.mean(sec) * r['shards'])} (projected)"
    if r.get("candidates", r["n"]) < r["n"]:
        kind += f" on the {r['candidates']:,} candidates of a match shard"
    size = f"{r['n']:,}" if not r.get("extra") or r["stage"] != "match" else \
        f"{r['postings']:,} postings x {r['shard_docs'][0]:,} candidates"
    return (f"| {r['stage']} | {size} | {r['shards']} | {int(np.mean(r['shard_docs'])):,} | {_fmt(np.mean(sec))} / "
            f"{_fmt(max(sec))} | {total} | {per_doc * 1e3:.3f} | {r['peak_rss_mib']:,.0f} | {kind} |")


def _extract_rows(ex: dict, sizes: list[int], shards: list[int]) -> list[str]:
    """Projected extraction per shard: cold start + shard docs / measured rate (postings and resumes)."""
    rows = []
    p, c = ex["postings"]["docs_per_s"], ex["resumes"]["docs_per_s"]
    for n in sizes:
        for s in shards:
            per = ex["cold_start_seconds"] + (n / s) / p + (n / s) / c
            rows.append(f"| extract | {n:,} | {s} | {2 * n // s:,} | {_fmt(per)} (projected) | {_fmt(per * s)} | "
                        f"{(1 / p + 1 / c) / 2 * 1e3:.1f} | {ex['peak_rss_mib']:,.0f} (sample run) | "
                        f"extrapolated from {ex['postings']['docs']:,} + {ex['resumes']['docs']:,} docs |")
    return rows


def _largest(results: list[dict], stage: str, key=None) -> dict | None:  # noqa: ANN001
    ok = [r for r in results if r.get("stage") == stage and "error" not in r and (key is None or key(r))]
    return max(ok, key=lambda r: (r["n"], r.get("extra", 0), r["shards"])) if ok else None


def projection(results: list[dict]) -> list[str]:
    """Workers for 1M postings x 1M resumes in a 4-hour window, from the measured per-shard costs."""
    out = [f"Projection: {NIGHTLY:,} postings x {NIGHTLY:,} resumes, all documents new (a cold night), window "
           f"{WINDOW_S // 3600} h, one worker = this machine (2 cores, no GPU). Workers = ceil(CPU-seconds / window).",
           "", "| stage | cost model (measured on) | CPU-seconds for 1M x 1M | CPU workers in 4 h | GPU workers |",
           "|---|---|---|---|---|"]
    total = 0.0
    gen = _largest(results, "ingest")
    if gen:
        per_doc = sum(gen["shard_seconds"]) / sum(gen["shard_docs"])
        cost = per_doc * 2 * NIGHTLY
        total += cost
        out.append(f"| ingest + validate | {per_doc * 1e3:.2f} ms/doc ({gen['n']:,} + {gen['n']:,} docs, "
                   f"{gen['shards']} shard(s)) | {cost:,.0f} | {math.ceil(cost / WINDOW_S)} | n/a (CPU stage) |")
    ex = _largest(results, "extract")
    if ex:
        cost = NIGHTLY / ex["postings"]["docs_per_s"] + NIGHTLY / ex["resumes"]["docs_per_s"]
        total += cost
        out.append(f"| extract (synthetic doc length) | {ex['postings']['docs_per_s']:.1f} postings/s, "
                   f"{ex['resumes']['docs_per_s']:.1f} resumes/s ({ex['postings']['docs']:,} each) | {cost:,.0f} | "
                   f"{math.ceil(cost / WINDOW_S)} | not measured (no GPU lent) |")
        real = 13.9 * NIGHTLY / ex["postings"]["sentences_per_s"] + 14.9 * NIGHTLY / ex["resumes"]["sentences_per_s"]
        out.append(f"| extract (real doc length: 13.9 / 14.9 distinct sentences per posting / resume, `make run`) | "
                   f"{ex['postings']['sentences_per_s']:.0f} / {ex['resumes']['sentences_per_s']:.0f} sentences/s | "
                   f"{real:,.0f} | {math.ceil(real / WINDOW_S)} | not measured |")
    m1 = _largest(results, "match", key=lambda r: r.get("extra"))
    mm = _largest(results, "match", key=lambda r: not r.get("extra"))
    if m1:
        n_shards = NIGHTLY / sum(m1["shard_docs"])
        per_row = sum(m1["list_seconds"]) / max(sum(m1["list_rows"]), 1)
        cost = sum(m1["shard_seconds"]) * n_shards + per_row * 10 * NIGHTLY  # + posting-side lists after the merge
        total += cost
        out.append(f"| match top-k both ways | {NIGHTLY / n_shards:,.0f}-candidate shard x {m1['postings']:,} "
                   f"postings: {sum(m1['shard_seconds']):,.0f} s, x {n_shards:,.0f} shards, + posting-side skill lists "
                   f"({per_row * 1e6:.1f} us/row x 10M rows) | {cost:,.0f} | {math.ceil(cost / WINDOW_S)} "
                   f"(each holding all 1M postings: {m1['peak_rss_mib'] / 1024:.1f} GiB peak) | not measured |")
    if mm:
        pairs = mm["postings"] * sum(mm["shard_docs"])
        cost = sum(mm["shard_seconds"]) / pairs * NIGHTLY * NIGHTLY
        total += 0 if m1 else cost
        out.append(f"| match{' (for comparison, not in the total)' if m1 else ''}: scaled by pairs from "
                   f"{mm['postings']:,} x {sum(mm['shard_docs']):,} ({mm['shards']} shard(s)) | "
                   f"{sum(mm['shard_seconds']) / pairs * 1e9:.0f} s per 10^9 pairs | {cost:,.0f} | "
                   f"{math.ceil(cost / WINDOW_S)} | not measured |")
    pa = _largest(results, "paths")
    if pa:
        per = sum(pa["shard_seconds"]) / sum(pa["shard_docs"])
        total += per * NIGHTLY
        out.append(f"| learning paths | {per * 1e3:.2f} ms/candidate ({sum(pa['shard_docs']):,} candidates, "
                   f"{pa['n']:,} postings) | {per * NIGHTLY:,.0f} | "
                   f"{math.ceil(per * NIGHTLY / WINDOW_S)} | n/a (CPU stage) |")
    out.append(f"| **all stages** | | {total:,.0f} | **{math.ceil(total / WINDOW_S)}** | |")
    return out


def report(results: list[dict], sizes: list[int], shards: list[int]) -> None:
    """Print the table of stored results and the projection."""
    print("| stage | N (postings = resumes) | shards | docs per shard | s per shard (mean / max) | total s "
          "(shards in sequence) | ms per doc | peak RSS MiB | how |")
    print("|---|---|---|---|---|---|---|---|---|")
    for stage in STAGES:
        rows = [r for r in results if r.get("stage") == stage]
        if stage == "extract" and rows:
            ex = _largest(results, "extract")
            sized = sorted({r["n"] for r in results if r.get("stage") != "extract"} | set(sizes) | {NIGHTLY})
            for line in _extract_rows(ex, sized, sorted({1, max(shards)})):
                print(line)
            continue
        for r in sorted(rows, key=lambda r: (r["n"], r.get("extra", 0), r["shards"])):
            print(_row(r))
    print()
    for r in results:
        for k in ("setup_seconds", "merge_seconds", "landing_seconds", "checks", "cold_start_seconds"):
            if k in r:
                print(f"- {r['stage']} {r['n']:,} x{r['shards']}: {k} = {r[k]}")
        if r.get("stage") == "extract":
            for kind in ("postings", "resumes"):
                print(f"- extract {kind}: {json.dumps(r[kind])}")
    print()
    for line in projection(results):
        print(line)


def _stored(store: Path) -> list[dict]:
    """Stored results, the latest run of each (stage, size, shards, extra) only."""
    if not store.exists():
        return []
    latest: dict[tuple, dict] = {}
    for line in store.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            latest[(r["stage"], r["n"], r["shards"], r.get("extra", 0))] = r
    return list(latest.values())


def main() -> None:
    """Run the asked stages (each measurement in its own process), store the results, print the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--stages", nargs="+", default=STAGES, choices=STAGES)
    ap.add_argument("--extract-sample", type=int, default=1000, help="documents per side for the extraction rate")
    ap.add_argument("--match-1m-shard", type=int, default=0,
                    help="also score one shard of this many candidates against 1M postings (needs --sizes 1000000 "
                         "generated first)")
    ap.add_argument("--quick", action="store_true",
                    help="1,000 documents, shards 1 and 2, 20-doc extraction (< 2 minutes)")
    ap.add_argument("--work", type=Path, default=ROOT / ".cache" / "scale-synth")
    ap.add_argument("--report", action="store_true", help="only print the stored results of --work")
    ap.add_argument("--one-shard", action="store_true",
                    help="run only the first shard of each shard count (its cost stands for the others)")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(a.child)
        return
    if a.one_shard:
        os.environ["SCALE_BENCH_ONE_SHARD"] = "1"
    if a.quick:
        a.sizes, a.shards, a.extract_sample, a.work = [1000], [1, 2], 20, a.work / "quick"
    a.work.mkdir(parents=True, exist_ok=True)
    store = a.work / "results.jsonl"
    if not a.report:
        for stage in a.stages:
            if stage == "extract":
                runs = [(0, 1, a.extract_sample)]
            else:
                runs = [(n, s, 0) for n in a.sizes for s in a.shards]
            if stage == "match" and a.match_1m_shard:  # one shard at 1M instead of the whole 1M x 1M
                runs = [r for r in runs if r[0] != NIGHTLY] + [(NIGHTLY, 1, a.match_1m_shard)]
            for n, s, extra in runs:
                if stage != "generate" and stage != "extract" and not (_data_dir(a.work, n)).exists():
                    print(f"skip {stage} {n:,}: no generated data (run --stages generate with this size)", flush=True)
                    continue
                r = _measure(a.work, stage, n, s, extra)
                print(f"{stage} N={n:,} shards={s}: {r.get('error') or 'done in %.1f s' % r['process_seconds']}",
                      flush=True)
                with store.open("a", encoding="utf-8") as f:
                    f.write(json.dumps(r, default=float) + "\n")
    results = _stored(store)
    import torch

    load = os.getloadavg()
    print(f"\n# {time.strftime('%Y-%m-%d')} · {platform.node()} · {os.cpu_count()} CPUs · torch {torch.__version__}"
          f" · load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}\n")
    report(results, a.sizes, a.shards)


if __name__ == "__main__":
    main()
