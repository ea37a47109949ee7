"""Incremental match recompute: only the rows of new/changed resumes and the columns of new/changed postings.

A nightly run changes a few documents; rescoring every resume against every posting is wasted work. The scoring
model (skill IDF weights, the coverage floor, the embedding centre) is frozen at the last full run and stored with
the matches, so unchanged pairs keep exactly their scores, and the previous top-k lists stay valid except where
an entry left (posting expired or changed, resume removed or changed). Then:

- dirty candidates = new or changed resumes + those whose previous top-k lost an entry: rescored against every
  posting (their new top-k is complete);
- dirty postings = new or changed postings + those whose previous top-k lost an entry: rescored against every
  candidate;
- every other candidate's top-k = best k of (its previous list, its best among the dirty postings), and the same
  for every other posting with the dirty candidates. Their previous lists lost nothing, and every pair outside
  both passes has the score it had, so this is exactly the top-k of a full recompute with the same model
  (``tests/unit/matching/test_incremental.py`` checks it against one).

A full recompute refits the model; the caller decides when (no state, settings changed, too many documents
changed, model too old).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, utcnow, write_json_atomic, write_parquet_atomic
from skillmatch.matching.profile import Profiles

COMPONENTS = ["skill_coverage", "semantic_similarity", "title_similarity", "seniority_fit", "location_fit"]
PAIR_COLUMNS = ["candidate_id", "posting_id", "score", *COMPONENTS, "rank_for_candidate", "rank_for_posting"]


@dataclass(frozen=True)
class ScoringModel:
    """What a score depends on besides the two documents: frozen between full recomputes."""

    idf: pd.Series  # skill_id -> weight
    centre: np.ndarray | None  # subtracted from every embedding before re-normalising (None: no centring)
    fitted_at: str
    postings: int
    candidates: int
    title_centre: np.ndarray | None = None  # the same for the title embeddings

    def centred(self, emb: np.ndarray) -> np.ndarray:
        from skillmatch.matching.engine import apply_centre

        return apply_centre(emb, self.centre)

    def centred_titles(self, prof: Profiles) -> Profiles:
        """``prof`` with its title embeddings centred (rows without a title stay zero)."""
        from skillmatch.matching.engine import apply_centre

        emb, has = prof.title_emb, prof.has_title
        out = emb.copy()
        if has.any():
            out[has] = apply_centre(emb[has], self.title_centre)
        return prof.with_titles(out)


def fit_scoring_model(posting_skills: pd.DataFrame, post_emb: np.ndarray, cand_emb: np.ndarray,
                      post_prof: Profiles | None = None, cand_prof: Profiles | None = None) -> ScoringModel:
    """IDF over the postings' distinct skills and the embedding centres (``engine.embedding_centre``) of the
    documents and of the titles (those present)."""
    from skillmatch.matching.engine import embedding_centre, skill_idf

    ps = posting_skills[["doc_id", "skill_id"]].drop_duplicates()
    title_centre = None
    if post_prof is not None and cand_prof is not None and post_prof.title_emb.size and cand_prof.title_emb.size:
        title_centre = embedding_centre(post_prof.title_emb[post_prof.has_title],
                                        cand_prof.title_emb[cand_prof.has_title])
    return ScoringModel(skill_idf(ps, len(post_emb)), embedding_centre(post_emb, cand_emb),
                        utcnow().isoformat(timespec="seconds"),
                        len(post_emb), len(cand_emb), title_centre)


def load_model(folder: Path) -> tuple[ScoringModel, dict] | None:
    if not (folder / "model.json").exists() or not (folder / "idf.parquet").exists():
        return None
    meta = json.loads((folder / "model.json").read_text())
    idf = read_parquet(folder / "idf.parquet")
    centre = None if meta["centre"] is None else np.asarray(meta["centre"], dtype=np.float32)
    title_centre = None if meta.get("title_centre") is None else np.asarray(meta["title_centre"], np.float32)
    model = ScoringModel(pd.Series(idf["idf"].to_numpy(), index=idf["skill_id"].to_numpy()), centre,
                         meta["fitted_at"], int(meta["postings"]), int(meta["candidates"]), title_centre)
    return model, meta


def fingerprints(ids: list[str], skills: dict[str, set[str]], emb: np.ndarray) -> pd.Series:
    """A hash per document of what its scores depend on (its skill set and its embedding)."""
    out = []
    for i, d in enumerate(ids):
        h = hashlib.sha1("\x1f".join(sorted(skills.get(d, ()))).encode())
        h.update(np.ascontiguousarray(emb[i], dtype=np.float32).tobytes())
        out.append(h.hexdigest())
    return pd.Series(out, index=ids, dtype=object)


@dataclass(frozen=True)
class Delta:
    """Which documents changed since the previous run, and which must be rescored in full."""

    changed_candidates: set[str]
    changed_postings: set[str]
    removed_candidates: set[str]
    removed_postings: set[str]
    dirty_candidates: list[str]
    dirty_postings: list[str]

    def summary(self) -> dict[str, int]:
        return {"changed_candidates": len(self.changed_candidates), "changed_postings": len(self.changed_postings),
                "removed_candidates": len(self.removed_candidates), "removed_postings": len(self.removed_postings),
                "rescored_candidates": len(self.dirty_candidates), "rescored_postings": len(self.dirty_postings)}


def delta(prev: pd.DataFrame, prev_fp_c: pd.Series, prev_fp_p: pd.Series, fp_c: pd.Series,
          fp_p: pd.Series) -> Delta:
    """Changed / removed documents (by fingerprint) and the candidates and postings to rescore in full."""
    changed_c = {d for d, f in fp_c.items() if prev_fp_c.get(d) != f}  # new ones included
    changed_p = {d for d, f in fp_p.items() if prev_fp_p.get(d) != f}
    removed_c, removed_p = set(prev_fp_c.index) - set(fp_c.index), set(prev_fp_p.index) - set(fp_p.index)
    by_c = prev[prev["rank_for_candidate"].notna()]
    by_p = prev[prev["rank_for_posting"].notna()]
    lost_c = set(by_c.loc[by_c["posting_id"].isin(changed_p | removed_p), "candidate_id"])
    lost_p = set(by_p.loc[by_p["candidate_id"].isin(changed_c | removed_c), "posting_id"])
    dirty_c = [d for d in fp_c.index if d in changed_c or d in lost_c]
    dirty_p = [d for d in fp_p.index if d in changed_p or d in lost_p]
    return Delta(changed_c, changed_p, removed_c, removed_p, dirty_c, dirty_p)


def _best_k(frame: pd.DataFrame, own: str, k: int, rank_col: str) -> pd.DataFrame:
    """Per ``own`` id, the k best distinct pairs by score, ranked 1..k."""
    f = frame.drop_duplicates(["candidate_id", "posting_id"])
    f = f.sort_values([own, "score"], ascending=[True, False], kind="stable")
    f = f[f.groupby(own).cumcount() < k].copy()
    f[rank_col] = f.groupby(own).cumcount() + 1
    return f


def incremental_pairs(prev: pd.DataFrame, d: Delta, score_pairs, cand_ids: list[str], post_ids: list[str],  # noqa: ANN001
                      k: int) -> pd.DataFrame:
    """Top-k both ways after the changes in ``d``.

    ``score_pairs(cand_subset, post_subset)`` returns the top-k both ways of the sub-matrix (``PAIR_COLUMNS``,
    ranks within the subsets), scored with the frozen model.
    """
    comp = ["candidate_id", "posting_id", "score", *COMPONENTS]
    live_c, live_p = set(cand_ids), set(post_ids)
    gone_c, gone_p = d.changed_candidates | d.removed_candidates, d.changed_postings | d.removed_postings
    keep = prev[~prev["candidate_id"].isin(gone_c) & ~prev["posting_id"].isin(gone_p)]
    rows = score_pairs(d.dirty_candidates, post_ids) if d.dirty_candidates else pd.DataFrame(columns=PAIR_COLUMNS)
    cols = score_pairs(cand_ids, d.dirty_postings) if d.dirty_postings else pd.DataFrame(columns=PAIR_COLUMNS)
    dirty_c, dirty_p = set(d.dirty_candidates), set(d.dirty_postings)

    # candidate side: dirty ones from their full row; the others merge their previous list with the dirty columns
    c_pool = pd.concat([rows[rows["rank_for_candidate"].notna()][comp],
                        keep[keep["rank_for_candidate"].notna() & ~keep["candidate_id"].isin(dirty_c)][comp],
                        cols[cols["rank_for_candidate"].notna() & ~cols["candidate_id"].isin(dirty_c)][comp]])
    c_side = _best_k(c_pool[c_pool["candidate_id"].isin(live_c)], "candidate_id", k, "rank_for_candidate")
    # posting side: the mirror image
    p_pool = pd.concat([cols[cols["rank_for_posting"].notna()][comp],
                        keep[keep["rank_for_posting"].notna() & ~keep["posting_id"].isin(dirty_p)][comp],
                        rows[rows["rank_for_posting"].notna() & ~rows["posting_id"].isin(dirty_p)][comp]])
    p_side = _best_k(p_pool[p_pool["posting_id"].isin(live_p)], "posting_id", k, "rank_for_posting")
    return _join_sides(c_side, p_side)


def _join_sides(c_side: pd.DataFrame, p_side: pd.DataFrame) -> pd.DataFrame:
    """One row per pair in either side's top-k, with both ranks (``PAIR_COLUMNS``)."""
    out = c_side.merge(p_side, on=["candidate_id", "posting_id"], how="outer", suffixes=("", "_p"))
    for c in ("score", *COMPONENTS):
        out[c] = out[c].fillna(out[f"{c}_p"])
    for c in ("rank_for_candidate", "rank_for_posting"):
        out[c] = out[c].astype("Int64")
    return out[PAIR_COLUMNS].reset_index(drop=True)


