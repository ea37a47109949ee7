"""Extraction stage: silver documents -> ``fact_posting_skill`` / ``fact_candidate_skill`` + document embeddings.

Incremental: rows of documents whose content hash, taxonomy version and model version are unchanged since the
last run are carried over; only new or changed documents are extracted. The output is a full snapshot, written
atomically, so a re-run never duplicates rows.
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from skillmatch.config import Settings
from skillmatch.extraction.extract import SkillIndex, extract_documents
from skillmatch.lake import read_parquet, write_parquet_atomic
from skillmatch.taxonomy.build import read_dim_skill

log = logging.getLogger(__name__)

ENTITIES = {"postings": ("posting_id", "fact_posting_skill"), "resumes": ("candidate_id", "fact_candidate_skill")}


def extract_entity(settings: Settings, entity: str, index: SkillIndex | None = None) -> dict[str, int]:
    """Extract skills for every silver document of ``entity`` ("postings" or "resumes")."""
    id_col, fact = ENTITIES[entity]
    silver = read_parquet(settings.lake("silver", f"{entity}.parquet"), columns=[id_col, "content_key", "text"])
    docs = silver.rename(columns={id_col: "doc_id"})
    index = index or SkillIndex(read_dim_skill(settings), settings)
    fact_path = settings.lake("gold", f"{fact}.parquet")
    emb_path = settings.lake("gold", f"embedding_{entity}.parquet")
    version = (index.taxonomy_version, index.model_version)
    reuse_ids: set[str] = set()
    old_fact = old_emb = None
    if fact_path.exists() and emb_path.exists():
        old_fact = read_parquet(fact_path)
        old_emb = read_parquet(emb_path)
        same = old_emb[(old_emb["taxonomy_version"] == version[0]) & (old_emb["model_version"] == version[1])]
        keyed = docs.merge(same[["doc_id", "content_key"]], on=["doc_id", "content_key"])
        reuse_ids = set(keyed["doc_id"])
    todo = docs[~docs["doc_id"].isin(reuse_ids)].reset_index(drop=True)
    log.info("extract %s: %d documents, %d unchanged (cached), %d to extract", entity, len(docs), len(reuse_ids), len(todo))
    mentions, emb = extract_documents(todo[["doc_id", "text"]], index, settings)
    mentions = mentions.merge(todo[["doc_id", "content_key"]], on="doc_id")
    new_emb = pd.DataFrame({"doc_id": todo["doc_id"], "content_key": todo["content_key"],
                            "embedding": list(emb.astype(np.float32))})
    if reuse_ids:
        mentions = pd.concat([old_fact[old_fact["doc_id"].isin(reuse_ids)], mentions], ignore_index=True)
        new_emb = pd.concat([old_emb[old_emb["doc_id"].isin(reuse_ids)].drop(columns=["taxonomy_version", "model_version"]),
                             new_emb], ignore_index=True)
    mentions["taxonomy_version"], mentions["model_version"] = version
    new_emb["taxonomy_version"], new_emb["model_version"] = version
    mentions = mentions.rename(columns={"doc_id": "doc_id"}).sort_values(["doc_id", "char_start"]).reset_index(drop=True)
    write_parquet_atomic(mentions, fact_path)
    write_parquet_atomic(new_emb.sort_values("doc_id").reset_index(drop=True), emb_path)
    counts = {"documents": len(docs), "extracted": len(todo), "cached": len(reuse_ids), "skill_rows": len(mentions),
              "documents_with_skills": int(mentions["doc_id"].nunique())}
    log.info("extract %s: %s", entity, counts)
    return counts


def read_embeddings(settings: Settings, entity: str) -> tuple[list[str], np.ndarray]:
    """(doc ids, L2-normalised embedding matrix) for an entity."""
    df = read_parquet(settings.lake("gold", f"embedding_{entity}.parquet"))
    mat = np.vstack(df["embedding"].to_numpy()).astype(np.float32) if len(df) else np.zeros((0, 384), np.float32)
    return df["doc_id"].tolist(), mat
