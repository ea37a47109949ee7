"""Runtime settings, read from the environment at call time (never at import time).

Every stage takes a :class:`Settings`; tasks, the CLI and tests build one with :func:`load_settings`, so an
environment variable set by a test or an Airflow worker applies to the next call without re-importing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from skillmatch.extraction.bases import DEFAULT_TAGGER_BASE

# The project checkout (dags/, include/gx, include/sources.yaml, models/): this file's grandparent in an editable
# install; an image that installs the package into site-packages sets SKILLMATCH_HOME (the Dockerfile does).
PROJECT_ROOT = Path(os.environ.get("SKILLMATCH_HOME") or Path(__file__).resolve().parents[2])


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from exc


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class MatchWeights:
    """Weights of the match score components; they sum to 1 so the score stays in [0, 1].

    Chosen on the category-agreement benchmark (``benchmarks/match_category_precision.py --sweep``, see
    ``benchmarks/RESULTS.md``): a title weight of 0.2 lifts P@10 from 0.172 to 0.258 (0.4 reaches 0.308, but that
    proxy is itself built from titles, so skills and text keep 70 % of the score); seniority and location cannot be
    judged by that proxy and get 0.05 each, enough to order near-equal matches. Each weight can be set by
    environment (``SKILLMATCH_WEIGHT_<NAME>``, e.g. ``SKILLMATCH_WEIGHT_TITLE=0.3``); the five must still sum to 1.
    """

    skill_coverage: float = 0.3
    semantic: float = 0.4
    title: float = 0.2
    seniority: float = 0.05
    location: float = 0.05

    def __post_init__(self) -> None:
        values = self.as_list()
        if any(v < 0 for v in values) or abs(sum(values) - 1.0) > 1e-6:
            raise ValueError(f"match weights must be >= 0 and sum to 1, not {values} (sum {sum(values):.4f})")

    def as_list(self) -> list[float]:
        return [self.skill_coverage, self.semantic, self.title, self.seniority, self.location]


def _weights_from_env() -> MatchWeights:
    default = MatchWeights()
    names = {"skill_coverage": "SKILL_COVERAGE", "semantic": "SEMANTIC", "title": "TITLE",
             "seniority": "SENIORITY", "location": "LOCATION"}
    return MatchWeights(**{f: _env_float(f"SKILLMATCH_WEIGHT_{e}", getattr(default, f)) for f, e in names.items()})


@dataclass(frozen=True)
class Settings:
    """Where data lives and how the stages behave."""

    data_dir: Path  # the lake root: a local folder, or a UPath for an object store (``s3://bucket/prefix``)
    shared_dir: Path | None
    source_mode: str  # "shared" (real data in ../shared/data) or "synthetic"
    max_postings_per_source: int | None = None
    max_resumes: int | None = None
    top_k: int = 10
    path_targets: int = 10
    path_max_steps: int = 10
    path_max_show_steps: int = 3  # soft skills a resume does not name, after the learning steps (paths.learning)
    encoder_threshold: float = 0.72
    max_sentences_per_doc: int = 24
    device: str = "auto"
    weights: MatchWeights = field(default_factory=MatchWeights)
    max_posting_age_days: int = 3650
    model_dir: Path = PROJECT_ROOT / "models"
    use_tagger: bool = True
    link_threshold: float = 0.75  # calibrated on the Decorte validation sets (benchmarks/link_threshold.py)
    max_tagged_chars_per_posting: int = 4000
    max_tagged_chars_per_resume: int = 1000
    max_tagged_list_chars_per_resume: int = 3000  # and this much more of a resume's skills sections
    tagger_gate_f1: float = 0.35
    tagger_base: str = DEFAULT_TAGGER_BASE  # what train-tagger starts from (skillmatch.extraction.bases)
    tagger_teacher: str | None = None  # a base whose promoted tagger teaches the trained one (distillation)
    use_linker: bool = True
    linker_gate_margin: float = 0.01
    match_refit_days: int = 7  # a full match recompute (refitting IDF and the embedding centre) at least this often
    match_full_share: float = 0.25  # ... or when more than this share of resumes or postings changed
    match_full_share_gpu: float = 0.0  # the same where the planning process runs on a GPU (incremental loses there)
    match_force_full: bool = False
    dq_max_invalid_share: float = 0.05  # more than this share of distinct records invalid fails the validate task
    dq_min_unique_description_share: float = 0.9  # duplicate-description rate at most 10 % (batch expectation)
    dq_min_english_share: float = 0.9  # language = English share (batch expectation)
    marts_history_runs: int = 14  # runs of history kept per mart (history.<table>); 0 keeps none
    extract_shard_docs: int = 2000  # documents per extraction shard (one mapped task each) in the nightly DAG
    resume_shard_files: int = 500  # resume files per parsing shard (one mapped task each) in the ingest DAG
    match_shard_candidates: int = 20000  # candidates per match shard (one mapped task each) in a full recompute
    local_dir: Path | None = None  # this machine's own files when the lake is remote (None: beside a local lake)

    @property
    def remote_lake(self) -> bool:
        """Whether the lake is on an object store rather than a local folder."""
        from skillmatch.lake import is_remote

        return is_remote(self.data_dir)

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file BI tools and the dashboard open (a local file; with a remote lake, a copy of it is also
        kept in the lake as ``warehouse.duckdb``)."""
        return self.local("warehouse.duckdb")

    def lake(self, *parts: str) -> Path:
        """A path inside the Parquet lake."""
        return self.data_dir.joinpath(*parts)

    def local(self, *parts: str) -> Path:
        """A path among this machine's own files: the Great Expectations project and its data docs, the warehouse
        file. The lake folder itself when the lake is local; else ``local_dir``
        (``SKILLMATCH_LOCAL_DIR``, default ``.cache/skillmatch`` in the project)."""
        if self.local_dir is not None:
            return self.local_dir.joinpath(*parts)
        if self.remote_lake:
            return (PROJECT_ROOT / ".cache" / "skillmatch").joinpath(*parts)
        return self.data_dir.joinpath(*parts)


