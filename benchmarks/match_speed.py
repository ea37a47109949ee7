"""Match engine speed and peak memory, side by side with a bare torch.mm and the seed's baseline, in one run.

For each size N (N candidates x N postings) it generates realistic inputs once (384-d unit embeddings; skill sets
whose sizes and skill frequencies follow the shared postings' extracted facts when a lake is present, else a
Zipf law over 13,000 skills with 15 skills per posting and 25 per resume on average) and times, each in its own
process so peak memory is its own:

- ours:      ``topk_both_ways``: blocked coverage (sparse) + semantic (dense) scores, top-10 both ways;
- torch.mm:  the bare fp32 ``torch.mm`` of the same shape (candidates x 384 by 384 x postings), in the same row
             blocks (the full N x N result does not fit in memory at 100k) into one reused output, both ways round
             (the faster counts), nothing else: the anchor (goal: ours within 2x of it);
- baseline:  the seed's TF-IDF (max_features=1000) over the skill-token documents + sklearn NearestNeighbors
             (cosine, brute), top-10 both ways;
- incremental: the nightly path (``top_k_matches`` from id-keyed skill sets to fact rows) in full, then after 1 %
             of resumes and postings changed, the incremental recompute (``matching.incremental``).

  .venv/bin/python benchmarks/match_speed.py [--sizes 10000 100000] [--device cpu|cuda] [--skip-baseline-above N]
      [--systems torch.mm ours ...] [--repeat R]
  (MATCH_PROFILE=PREFIX writes cProfile's top functions of "ours" to PREFIX-N.txt)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

K = 10
DIM = 384


def _skill_law(data_dir: Path) -> tuple[np.ndarray, float, float, str]:
    """(skill frequencies, mean skills per posting, mean per resume, where they come from)."""
    gold = data_dir / "gold"
    try:
        import pandas as pd

        ps = pd.read_parquet(gold / "fact_posting_skill.parquet", columns=["doc_id", "skill_id"]).drop_duplicates()
        cs = pd.read_parquet(gold / "fact_candidate_skill.parquet", columns=["doc_id", "skill_id"]).drop_duplicates()
        freq = ps["skill_id"].value_counts().to_numpy(dtype=np.float64)
        return freq / freq.sum(), ps.groupby("doc_id").size().mean(), cs.groupby("doc_id").size().mean(), \
            f"skill frequencies of {ps['doc_id'].nunique():,} extracted postings"
    except (OSError, ValueError, KeyError):
        ranks = np.arange(1, 13_001, dtype=np.float64)
        freq = 1 / ranks
        return freq / freq.sum(), 15.0, 25.0, "Zipf law over 13,000 skills"


def generate(n: int, out: Path, data_dir: Path, seed: int = 7) -> str:
    from scipy import sparse

    rng = np.random.default_rng(seed)
    freq, per_post, per_cand, law = _skill_law(data_dir)

    def skills(rows: int, mean: float) -> sparse.csr_matrix:
        sizes = np.clip(rng.poisson(mean, rows), 1, None)
        cols = [np.unique(rng.choice(len(freq), size=s, p=freq)) for s in sizes]
        indptr = np.concatenate([[0], np.cumsum([len(c) for c in cols])])
        return sparse.csr_matrix((np.ones(indptr[-1], np.float32), np.concatenate(cols), indptr),
                                 shape=(rows, len(freq)))

    def emb(rows: int) -> np.ndarray:
        x = rng.standard_normal((rows, DIM), dtype=np.float32) + 0.3  # a shared direction, as real MiniLM vectors
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    cand, post = skills(n, per_cand), skills(n, per_post)
    sparse.save_npz(out / "cand.npz", cand)
    sparse.save_npz(out / "post.npz", post)
    np.save(out / "cand_emb.npy", emb(n))
    np.save(out / "post_emb.npy", emb(n))
    return law


def _load(folder: Path):  # noqa: ANN202
    from scipy import sparse

    return (sparse.load_npz(folder / "cand.npz"), sparse.load_npz(folder / "post.npz"),
            np.load(folder / "cand_emb.npy"), np.load(folder / "post_emb.npy"))


def run_ours(folder: Path, device: str) -> dict:
    import torch  # noqa: F401 - imported before the clock starts, as for run_mm (the engine imports it lazily)

    from skillmatch.matching.engine import engine_block_rows, topk_both_ways

    cand, post, ce, pe = _load(folder)
    df = np.asarray((post > 0).sum(0)).ravel()
    idf = (np.log((1 + post.shape[0]) / (1 + df)) + 1.0).astype(np.float32)
    weight = post.multiply(idf).tocsr()
    total = np.asarray(weight.sum(1)).ravel()
    denom = np.where(total > 0, np.maximum(total, 3 * idf[df > 0].mean()), np.inf).astype(np.float32)
    if device.startswith("cuda"):  # CUDA context, cuBLAS / cuSPARSE handles: out of the clock, as for run_mm
        topk_both_ways(cand[:64], weight[:64], denom[:64], ce[:64], pe[:64], K, K, 0.35, 0.65, device)
        _sync(device)
    prof = None
    if os.environ.get("MATCH_PROFILE"):  # where the time goes: cProfile's top functions by own time
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t = time.perf_counter()
    out = topk_both_ways(cand, weight, denom, ce, pe, K, K, 0.35, 0.65, device)
    _sync(device)
    if prof is not None:
        import pstats

        prof.disable()
        with open(f"{os.environ['MATCH_PROFILE']}-{len(pe)}.txt", "w") as f:
            pstats.Stats(prof, stream=f).sort_stats("tottime").print_stats(25)
    return {"seconds": time.perf_counter() - t, "block_rows": engine_block_rows(post.shape[0], post.shape[1], device),
            "check": float(out["c_score"][:, 0].mean())}


def run_mm(folder: Path, device: str) -> dict:
    """The bare product in row blocks, both ways round (candidates x postings, and postings x candidates as the
    engine lays a block out), each into one output matrix reused across blocks, at the engine's block rows and at
    the plain cell budget's (the engine's may be fewer: see ``engine.block_rows``); the fastest counts, so the
    anchor never gets slower because of the engine's choice."""
    import torch

    from skillmatch.matching.engine import block_cells, block_rows, engine_block_rows

    cand, _, ce, pe = _load(folder)
    p = torch.from_numpy(pe).to(device)
    pt = p.T.contiguous()
    times, acc = {}, 0.0
    sizes = [engine_block_rows(len(pe), cand.shape[1], device), block_rows(len(pe), block_cells(device))]
    for block in dict.fromkeys(sizes):
        if device.startswith("cuda"):
            float((torch.from_numpy(ce[:block]).to(device) @ pt)[0, 0])  # warm-up: context, cuBLAS handle, kernel
        for way in ("cand x post", "post x cand"):
            out = None
            t = time.perf_counter()
            with torch.inference_mode():
                for b in range(0, len(ce), block):
                    c = torch.from_numpy(ce[b:b + block]).to(device)
                    shape = (len(c), len(pe)) if way == "cand x post" else (len(pe), len(c))
                    if out is None or out.shape != shape:
                        out = torch.empty(shape, device=device)
                    if way == "cand x post":
                        torch.mm(c, pt, out=out)
                    else:
                        torch.mm(p, c.T, out=out)
                    acc += float(out[0, 0])  # keeps the product from being skipped
            _sync(device)
            times[(block, way)] = time.perf_counter() - t
    best = min(times, key=times.get)
    return {"seconds": times[best], "block_rows": best[0], "check": acc,
            "ways": {f"{b} rows, {w}": round(v, 3) for (b, w), v in times.items()}}


