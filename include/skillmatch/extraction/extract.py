"""Skill extraction: alias matches plus encoder sentence linking, per document, with a per-document cache.

Output rows (one per document and skill, best evidence kept): doc_id, skill_id, preferred_label, surface_form,
char_start, char_end, sentence_index, score, method (``alias`` | ``encoder``), mention_count, content_hash,
taxonomy_version, model_version. Documents whose content hash is unchanged since the previous run reuse their
rows and embeddings, so a warm nightly run only encodes what is new.
"""
from __future__ import annotations

import bisect
import logging
import time

import numpy as np
import pandas as pd

from skillmatch.config import Settings
from skillmatch.extraction.alias import AliasMatcher
from skillmatch.extraction.encoder import ENCODER_NAME, encode, label_embeddings, resolve_device, split_sentences

log = logging.getLogger(__name__)

MENTION_COLUMNS = ["doc_id", "skill_id", "preferred_label", "surface_form", "char_start", "char_end",
                   "sentence_index", "score", "method", "mention_count"]
EXTRACTOR_VERSION = "alias+minilm-sentence-v1"


class SkillIndex:
    """A taxonomy ready for extraction: alias automaton + label embedding matrix."""

    def __init__(self, dim_skill: pd.DataFrame, settings: Settings) -> None:
        self.dim_skill = dim_skill.reset_index(drop=True)
        self.labels = dict(zip(self.dim_skill["skill_id"], self.dim_skill["preferred_label"]))
        self.taxonomy_version = str(self.dim_skill["taxonomy_version"].iloc[0]) if len(dim_skill) else "empty"
        self.matcher = AliasMatcher(self.dim_skill)
        self.device = resolve_device(settings.device)
        self.settings = settings
        self._label_emb: np.ndarray | None = None

    @property
    def label_emb(self) -> np.ndarray:
        """Embeddings of every concept's label (+ short description for context), cached on disk."""
        if self._label_emb is None:
            texts = [str(lbl) for lbl in self.dim_skill["preferred_label"]]
            key = f"{ENCODER_NAME}-{self.taxonomy_version}-{len(texts)}".replace("/", "_").replace(":", "_")
            self._label_emb = label_embeddings(texts, self.settings.lake("cache", "label_embeddings", f"{key}.npy"),
                                               self.device)
        return self._label_emb

    @property
    def model_version(self) -> str:
        """Identifies what produced a mention row, for cache invalidation and lineage."""
        return f"{EXTRACTOR_VERSION}:{ENCODER_NAME}"

    def rank(self, sent_emb: np.ndarray, top_k: int, restrict: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, concept row indices) per sentence embedding, computed in blocks with torch."""
        import torch

        labels = self.label_emb if restrict is None else self.label_emb[restrict]
        lab = torch.from_numpy(labels).to(self.device)
        scores_out, idx_out = [], []
        for b in range(0, sent_emb.shape[0], 4096):
            q = torch.from_numpy(sent_emb[b:b + 4096]).to(self.device)
            s, i = torch.topk(q @ lab.T, k=min(top_k, lab.shape[0]), dim=1)
            scores_out.append(s.cpu().numpy())
            idx_out.append(i.cpu().numpy())
        if not scores_out:
            return np.zeros((0, top_k), np.float32), np.zeros((0, top_k), np.int64)
        idx = np.concatenate(idx_out)
        if restrict is not None:
            idx = restrict[idx]
        return np.concatenate(scores_out), idx


def extract_documents(docs: pd.DataFrame, index: SkillIndex, settings: Settings) -> tuple[pd.DataFrame, np.ndarray]:
    """Extract skill mentions from ``docs`` (columns doc_id, text); returns (mentions, doc embeddings)."""
    t0 = time.time()
    rows: list[dict[str, object]] = []
    sent_texts: list[str] = []
    sent_owner: list[tuple[int, int, int, int]] = []  # (doc row, sentence index, start, end)
    doc_sent_starts: list[list[int]] = []
    for d, (doc_id, text) in enumerate(zip(docs["doc_id"], docs["text"])):
        text = text if isinstance(text, str) else ""
        spans = split_sentences(text)
        starts = [s for s, _ in spans]
        doc_sent_starts.append(starts)
        for start, end, surf in index.matcher.find(text):
            sidx = max(0, bisect.bisect_right(starts, start) - 1)
            rows.append({"doc_id": doc_id, "skill_id": surf.skill_id, "surface_form": text[start:end],
                         "char_start": start, "char_end": end, "sentence_index": sidx, "score": 1.0,
                         "method": "alias"})
        for si, (s, e) in enumerate(spans[: settings.max_sentences_per_doc]):
            sent_texts.append(text[s:e])
            sent_owner.append((d, si, s, e))
    emb = encode(sent_texts, index.device) if sent_texts else np.zeros((0, 384), np.float32)
    doc_emb = np.zeros((len(docs), 384), np.float32)
    if len(sent_texts):
        owners = np.array([o[0] for o in sent_owner])
        np.add.at(doc_emb, owners, emb)
        norms = np.linalg.norm(doc_emb, axis=1, keepdims=True)
        doc_emb = doc_emb / np.where(norms == 0, 1, norms)
        scores, idx = index.rank(emb, top_k=1)
        doc_ids = docs["doc_id"].tolist()
        texts = [t if isinstance(t, str) else "" for t in docs["text"]]
        for (d, si, s, e), sc, ix in zip(sent_owner, scores[:, 0], idx[:, 0]):
            if sc >= settings.encoder_threshold and len(texts[d][s:e].split()) >= 4:
                rows.append({"doc_id": doc_ids[d], "skill_id": index.dim_skill["skill_id"].iat[int(ix)],
                             "surface_form": texts[d][s:e][:300], "char_start": s, "char_end": e,
                             "sentence_index": si, "score": round(float(sc), 4), "method": "encoder"})
    mentions = _dedupe(pd.DataFrame(rows, columns=[c for c in MENTION_COLUMNS if c not in {"preferred_label", "mention_count"}]))
    mentions["preferred_label"] = mentions["skill_id"].map(index.labels)
    dt = time.time() - t0
    log.info("extracted %d skills from %d docs (%d sentences) in %.1fs (%.0f sentences/s) on %s",
             len(mentions), len(docs), len(sent_texts), dt, len(sent_texts) / max(dt, 1e-9), index.device)
    return mentions[MENTION_COLUMNS], doc_emb


def _dedupe(m: pd.DataFrame) -> pd.DataFrame:
    """One row per (doc, skill): alias evidence beats encoder, then the higher score, then the first offset."""
    if m.empty:
        return m.assign(mention_count=pd.Series(dtype="int64"))
    m = m.assign(_m=(m["method"] != "alias").astype(int))
    counts = m.groupby(["doc_id", "skill_id"]).size().rename("mention_count")
    m = m.sort_values(["doc_id", "skill_id", "_m", "score", "char_start"], ascending=[True, True, True, False, True])
    m = m.drop_duplicates(["doc_id", "skill_id"]).drop(columns="_m")
    return m.join(counts, on=["doc_id", "skill_id"]).reset_index(drop=True)


def rank_sentences(sentences: list[str], index: SkillIndex, top_k: int, source: str | None = None) -> list[list[dict[str, object]]]:
    """For each sentence, the top-k taxonomy concepts by encoder similarity (optionally one taxonomy source)."""
    restrict = None
    if source:
        restrict = np.flatnonzero(index.dim_skill["taxonomy_source"].to_numpy() == source)
    emb = encode(sentences, index.device)
    scores, idx = index.rank(emb, top_k=top_k, restrict=restrict)
    out = []
    for srow, irow in zip(scores, idx):
        out.append([{"skill_id": index.dim_skill["skill_id"].iat[int(i)],
                     "label": index.dim_skill["preferred_label"].iat[int(i)], "score": round(float(s), 4)}
                    for s, i in zip(srow, irow)])
    return out
