"""Extraction stage: silver documents -> ``fact_posting_skill`` / ``fact_candidate_skill`` + document embeddings.

Incremental: rows of documents whose content hash, taxonomy version and model version are unchanged since the
last run are carried over; only new or changed documents are extracted. The output is a full snapshot, written
atomically, so a re-run never duplicates rows.

Sharded (the nightly DAG): :func:`plan_shards` splits the documents to extract into shards of about
``SKILLMATCH_EXTRACT_SHARD_DOCS`` documents and records the plan in the lake; one mapped task per shard runs
:func:`extract_shard` (any worker of queue ``gpu``) and writes its part under ``gold/_shards/``; :func:`merge_shards`
checks that the parts hold every planned document exactly once, writes the same snapshot
:func:`extract_entity` would, and removes the parts.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skillmatch.config import Settings
from skillmatch.extraction.encoder import encoder_name, inference_precision, model_path
from skillmatch.extraction.extract import SkillIndex, extract_documents
from skillmatch.extraction.text_cache import TextCache, TextCaches, compact
from skillmatch.lake import read_parquet, remove_tree, safe_name, write_json_atomic, write_parquet_atomic
from skillmatch.taxonomy.build import read_dim_skill

log = logging.getLogger(__name__)

ENTITIES = {"postings": ("posting_id", "fact_posting_skill"), "resumes": ("candidate_id", "fact_candidate_skill")}


@dataclass
class _Plan:
    docs: pd.DataFrame  # every silver document: doc_id, content_key, text
    todo: pd.DataFrame  # the ones to extract, sorted by doc_id
    reuse_ids: set[str]
    old_fact: pd.DataFrame | None
    old_emb: pd.DataFrame | None
    version: tuple[str, str]  # (taxonomy version, model version)


def _plan(settings: Settings, entity: str, index: SkillIndex) -> _Plan:
    id_col, fact = ENTITIES[entity]
    silver = read_parquet(settings.lake("silver", f"{entity}.parquet"), columns=[id_col, "content_key", "text"])
    docs = silver.rename(columns={id_col: "doc_id"})
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
    todo = docs[~docs["doc_id"].isin(reuse_ids)].sort_values("doc_id").reset_index(drop=True)
    log.info("extract %s: %d documents, %d unchanged (cached), %d to extract", entity, len(docs), len(reuse_ids),
             len(todo))
    return _Plan(docs, todo, reuse_ids, old_fact, old_emb, version)


def text_caches(settings: Settings, entity: str, index: SkillIndex) -> TextCaches:
    """The entity's per-text caches for the index's encoder, tagger and sentence linker (keyed by their versions and
    precision)."""
    precision = inference_precision(index.device)
    weights = model_path() / "model.safetensors"
    encoder_key = f"{encoder_name()}-{weights.stat().st_size if weights.exists() else 0}-{precision}"
    tagger = index.tagger
    linker = index.sentence_model[0]
    root = settings.lake("gold", "_cache", entity)
    return TextCaches(TextCache(root / safe_name(f"embedding-{encoder_key}"), "embedding"),
                      None if tagger is None else TextCache(root / safe_name(f"tags-{tagger.key}-{precision}"),
                                                            "tags"),
                      None if linker is None else TextCache(root / safe_name(f"embedding-{linker.name}-{precision}"),
                                                            "embedding"))


def _extract(todo: pd.DataFrame, index: SkillIndex, settings: Settings,
             entity: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(mentions, embeddings) of the documents in ``todo``, each row with its document's content key; texts an
    earlier run encoded or tagged come from the entity's text caches, and what this one computed is added."""
    caches = text_caches(settings, entity, index) if len(todo) else None
    mentions, emb = extract_documents(todo[["doc_id", "text"]], index, settings, caches,
                                      postings=entity == "postings")
    if caches is not None:
        caches.save()
    mentions = mentions.merge(todo[["doc_id", "content_key"]], on="doc_id")
    new_emb = pd.DataFrame({"doc_id": todo["doc_id"], "content_key": todo["content_key"],
                            "embedding": list(emb.astype(np.float32))})
    return mentions, new_emb


