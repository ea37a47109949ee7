"""Taxonomy stage: write ``dim_skill`` and ``dim_skill_hierarchy`` to the lake from the configured source."""
from __future__ import annotations

import logging

import pandas as pd

from skillmatch.config import Settings
from skillmatch.lake import read_parquet, write_parquet_atomic
from skillmatch.taxonomy.load import load_fallback, load_official

log = logging.getLogger(__name__)


def build_taxonomy(settings: Settings) -> dict[str, object]:
    """Load ESCO + O*NET (official files, or the pinned fallback wheel offline) and write them to the lake."""
    if settings.shared_dir is not None and (settings.shared_dir / "taxonomy").is_dir():
        dim, hier = load_official(settings.shared_dir)
    else:
        dim, hier = load_fallback()
    write_parquet_atomic(dim, settings.lake("taxonomy", "dim_skill.parquet"))
    write_parquet_atomic(hier, settings.lake("taxonomy", "dim_skill_hierarchy.parquet"))
    counts = {"skills": len(dim), "hierarchy_edges": len(hier),
              "taxonomy_version": str(dim["taxonomy_version"].iloc[0]),
              "by_source": dim["taxonomy_source"].value_counts().to_dict()}
    log.info("taxonomy: %s", counts)
    return counts


def read_dim_skill(settings: Settings) -> pd.DataFrame:
    """``dim_skill`` from the lake (built by :func:`build_taxonomy`)."""
    return read_parquet(settings.lake("taxonomy", "dim_skill.parquet"))
