"""The blocked top-k keeps memory bounded: resident memory stops growing once the block loop is under way."""
from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, resource, sys
import numpy as np
from scipy import sparse
from skillmatch.matching import engine
if sys.argv[1] == "unpinned":
    engine.pin_mmap_threshold = lambda *a, **k: False
rng = np.random.default_rng(0)
n_c, n_p, vocab = 3000, 60000, 2000
def skills(n, k):
    rows = np.repeat(np.arange(n), k)
    return sparse.csr_matrix((np.ones(n * k, np.float32), (rows, rng.integers(0, vocab, n * k))), shape=(n, vocab))
cand, post = skills(n_c, 10), skills(n_p, 8)
denom = np.maximum(np.asarray(post.sum(1)).ravel(), 3).astype(np.float32)
ce = rng.normal(size=(n_c, 384)).astype(np.float32)
pe = rng.normal(size=(n_p, 384)).astype(np.float32)
rss, top_k_down = [], engine.top_k_down
def counting_top_k_down(*a, **k):
    rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return top_k_down(*a, **k)
engine.top_k_down = counting_top_k_down
engine.topk_both_ways(cand, post, denom, ce, pe, 10, 10, 0.35, 0.65, "cpu", block=25)
# one candidate-side top-k per block
print(json.dumps({"after_20_blocks": rss[20] // 1024, "after_all": rss[-1] // 1024, "topk_calls": len(rss)}))
"""


def _probe(mode: str) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_resident_memory_stays_flat_across_blocks() -> None:
    """120 blocks of 25 x 60,000 scores (6 MB each): after the first 20 blocks the peak resident memory grows by
    less than 10 blocks' worth (without the pinned mmap threshold, glibc's heap grew by ~6 MB per block here)."""
    m = _probe("pinned")
    assert m["topk_calls"] == 120
    assert m["after_all"] - m["after_20_blocks"] < 60, m