def _write(settings: Settings, entity: str, plan: _Plan, mentions: pd.DataFrame,
           new_emb: pd.DataFrame) -> dict[str, int]:
    _, fact = ENTITIES[entity]
    if plan.reuse_ids:
        old_fact, old_emb = plan.old_fact, plan.old_emb
        mentions = pd.concat([old_fact[old_fact["doc_id"].isin(plan.reuse_ids)], mentions], ignore_index=True)
        new_emb = pd.concat([old_emb[old_emb["doc_id"].isin(plan.reuse_ids)]
                             .drop(columns=["taxonomy_version", "model_version"]), new_emb], ignore_index=True)
    mentions["taxonomy_version"], mentions["model_version"] = plan.version
    new_emb["taxonomy_version"], new_emb["model_version"] = plan.version
    mentions = mentions.sort_values(["doc_id", "char_start"]).reset_index(drop=True)
    write_parquet_atomic(mentions, settings.lake("gold", f"{fact}.parquet"))
    write_parquet_atomic(new_emb.sort_values("doc_id").reset_index(drop=True),
                         settings.lake("gold", f"embedding_{entity}.parquet"))
    for folder in _cache_folders(settings, entity):  # the one writer of this entity now: fold small parts
        compact(folder)
    counts = {"documents": len(plan.docs), "extracted": len(plan.todo), "cached": len(plan.reuse_ids),
              "skill_rows": len(mentions), "documents_with_skills": int(mentions["doc_id"].nunique())}
    log.info("extract %s: %s", entity, counts)
    return counts


def _cache_folders(settings: Settings, entity: str) -> list:
    root = settings.lake("gold", "_cache", entity)
    return [f for f in root.iterdir() if f.is_dir()] if root.exists() else []


def extract_entity(settings: Settings, entity: str, index: SkillIndex | None = None) -> dict[str, int]:
    """Extract skills for every silver document of ``entity`` ("postings" or "resumes") in this process."""
    index = index or SkillIndex(read_dim_skill(settings), settings)
    plan = _plan(settings, entity, index)
    mentions, new_emb = _extract(plan.todo, index, settings, entity)
    return _write(settings, entity, plan, mentions, new_emb)


def _shard_folder(settings: Settings, entity: str, run_id: str):  # noqa: ANN202 - Path or UPath
    return settings.lake("gold", "_shards", entity, safe_name(run_id))


def _shard_files(folder, shard: int, shards: int) -> tuple:  # noqa: ANN001 - Path or UPath
    stem = f"{shard:05d}-of-{shards:05d}"
    return folder / f"mentions-{stem}.parquet", folder / f"embeddings-{stem}.parquet"


def plan_shards(settings: Settings, entity: str, run_id: str, shard_docs: int) -> dict[str, int]:
    """Split the documents ``entity`` needs extracted into ``ceil(todo / shard_docs)`` shards (at least one, so
    the merge always runs) and record the plan in the lake; returns the counts with ``shards``."""
    index = SkillIndex(read_dim_skill(settings), settings)
    plan = _plan(settings, entity, index)
    shards = max(1, math.ceil(len(plan.todo) / max(1, shard_docs)))
    folder = _shard_folder(settings, entity, run_id)
    remove_tree(folder)  # parts of an earlier try of this run
    write_parquet_atomic(plan.todo[["doc_id"]], folder / "todo.parquet")  # what the shards split, in order
    write_json_atomic({"entity": entity, "run_id": run_id, "shards": shards, "todo": len(plan.todo),
                       "version": list(plan.version)}, folder / "plan.json")
    log.info("extract %s: %d documents to extract in %d shard(s) of at most %d", entity, len(plan.todo), shards,
             math.ceil(len(plan.todo) / shards) if len(plan.todo) else 0)
    return {"documents": len(plan.docs), "to_extract": len(plan.todo), "cached": len(plan.reuse_ids),
            "shards": shards, "shard_docs": shard_docs}


def has_plan(settings: Settings, entity: str, run_id: str) -> bool:
    """Whether run ``run_id`` planned sharded extraction of ``entity``."""
    return (_shard_folder(settings, entity, run_id) / "plan.json").exists()