def _resolve_shared(explicit: str | None) -> Path | None:
    candidates = [Path(explicit)] if explicit else [Path.cwd().parent / "shared" / "data",
                                                    PROJECT_ROOT.parent / "shared" / "data"]
    for c in candidates:
        if (c / "postings").is_dir() and (c / "taxonomy").is_dir():
            return c.resolve()
    return None


def load_settings() -> Settings:
    """Build settings from ``SKILLMATCH_*`` environment variables with local defaults.

    ``SKILLMATCH_SOURCE`` chooses the input: ``auto`` (default: shared data when present, else synthetic),
    ``shared`` (fail if absent) or ``synthetic``.
    """
    from skillmatch.lake import lake_root

    data_dir = lake_root(os.environ.get("SKILLMATCH_DATA_DIR") or (PROJECT_ROOT / "data"))
    local_dir = os.environ.get("SKILLMATCH_LOCAL_DIR")
    shared = _resolve_shared(os.environ.get("SKILLMATCH_SHARED_DIR"))
    mode = os.environ.get("SKILLMATCH_SOURCE", "auto").strip().lower()
    if mode not in {"auto", "shared", "synthetic"}:
        raise ValueError(f"SKILLMATCH_SOURCE must be auto, shared or synthetic, not {mode!r}")
    if mode == "shared" and shared is None:
        raise FileNotFoundError("SKILLMATCH_SOURCE=shared but no shared data folder was found "
                                "(set SKILLMATCH_SHARED_DIR to the folder holding postings/ and taxonomy/)")
    if mode == "auto":
        mode = "shared" if shared is not None else "synthetic"
    return Settings(
        data_dir=data_dir,
        shared_dir=shared,
        source_mode=mode,
        max_postings_per_source=_env_int("SKILLMATCH_MAX_POSTINGS_PER_SOURCE", None),
        max_resumes=_env_int("SKILLMATCH_MAX_RESUMES", None),
        top_k=_env_int("SKILLMATCH_TOP_K", 10) or 10,
        path_targets=_env_int("SKILLMATCH_PATH_TARGETS", 10) or 10,
        path_max_show_steps=max(0, _env_int("SKILLMATCH_PATH_MAX_SHOW_STEPS", 3) or 0),
        encoder_threshold=_env_float("SKILLMATCH_ENCODER_THRESHOLD", 0.72),
        max_sentences_per_doc=_env_int("SKILLMATCH_MAX_SENTENCES_PER_DOC", 24) or 24,
        device=os.environ.get("SKILLMATCH_DEVICE", "auto"),
        model_dir=Path(os.environ.get("SKILLMATCH_MODEL_DIR") or (PROJECT_ROOT / "models")),
        use_tagger=os.environ.get("SKILLMATCH_USE_TAGGER", "1").strip().lower() not in {"0", "false", "no"},
        link_threshold=_env_float("SKILLMATCH_LINK_THRESHOLD", 0.75),
        max_tagged_chars_per_posting=_env_int("SKILLMATCH_MAX_TAGGED_CHARS_PER_POSTING", 4000) or 4000,
        max_tagged_chars_per_resume=_env_int("SKILLMATCH_MAX_TAGGED_CHARS_PER_RESUME", 1000) or 1000,
        max_tagged_list_chars_per_resume=max(0, _env_int("SKILLMATCH_MAX_TAGGED_LIST_CHARS_PER_RESUME", 3000) or 0),
        tagger_gate_f1=_env_float("SKILLMATCH_TAGGER_GATE_F1", 0.35),
        tagger_base=os.environ.get("SKILLMATCH_TAGGER_BASE", "").strip() or DEFAULT_TAGGER_BASE,
        tagger_teacher=os.environ.get("SKILLMATCH_TAGGER_TEACHER", "").strip() or None,
        use_linker=os.environ.get("SKILLMATCH_USE_LINKER", "1").strip().lower() not in {"0", "false", "no"},
        linker_gate_margin=_env_float("SKILLMATCH_LINKER_GATE_MARGIN", 0.01),
        match_refit_days=_env_int("SKILLMATCH_MATCH_REFIT_DAYS", 7) or 0,
        match_full_share=_env_float("SKILLMATCH_MATCH_FULL_SHARE", 0.25),
        match_full_share_gpu=_env_float("SKILLMATCH_MATCH_FULL_SHARE_GPU", 0.0),
        match_force_full=os.environ.get("SKILLMATCH_MATCH_FULL", "0").strip().lower() in {"1", "true", "yes"},
        dq_max_invalid_share=_env_float("SKILLMATCH_DQ_MAX_INVALID_SHARE", 0.05),
        dq_min_unique_description_share=_env_float("SKILLMATCH_DQ_MIN_UNIQUE_DESCRIPTION_SHARE", 0.9),
        dq_min_english_share=_env_float("SKILLMATCH_DQ_MIN_ENGLISH_SHARE", 0.9),
        marts_history_runs=_env_int("SKILLMATCH_MARTS_HISTORY_RUNS", 14) or 0,
        weights=_weights_from_env(),
        extract_shard_docs=_env_int("SKILLMATCH_EXTRACT_SHARD_DOCS", 2000) or 2000,
        resume_shard_files=_env_int("SKILLMATCH_RESUME_SHARD_FILES", 500) or 500,
        match_shard_candidates=_env_int("SKILLMATCH_MATCH_SHARD_CANDIDATES", 20000) or 20000,
        local_dir=Path(local_dir) if local_dir else None,
    )
