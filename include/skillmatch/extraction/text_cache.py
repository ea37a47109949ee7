"""Per-text results of the extractor kept in the lake across runs, so no text is embedded or tagged twice.

Postings repeat boilerplate (equal-opportunity statements, benefits, "must have" lists) and skill spans repeat
everywhere ("Python", "SQL"); the document cache (:mod:`skillmatch.extraction.stage`) skips unchanged documents,
this one skips the texts of new or changed documents that an earlier run already saw. Two kinds:

- ``embedding``: an encoder's vector of a sentence or span, keyed by the encoder (the packaged one: name, weights
  size and precision, fp16 on CUDA, bf16 or fp32 on the CPU; the sentence linker: its version and precision) and the
  text's hash;
- ``tags``: the tagger's spans of a sentence (character offsets, type, confidence; those above the tagger's
  calibrated threshold, which is part of its version), keyed by the tagger version and precision and the text's
  hash.

Each kind lives in ``gold/_cache/<entity>/<kind>-<model key>/`` as Parquet parts (``key``, ``value``); a run
adds one part with what it computed (a sharded run one per shard), and the merge compacts the parts when they
grow many. A model change starts a new folder, so a stale entry is never read.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skillmatch.lake import is_remote, read_parquet, write_parquet_atomic

log = logging.getLogger(__name__)

MAX_PARTS = 16  # compact a folder's parts into one beyond this


def text_key(text: str) -> str:
    """The cache key of a text: 128 bits of its BLAKE2b hash, hex."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class TextCache:
    """One kind of per-text result of one model, loaded from ``folder`` (a local or remote lake path)."""

    def __init__(self, folder, kind: str) -> None:  # noqa: ANN001 - Path or UPath
        if kind not in ("embedding", "tags"):
            raise ValueError(f"unknown text cache kind {kind!r}")
        self.folder, self.kind = folder, kind
        self.known: dict[str, object] = {}
        self.new: dict[str, object] = {}
        self.hits = self.computed = 0
        if folder.exists():
            df = read_parquet(folder, columns=["key", "value"])
            values = df["value"] if kind == "embedding" else df["value"].map(_tags_from_json)
            self.known = dict(zip(df["key"], values))

    def through(self, texts: Sequence[str], compute: Callable[[list[str]], Sequence]) -> list:
        """``compute(texts)``'s result per text, computing only the texts not seen before (each distinct text
        once); new results are kept for :meth:`save`."""
        keys = [text_key(t) for t in texts]
        todo: dict[str, str] = {}
        for t, k in zip(texts, keys):
            if k not in self.known and k not in todo:
                todo[k] = t
        self.hits += len(keys) - len(todo)
        if todo:
            out = compute(list(todo.values()))
            for k, v in zip(todo, out):
                v = np.asarray(v, dtype=np.float32) if self.kind == "embedding" else v
                self.known[k] = self.new[k] = v
            self.computed += len(todo)
        return [self.known[k] for k in keys]

    def save(self) -> int:
        """Write what this run computed as one new part; returns the number of entries written."""
        if not self.new:
            return 0
        values = list(self.new.values()) if self.kind == "embedding" else [_tags_to_json(v) for v in self.new.values()]
        write_parquet_atomic(pd.DataFrame({"key": list(self.new), "value": values}),
                             self.folder / f"part-{uuid.uuid4().hex}.parquet")
        n, self.new = len(self.new), {}
        return n

    def summary(self) -> str:
        total = self.hits + self.computed
        share = 100 * self.hits / max(total, 1)
        return f"{self.kind} cache: {self.hits:,} of {total:,} texts served ({share:.0f} %), {self.computed:,} computed"


@dataclass
class TextCaches:
    """The per-text caches one extraction reads and fills: the packaged encoder's vectors of spans (and of sentences
    when no linker embeds them), the tagger's spans of sentences (None without a tagger), and the sentence linker's
    vectors of sentences (None when the packaged encoder embeds them)."""

    embedding: TextCache
    tags: TextCache | None = None
    sentence: TextCache | None = None

    @property
    def sentences(self) -> TextCache:
        """The cache of sentence vectors: the linker's when it embeds sentences, else the packaged encoder's."""
        return self.sentence if self.sentence is not None else self.embedding

    def save(self) -> None:
        """Write the caches' new entries and log their hit rates."""
        for c in (self.embedding, self.tags, self.sentence):
            if c is not None:
                c.save()
                log.info(c.summary())


def compact(folder, max_parts: int = MAX_PARTS) -> int:  # noqa: ANN001 - Path or UPath
    """Fold a cache folder's parts into one when there are more than ``max_parts`` (one writer at a time: the
    extraction merge); returns the number of parts after."""
    if not folder.exists():
        return 0
    parts = [p for p in folder.iterdir() if p.name.startswith("part-") and p.name.endswith(".parquet")]
    if len(parts) <= max_parts:
        return len(parts)
    df = read_parquet(folder, columns=["key", "value"]).drop_duplicates("key")
    write_parquet_atomic(df, folder / f"part-{uuid.uuid4().hex}.parquet")
    for p in parts:
        remove_file(p)
    return 1


def remove_file(path) -> None:  # noqa: ANN001 - Path or UPath
    if is_remote(path):
        path.fs.rm(path.path)
    else:
        path.unlink(missing_ok=True)


def _tags_to_json(spans: Sequence[tuple]) -> str:
    return json.dumps([list(s) for s in spans])


def _tags_from_json(text: str) -> list[tuple]:
    return [tuple(s) for s in json.loads(text)]
