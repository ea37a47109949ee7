"""Soft coverage: a skill the candidate holds partly covers a related skill the posting asks for.

Relations come from the taxonomy alone (so they are fixed per taxonomy version, and an incremental run scores
exactly as a full one), two kinds, the larger credit kept per pair:

- the ESCO / O*NET hierarchy: holding a concept credits its broader concept (when that is a concept a posting can
  ask for, not a group) with :data:`BROADER_CREDIT`, e.g. a specific framework towards its field;
- label similarity: the :data:`NEIGHBOURS` concepts whose label embeddings are nearest (cosine at least
  :data:`LABEL_MIN_COS`) get ``SOFT_MAX * cosine``, e.g. ESCO's "Python (computer programming)" and O*NET's
  "Python", or "PostgreSQL" and "MySQL".

Every credit is below 1: a related skill never counts as much as the skill itself.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from skillmatch.config import Settings

log = logging.getLogger(__name__)

BROADER_CREDIT = 0.5
SOFT_MAX = 0.8
LABEL_MIN_COS = 0.75
NEIGHBOURS = 8
RELATION_COLUMNS = ["skill_id", "related_id", "credit", "relation"]


def label_neighbours(skill_ids: list[str], emb: np.ndarray, k: int = NEIGHBOURS, min_cos: float = LABEL_MIN_COS,
                     block: int = 2048) -> pd.DataFrame:
    """(skill_id, related_id, cosine) for each skill's ``k`` nearest other labels at ``min_cos`` or above."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(emb, dtype=np.float32))
    x = torch.nn.functional.normalize(x, dim=1)
    rows, cols, sims = [], [], []
    k = min(k + 1, len(skill_ids))
    with torch.inference_mode():
        for b in range(0, len(skill_ids), block):
            s = x[b:b + block] @ x.T
            s[torch.arange(s.shape[0]), torch.arange(b, b + s.shape[0])] = -1.0  # not itself
            v, i = torch.topk(s, k=k, dim=1)
            keep = v >= min_cos
            r = torch.arange(b, b + s.shape[0]).unsqueeze(1).expand_as(i)
            rows.append(r[keep].numpy())
            cols.append(i[keep].numpy())
            sims.append(v[keep].numpy())
    ids = np.asarray(skill_ids, dtype=object)
    r, c = np.concatenate(rows) if rows else np.array([], int), np.concatenate(cols) if cols else np.array([], int)
    return pd.DataFrame({"skill_id": ids[r], "related_id": ids[c],
                         "cosine": np.concatenate(sims).astype(float) if sims else np.array([], float)})


def skill_relations(dim_skill: pd.DataFrame, hierarchy: pd.DataFrame, label_emb: np.ndarray | None) -> pd.DataFrame:
    """The relation table (``RELATION_COLUMNS``): held ``skill_id`` credits ``related_id`` with ``credit``."""
    known = set(dim_skill["skill_id"])
    h = hierarchy[hierarchy["skill_id"].isin(known) & hierarchy["broader_id"].isin(known)
                  & (hierarchy["skill_id"] != hierarchy["broader_id"])]
    parts = [pd.DataFrame({"skill_id": h["skill_id"].to_numpy(), "related_id": h["broader_id"].to_numpy(),
                           "credit": BROADER_CREDIT, "relation": "broader"})]
    if label_emb is not None and len(label_emb) == len(dim_skill):
        nb = label_neighbours(dim_skill["skill_id"].tolist(), label_emb)
        parts.append(pd.DataFrame({"skill_id": nb["skill_id"], "related_id": nb["related_id"],
                                   "credit": (SOFT_MAX * nb["cosine"]).round(4), "relation": "similar label"}))
    rel = pd.concat(parts, ignore_index=True)
    rel = rel.sort_values(["skill_id", "related_id", "credit"], ascending=[True, True, False], kind="stable")
    return rel.drop_duplicates(["skill_id", "related_id"]).reset_index(drop=True)[RELATION_COLUMNS]


def load_relations(settings: Settings) -> pd.DataFrame:
    """The relation table of the lake's taxonomy, built once per taxonomy version and kept beside it."""
    from skillmatch.extraction.encoder import concept_label_embeddings, resolve_device
    from skillmatch.lake import read_parquet, write_parquet_atomic

    dim = read_parquet(settings.lake("taxonomy", "dim_skill.parquet"))
    version = str(dim["taxonomy_version"].iloc[0]) if len(dim) else "empty"
    path = settings.lake("taxonomy", "skill_relation.parquet")
    if path.exists():
        rel = read_parquet(path)
        if "taxonomy_version" in rel and len(rel) and (rel["taxonomy_version"] == version).all():
            return rel[RELATION_COLUMNS]
    hier_path = settings.lake("taxonomy", "dim_skill_hierarchy.parquet")
    hier = read_parquet(hier_path) if hier_path.exists() else pd.DataFrame(columns=["skill_id", "broader_id"])
    texts = [str(x) for x in dim["preferred_label"]]
    # the same cache file the extractor writes, so the labels are embedded once per taxonomy
    emb = concept_label_embeddings(texts, version, settings.model_dir, resolve_device(settings.device)) \
        if texts else None
    rel = skill_relations(dim, hier, emb)
    write_parquet_atomic(rel.assign(taxonomy_version=version), path)
    log.info("skill relations for %s: %d (%s)", version, len(rel), rel["relation"].value_counts().to_dict())
    return rel


def candidate_credits(cand_skills: dict[str, set[str]], relations: pd.DataFrame | None,
                      strength: dict[str, dict[str, float]] | None = None) -> dict[str, dict[str, float]]:
    """Per candidate, the credit of each skill that does not count fully: a held skill whose evidence strength
    (``matching.evidence``; 1 when not given) is below 1, and a skill they do not hold but a held one is related
    to, whose soft credit is the relation's credit times the held skill's strength. A skill takes the largest
    credit it can get; held skills absent from the result count 1."""
    by_skill: dict[str, list[tuple[str, float]]] = {}
    if relations is not None and not relations.empty:
        for s, r, c in zip(relations["skill_id"], relations["related_id"], relations["credit"]):
            by_skill.setdefault(s, []).append((r, float(c)))
    strength = strength or {}
    out: dict[str, dict[str, float]] = {}
    for cand, held in cand_skills.items():
        own = strength.get(cand, {})
        credits: dict[str, float] = {s: own[s] for s in held if own.get(s, 1.0) < 1.0}
        for s in held:
            lend = own.get(s, 1.0)
            for r, c in by_skill.get(s, ()):
                if r in held and own.get(r, 1.0) >= 1.0:
                    continue  # already counts fully
                if c * lend > credits.get(r, 0.0):
                    credits[r] = c * lend
        if credits:
            out[cand] = credits
    return out