def _read_plan(settings: Settings, entity: str, run_id: str) -> dict:
    import json

    path = _shard_folder(settings, entity, run_id) / "plan.json"
    if not path.exists():
        raise FileNotFoundError(f"no extraction plan for {entity} in run {run_id} ({path}): run the plan task first")
    return json.loads(path.read_text())


def extract_shard(settings: Settings, entity: str, run_id: str, shard: int) -> dict[str, int]:
    """Extract shard ``shard`` of the run's plan: every ``shards``-th document to extract, in doc id order."""
    spec = _read_plan(settings, entity, run_id)
    shards = int(spec["shards"])
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is outside the plan's {shards} shard(s) for {entity} in run {run_id}")
    # the plan's list, not a second look at the previous snapshot: a shard reads only silver
    folder = _shard_folder(settings, entity, run_id)
    ids = read_parquet(folder / "todo.parquet")["doc_id"].iloc[shard::shards]
    id_col, _ = ENTITIES[entity]
    silver = read_parquet(settings.lake("silver", f"{entity}.parquet"), columns=[id_col, "content_key", "text"])
    part = silver.rename(columns={id_col: "doc_id"}).set_index("doc_id").reindex(ids).dropna(subset=["text"])
    part = part.reset_index()
    index = SkillIndex(read_dim_skill(settings), settings)
    mentions, new_emb = _extract(part, index, settings, entity)
    m_file, e_file = _shard_files(folder, shard, shards)
    write_parquet_atomic(mentions, m_file)
    write_parquet_atomic(new_emb, e_file)
    log.info("extract %s shard %d/%d: %d documents, %d mentions", entity, shard + 1, shards, len(part), len(mentions))
    return {"documents": len(part), "skill_rows": len(mentions), "shard": shard, "shards": shards}


def merge_shards(settings: Settings, entity: str, run_id: str) -> dict[str, int]:
    """Merge the run's shard parts into the snapshot; fails, naming what is wrong, when a part is missing or
    the parts do not hold each planned document exactly once (silver changed under the run, say)."""
    spec = _read_plan(settings, entity, run_id)
    shards = int(spec["shards"])
    folder = _shard_folder(settings, entity, run_id)
    index = SkillIndex(read_dim_skill(settings), settings)
    plan = _plan(settings, entity, index)
    if list(plan.version) != list(spec["version"]):
        raise RuntimeError(f"extract {entity}: the model or taxonomy changed since run {run_id} planned its shards "
                           f"({spec['version']} -> {list(plan.version)}); re-run the DAG")
    parts_m, parts_e = [], []
    for shard in range(shards):
        m_file, e_file = _shard_files(folder, shard, shards)
        for f in (m_file, e_file):
            if not f.exists():
                raise FileNotFoundError(f"extract {entity}: shard {shard + 1}/{shards} of run {run_id} left no {f}")
        parts_m.append(read_parquet(m_file))
        parts_e.append(read_parquet(e_file))
    new_emb = pd.concat(parts_e, ignore_index=True)
    got = sorted(zip(new_emb["doc_id"], new_emb["content_key"]))
    want = sorted(zip(plan.todo["doc_id"], plan.todo["content_key"]))
    if got != want:
        missing, extra = len(set(want) - set(got)), len(got) - len(set(got)) + len(set(got) - set(want))
        raise RuntimeError(f"extract {entity}: the {shards} shard(s) of run {run_id} do not hold the planned "
                           f"documents exactly once ({missing} missing, {extra} extra or stale); re-run the DAG")
    mentions = pd.concat(parts_m, ignore_index=True)
    counts = _write(settings, entity, plan, mentions, new_emb)
    remove_tree(folder)
    return {**counts, "shards": shards}


def read_embeddings(settings: Settings, entity: str) -> tuple[list[str], np.ndarray]:
    """(doc ids, L2-normalised embedding matrix) for an entity."""
    df = read_parquet(settings.lake("gold", f"embedding_{entity}.parquet"))
    mat = np.vstack(df["embedding"].to_numpy()).astype(np.float32) if len(df) else np.zeros((0, 384), np.float32)
    return df["doc_id"].tolist(), mat