def run_baseline(folder: Path, device: str) -> dict:  # noqa: ARG001 - the seed ran on CPU
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    cand, post, _, _ = _load(folder)

    def docs(m) -> list[str]:  # noqa: ANN001
        return [" ".join(f"s{j}" for j in m.indices[m.indptr[i]:m.indptr[i + 1]]) for i in range(m.shape[0])]

    t = time.perf_counter()
    vec = TfidfVectorizer(max_features=1000)
    xp = vec.fit_transform(docs(post))
    xc = vec.transform(docs(cand))
    NearestNeighbors(n_neighbors=K, metric="cosine", algorithm="brute").fit(xp).kneighbors(xc)
    NearestNeighbors(n_neighbors=K, metric="cosine", algorithm="brute").fit(xc).kneighbors(xp)
    return {"seconds": time.perf_counter() - t, "block_rows": None, "check": float(xp.nnz)}


def run_incremental(folder: Path, device: str) -> dict:
    """The real nightly path (``top_k_matches`` on id-keyed skill sets): a full run, then 1 % of the resumes get
    new embeddings and 1 % of the postings new skills, and the incremental recompute is timed."""
    import pandas as pd
    import torch  # noqa: F401 - imported before the clock starts (the engine imports it lazily)

    from skillmatch.config import load_settings
    from skillmatch.matching import incremental as inc
    from skillmatch.matching.engine import top_k_matches

    os.environ.update({"SKILLMATCH_DEVICE": device, "SKILLMATCH_TOP_K": str(K)})
    settings = load_settings()
    cand, post, ce, pe = _load(folder)

    def sets(m) -> dict[str, set[str]]:  # noqa: ANN001
        return {str(i): {f"s{j}" for j in m.indices[m.indptr[i]:m.indptr[i + 1]]} for i in range(m.shape[0])}

    cs, ps = sets(cand), sets(post)
    c_ids, p_ids = list(cs), list(ps)
    facts = pd.DataFrame([(p, x) for p, sk in ps.items() for x in sk], columns=["doc_id", "skill_id"])
    model = inc.fit_scoring_model(facts, pe, ce)
    if device.startswith("cuda"):  # CUDA context and library handles out of the clock
        top_k_matches(cs, ps, model.idf, model.centred(ce[:64]), model.centred(pe[:64]), c_ids[:64], p_ids[:64],
                      settings)
    t = time.perf_counter()
    cce, ppe = model.centred(ce), model.centred(pe)
    before = top_k_matches(cs, ps, model.idf, cce, ppe, c_ids, p_ids, settings)
    full_s = time.perf_counter() - t
    fp_c0, fp_p0 = inc.fingerprints(c_ids, cs, ce), inc.fingerprints(p_ids, ps, pe)
    rng = np.random.default_rng(1)
    n_change = max(1, len(c_ids) // 100)
    for i in rng.choice(len(c_ids), n_change, replace=False):
        ce[i] = np.roll(ce[i], 1)
    for j in rng.choice(len(p_ids), n_change, replace=False):
        ps[p_ids[j]] = set(list(ps[p_ids[j]])[:-1]) | {"s1"}
    t = time.perf_counter()
    d = inc.delta(before, fp_c0, fp_p0, inc.fingerprints(c_ids, cs, ce), inc.fingerprints(p_ids, ps, pe))
    cce = model.centred(ce)
    row_c, row_p = {x: i for i, x in enumerate(c_ids)}, {x: i for i, x in enumerate(p_ids)}
    inc.incremental_pairs(before, d, lambda a, b: top_k_matches(cs, ps, model.idf, cce[[row_c[x] for x in a]],
                                                                ppe[[row_p[x] for x in b]], a, b, settings),
                          c_ids, p_ids, K)
    return {"seconds": time.perf_counter() - t, "block_rows": None, "full_seconds": full_s,
            "check": d.summary()["rescored_candidates"] + d.summary()["rescored_postings"],
            "rescored": d.summary()}


def _secs(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.3f}"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


RUNNERS = {"torch.mm": run_mm, "ours": run_ours, "baseline": run_baseline, "incremental": run_incremental}


def _child(name: str, folder: str, device: str) -> None:
    res = RUNNERS[name](Path(folder), device)
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if device.startswith("cuda"):
        import torch

        res["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    print("RESULT " + json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--data-dir", default=os.environ.get("SKILLMATCH_DATA_DIR", "data"))
    ap.add_argument("--skip-baseline-above", type=int, default=None,
                    help="do not run the baseline above this size (it is the slowest by far)")
    ap.add_argument("--systems", nargs="+", default=list(RUNNERS), choices=list(RUNNERS))
    ap.add_argument("--repeat", type=int, default=1, help="runs per system and size, each in its own process; "
                    "the fastest counts (all are listed under the table)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        _child(*a.child)
        return
    import torch

    print(f"# {time.strftime('%Y-%m-%d')} · {platform.node()} · {os.cpu_count()} CPUs · torch {torch.__version__} "
          f"({torch.get_num_threads()} threads) · device {a.device} · top-{K} both ways")
    print("| N x N | system | seconds | x torch.mm | peak RSS MiB | block rows |")
    print("|---|---|---|---|---|---|")
    notes: list[str] = []
    for n in a.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            law = generate(n, Path(tmp), Path(a.data_dir))
            mm = None
            for name in a.systems:
                if name == "baseline" and a.skip_baseline_above and n > a.skip_baseline_above:
                    print(f"| {n:,} | {name} | not run (--skip-baseline-above) | | | |", flush=True)
                    continue
                runs = []
                for _ in range(a.repeat):
                    run = subprocess.run([sys.executable, __file__, "--child", name, tmp, a.device],
                                         capture_output=True, text=True)
                    line = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
                    if run.returncode != 0 or not line:
                        break
                    runs.append(json.loads(line[0][7:]))
                if len(runs) < a.repeat:
                    print(f"| {n:,} | {name} | failed: {run.stderr.strip().splitlines()[-1:]} | | | |", flush=True)
                    continue
                r = min(runs, key=lambda x: x["seconds"])
                if a.repeat > 1:
                    notes.append(f"{n:,} {name}: {a.repeat} runs (s): {[round(x['seconds'], 3) for x in runs]}")
                mm = r["seconds"] if name == "torch.mm" else mm
                ratio = f"{r['seconds'] / mm:.2f}" if mm else ""
                mem = f"{r['peak_rss_mib']:,.0f}" + (f" (GPU {r['peak_gpu_mib']:,.0f})" if "peak_gpu_mib" in r else "")
                print(f"| {n:,} | {name} | {_secs(r['seconds'])} | {ratio} | {mem} | {r['block_rows'] or ''} |",
                      flush=True)
                if name == "torch.mm":
                    notes.append(f"{n:,}: bare torch.mm both ways round (s): {r['ways']}")
                if name == "incremental":
                    print(f"| {n:,} | full run, same path (id-keyed sets to fact rows) | {_secs(r['full_seconds'])} | "
                          f"{r['full_seconds'] / mm:.2f} | | |" if mm else "", flush=True)
                    notes.append(f"incremental {n:,}: 1 % changed -> rescored {r['rescored']}")
        print(f"\nskill sets: {law}")
    for line in notes:
        print(line)


if __name__ == "__main__":
    main()
