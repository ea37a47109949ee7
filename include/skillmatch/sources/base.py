"""The one interface every postings source implements: ``fetch(since) -> FetchResult`` plus a watermark.

A connector turns one configured source (a landing folder, the HN runs, an ATS board API...) into canonical raw
postings (:data:`POSTING_COLUMNS`). ``since`` is the watermark the previous successful run left (``None`` on the
first run); the connector returns the records it fetched and the watermark to keep once those records are safely
in bronze. What could not be used as a whole (a file that does not parse, a response that is not JSON) comes back
in ``rejected`` with a reason naming the file or URL, and never stops the other files of the batch.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

# Canonical raw posting. ``native_id`` is the source's own id (posting_id = source + ":" + native_id downstream);
# salary_* are filled from the source's structured fields or parsed from ``salary_text``; description is plain text.
POSTING_COLUMNS = [
    "source", "native_id", "source_file", "source_row", "title", "company", "location", "remote",
    "employment_type", "seniority", "salary_text", "salary_min", "salary_max", "salary_currency", "salary_period",
    "description", "posted_at", "url",
]


@dataclass
class FetchResult:
    """What one fetch returns: records, the watermark to keep, and what was rejected whole (with reasons)."""

    records: pd.DataFrame
    watermark: dict[str, Any]
    rejected: list[dict[str, str]] = field(default_factory=list)  # {"source_file": file or URL, "error": reason}
    skipped_unchanged: int = 0  # files / pages the watermark says were already ingested unchanged


class PostingConnector(ABC):
    """A configured postings source. Subclasses set ``kind`` (the ``kind:`` key in the sources config)."""

    kind: ClassVar[str]

    def __init__(self, name: str, spec: dict[str, Any], limit: int | None = None) -> None:
        self.name = name
        self.spec = spec
        self.limit = limit  # at most this many records (demo / test slices); None = all

    @abstractmethod
    def fetch(self, since: dict[str, Any] | None) -> FetchResult:
        """Fetch what is new since the watermark ``since``; never raises for one bad file or response."""


def empty_postings() -> pd.DataFrame:
    """A canonical postings frame with no rows."""
    return pd.DataFrame(columns=POSTING_COLUMNS)


def to_canonical(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows (dicts with any subset of the canonical keys) as a canonical postings frame; missing keys are None."""
    return pd.DataFrame([{c: r.get(c) for c in POSTING_COLUMNS} for r in rows], columns=POSTING_COLUMNS)