def merge_row_shards(parts: list[pd.DataFrame], k: int) -> pd.DataFrame:
    """Top-k both ways of the whole matrix from its row shards' top-k both ways (each shard: some candidates x
    every posting). A candidate's list is complete in its own shard; a posting's top-k is the best k of its
    top-k in each shard, since every candidate outside a shard's list scores below its k-th there."""
    comp = ["candidate_id", "posting_id", "score", *COMPONENTS]
    rows = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PAIR_COLUMNS)
    c_side = rows[rows["rank_for_candidate"].notna()][[*comp, "rank_for_candidate"]]
    p_side = _best_k(rows[rows["rank_for_posting"].notna()][comp], "posting_id", k, "rank_for_posting")
    return _join_sides(c_side, p_side)


@dataclass(frozen=True)
class RunPlan:
    full: bool
    reason: str
    model: ScoringModel | None = None
    previous: pd.DataFrame | None = None
    delta: Delta | None = None


def _age_days(fitted_at: str) -> float:
    from datetime import datetime

    return (utcnow() - datetime.fromisoformat(fitted_at)).total_seconds() / 86400


def plan_run(state: Path, fact_match: Path, fp_c: pd.Series, fp_p: pd.Series, settings: Settings) -> RunPlan:
    """Full or incremental, and why. Incremental needs the previous state to be whole and to belong to the
    ``fact_match`` on disk (a run that died between the two writes falls back to full), the same top-k and
    weights, a model younger than ``match_refit_days`` and at most ``match_full_share`` of either side changed
    (``match_full_share_gpu`` where this process scores on a GPU: on an H200 a full recompute of 100k x 100k took
    6.0 s and the incremental path after 1 % changed 12.5 s, as its host-side work does not shrink with the device,
    while on 2 CPU cores it was 2.3x faster than full, 44 s against 103 s; ``benchmarks/RESULTS.md``)."""
    from skillmatch.extraction.encoder import resolve_device
    from skillmatch.lake import sha256_file

    if settings.match_force_full:
        return RunPlan(True, "forced (SKILLMATCH_MATCH_FULL)")
    loaded = load_model(state)
    fp_file = state / "fingerprints.parquet"
    if loaded is None or not fact_match.exists() or not fp_file.exists():
        return RunPlan(True, "no previous match state")
    model, meta = loaded
    if meta.get("fact_match_sha256") != sha256_file(fact_match):
        return RunPlan(True, "fact_match does not belong to the saved state")
    if meta.get("top_k") != settings.top_k or meta.get("weights") != settings.weights.as_list():
        return RunPlan(True, "top-k or weights changed")
    age = _age_days(model.fitted_at)
    if age > settings.match_refit_days:
        return RunPlan(True, f"scoring model is {age:.1f} days old (refit every {settings.match_refit_days})")
    fps = read_parquet(fp_file)
    prev_c = fps[fps["side"] == "candidate"].set_index("doc_id")["fingerprint"]
    prev_p = fps[fps["side"] == "posting"].set_index("doc_id")["fingerprint"]
    import pyarrow.parquet as pq

    if set(PAIR_COLUMNS) - set(pq.read_schema(fact_match).names):
        return RunPlan(True, "fact_match lacks score components of this engine")
    previous = read_parquet(fact_match, columns=PAIR_COLUMNS)
    d = delta(previous, prev_c, prev_p, fp_c, fp_p)
    gpu = resolve_device(settings.device).startswith("cuda")
    limit = settings.match_full_share_gpu if gpu else settings.match_full_share
    for side, changed, removed, now in (("resumes", d.changed_candidates, d.removed_candidates, fp_c),
                                        ("postings", d.changed_postings, d.removed_postings, fp_p)):
        share = (len(changed) + len(removed)) / max(len(now) + len(removed), 1)
        if share > limit:
            return RunPlan(True, f"{share:.0%} of {side} changed (> {limit:.0%}{' on a GPU' if gpu else ''})")
    return RunPlan(False, f"model fitted {model.fitted_at}", model, previous, d)


