"""The match stage fanned out over candidate-row shards (the nightly DAG's ``plan_match`` -> mapped
``match_shard`` -> ``match``).

- plan: prepares the inputs once (posting skill requirements, resume skill evidence, title embeddings: the files
  ``engine.lake_match_inputs`` writes), decides full or incremental (``incremental.plan_run``) and, for a full
  recompute, fits the scoring model and splits the candidates into ``ceil(candidates / shard_candidates)``
  contiguous shards. An incremental run rescores a few documents: it plans no shards and the merge step does it.
- shard: scores its candidates against every posting with the plan's model (top-k both ways of its rows).
- merge: joins the shards (``incremental.merge_row_shards``: exact, a posting's top-k is the best of its top-k
  in each shard), checks every candidate came back exactly once, then writes ``fact_match``, the match state and
  ``fact_assignment`` as the in-process stage does.

Every step checks that the inputs did not change since the plan (one digest of every document's fingerprint).
The plan and the parts live under ``gold/_shards/match/<run>/`` and are removed by the merge.
"""
from __future__ import annotations

import json
import logging
import math

import numpy as np
import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, remove_tree, safe_name, write_json_atomic, write_parquet_atomic

log = logging.getLogger(__name__)


def _folder(settings: Settings, run_id: str):  # noqa: ANN202 - Path or UPath
    return settings.lake("gold", "_shards", "match", safe_name(run_id))


def _part(folder, shard: int, shards: int):  # noqa: ANN001, ANN202
    return folder / f"pairs-{shard:05d}-of-{shards:05d}.parquet"


def has_plan(settings: Settings, run_id: str) -> bool:
    """Whether run ``run_id`` planned a sharded match."""
    return (_folder(settings, run_id) / "plan.json").exists()


def _read_plan(settings: Settings, run_id: str) -> dict:
    path = _folder(settings, run_id) / "plan.json"
    if not path.exists():
        raise FileNotFoundError(f"no match plan for run {run_id} ({path}): run the plan task first")
    return json.loads(path.read_text())


def plan_match(settings: Settings, run_id: str, shard_candidates: int) -> dict[str, object]:
    """Prepare the inputs, choose full or incremental, and for a full recompute fit the model and record the
    shards; returns the counts with ``shards`` (0: incremental, done by the merge)."""
    from skillmatch.matching import incremental as inc
    from skillmatch.matching.engine import inputs_digest, lake_match_inputs, match_fingerprints

    inp = lake_match_inputs(settings)
    fp_c, fp_p = match_fingerprints(inp)
    run = inc.plan_run(settings.lake("gold", "match_state"), settings.lake("gold", "fact_match.parquet"),
                       fp_c, fp_p, settings)
    folder = _folder(settings, run_id)
    remove_tree(folder)  # parts of an earlier try of this run
    shards = 0
    if run.full:
        model = inc.fit_scoring_model(inp.ps, inp.post_emb, inp.cand_emb, inp.post_prof, inp.cand_prof)
        inc.save_model(folder, model)
        shards = max(1, math.ceil(len(inp.cand_ids) / max(1, shard_candidates)))
    write_json_atomic({"run_id": run_id, "mode": "full" if run.full else "incremental", "reason": run.reason,
                       "shards": shards, "candidates": len(inp.cand_ids), "postings": len(inp.post_ids),
                       "digest": inputs_digest(fp_c, fp_p)}, folder / "plan.json")
    size = math.ceil(len(inp.cand_ids) / shards) if shards else 0
    log.info("match: %s (%s); %d candidates x %d postings in %d shard(s) of at most %d candidates",
             "full" if run.full else "incremental", run.reason, len(inp.cand_ids), len(inp.post_ids), shards, size)
    counts: dict[str, object] = {"mode": "full" if run.full else "incremental", "reason": run.reason,
                                 "candidates": len(inp.cand_ids), "postings": len(inp.post_ids), "shards": shards,
                                 "shard_candidates": shard_candidates}
    if run.delta is not None:
        counts.update(run.delta.summary())
    return counts


def _shard_ids(cand_ids: list[str], shard: int, shards: int) -> list[str]:
    bounds = np.linspace(0, len(cand_ids), shards + 1).round().astype(int)
    return cand_ids[bounds[shard]:bounds[shard + 1]]


def match_shard(settings: Settings, run_id: str, shard: int) -> dict[str, int]:
    """Score shard ``shard`` of the run's plan: its candidates x every posting, top-k both ways."""
    from skillmatch.matching.engine import inputs_digest, lake_match_inputs, match_fingerprints, score_candidates
    from skillmatch.matching.incremental import load_model

    spec = _read_plan(settings, run_id)
    shards = int(spec["shards"])
    if not 0 <= shard < shards:
        raise ValueError(f"match shard {shard} is outside the plan's {shards} shard(s) in run {run_id}")
    inp = lake_match_inputs(settings, prepared=True)
    if inputs_digest(*match_fingerprints(inp)) != spec["digest"]:
        raise RuntimeError(f"match shard {shard + 1}/{shards}: the inputs changed since run {run_id} planned its "
                           "shards; re-run the DAG")
    folder = _folder(settings, run_id)
    model, _ = load_model(folder)
    ids = _shard_ids(inp.cand_ids, shard, shards)
    pairs = score_candidates(inp, model, ids, settings) if ids else pd.DataFrame()
    write_parquet_atomic(pairs, _part(folder, shard, shards))
    log.info("match shard %d/%d: %d candidates x %d postings, %d pairs", shard + 1, shards, len(ids),
             len(inp.post_ids), len(pairs))
    return {"candidates": len(ids), "match_rows": len(pairs), "shard": shard, "shards": shards}


def merge_match(settings: Settings, run_id: str) -> dict[str, object]:
    """Finish the run's match: merge the shards of a full recompute (failing, naming what is wrong, when a part is
    missing or a candidate is not there exactly once), or rescore incrementally in this process."""
    from skillmatch.matching.engine import compute_matches
    from skillmatch.matching.incremental import load_model, merge_row_shards

    spec = _read_plan(settings, run_id)
    folder = _folder(settings, run_id)
    shards = int(spec["shards"])
    if spec["mode"] != "full":
        counts = compute_matches(settings, prepared=True, expect_digest=spec["digest"])
        remove_tree(folder)
        return {**counts, "shards": 0}
    parts = []
    for shard in range(shards):
        f = _part(folder, shard, shards)
        if not f.exists():
            raise FileNotFoundError(f"match: shard {shard + 1}/{shards} of run {run_id} left no {f}")
        parts.append(read_parquet(f))
    model, _ = load_model(folder)
    pairs = merge_row_shards([p for p in parts if len(p)], settings.top_k)
    ranked = pairs.loc[pairs["rank_for_candidate"] == 1, "candidate_id"]
    if ranked.duplicated().any() or len(ranked) != int(spec["candidates"]) * (int(spec["postings"]) > 0):
        raise RuntimeError(f"match: the {shards} shard(s) of run {run_id} do not hold each of the "
                           f"{spec['candidates']} candidates exactly once ({ranked.nunique()} distinct, "
                           f"{int(ranked.duplicated().sum())} repeated); re-run the DAG")
    counts = compute_matches(settings, prepared=True, merged=(pairs, model, spec["reason"]),
                             expect_digest=spec["digest"])
    remove_tree(folder)
    return {**counts, "shards": shards}