def save_model(folder: Path, model: ScoringModel, refit: bool = True, **meta: object) -> None:
    """``model`` in ``folder`` (``idf.parquet`` when ``refit``, ``model.json`` with ``meta`` added), as
    :func:`load_model` reads it."""
    if refit:
        write_parquet_atomic(pd.DataFrame({"skill_id": model.idf.index, "idf": model.idf.to_numpy()}),
                             folder / "idf.parquet")
    write_json_atomic({"fitted_at": model.fitted_at, "postings": model.postings, "candidates": model.candidates,
                       "centre": None if model.centre is None else model.centre.tolist(),
                       "title_centre": None if model.title_centre is None else model.title_centre.tolist(),
                       **meta}, folder / "model.json")


def save_state(state: Path, model: ScoringModel, fp_c: pd.Series, fp_p: pd.Series, settings: Settings,
               refit: bool) -> None:
    """The fingerprints scored this run and the model, tied to the ``fact_match`` just written."""
    from skillmatch.lake import sha256_file

    fps = pd.concat([pd.DataFrame({"doc_id": fp_c.index, "side": "candidate", "fingerprint": fp_c.to_numpy()}),
                     pd.DataFrame({"doc_id": fp_p.index, "side": "posting", "fingerprint": fp_p.to_numpy()})])
    write_parquet_atomic(fps.reset_index(drop=True), state / "fingerprints.parquet")
    save_model(state, model, refit, top_k=settings.top_k, weights=settings.weights.as_list(),
               fact_match_sha256=sha256_file(state.parent / "fact_match.parquet"))
