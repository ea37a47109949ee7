"""The checked-in sources config (``include/sources.yaml``) and the connectors it declares, plus the per-source
watermark store in the lake (``state/sources/<name>.json``).

A watermark is saved only after the source's records are safely in bronze, and it remembers the watermark it
replaced: a retry of the same run (same run id) fetches again from the previous watermark, so a re-run replaces
its own output instead of finding nothing new.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmatch.config import PROJECT_ROOT, Settings
from skillmatch.lake import utcnow, write_json_atomic
from skillmatch.sources.base import PostingConnector

log = logging.getLogger(__name__)

DEFAULT_CONFIG = PROJECT_ROOT / "include" / "sources.yaml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class SourceSpec:
    """One configured source: its name, kind and the kind's keys (placeholders already resolved)."""

    name: str
    kind: str
    spec: dict[str, Any]


def _connector_classes() -> dict[str, type[PostingConnector]]:
    from skillmatch.sources.ats import AshbyConnector, GreenhouseConnector, LeverConnector
    from skillmatch.sources.landing import HackerNewsConnector, LandingFolderConnector

    return {c.kind: c for c in (LandingFolderConnector, HackerNewsConnector, GreenhouseConnector, LeverConnector,
                                AshbyConnector)}


def config_path() -> Path:
    """The sources config in force: ``SKILLMATCH_SOURCES_CONFIG`` or the checked-in ``include/sources.yaml``."""
    return Path(os.environ.get("SKILLMATCH_SOURCES_CONFIG") or DEFAULT_CONFIG)


def _resolve(value: Any, shared: Path | None) -> tuple[Any, bool]:
    """(value with ${SHARED_DATA} replaced, whether it needed the shared folder)."""
    if isinstance(value, str) and "${SHARED_DATA}" in value:
        return (value.replace("${SHARED_DATA}", str(shared)) if shared else value), True
    return value, False


def load_sources(settings: Settings, entity: str = "postings", path: Path | None = None) -> list[SourceSpec]:
    """The enabled sources of ``entity`` (``postings`` or ``resumes``) in config order.

    In synthetic mode (no shared data) the synthetic sample's landing folder is the one source. A source that
    needs the shared data folder when it is absent is left out with a log line; a malformed config raises
    ``ValueError`` naming the file and the entry.
    """
    if settings.source_mode == "synthetic":
        return [_synthetic_source(settings, entity)]
    import yaml

    path = path or config_path()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"sources config {path}: cannot read it ({exc})") from exc
    entries = doc.get(entity, []) if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"sources config {path}: '{entity}' must be a list of sources")
    kinds = set(_connector_classes()) if entity == "postings" else {"resume_folder"}
    out: list[SourceSpec] = []
    for i, e in enumerate(entries):
        where = f"sources config {path}: {entity}[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not isinstance(e.get("kind"), str):
            raise ValueError(f"{where}: each source needs a name and a kind")
        if not _NAME.match(e["name"]):
            raise ValueError(f"{where}: name {e['name']!r} must be lower-case letters, digits, '.', '_' or '-'")
        if e["kind"] not in kinds:
            raise ValueError(f"{where}: kind {e['kind']!r} is not one of {sorted(kinds)}")
        if e["name"] in {s.name for s in out}:
            raise ValueError(f"{where}: duplicate source name {e['name']!r}")
        if e.get("enabled", True) is False:
            continue
        spec = {k: v for k, v in e.items() if k not in {"name", "kind", "enabled"}}
        needs_shared = False
        for k, v in list(spec.items()):
            spec[k], needed = _resolve(v, settings.shared_dir)
            needs_shared |= needed
        if needs_shared and settings.shared_dir is None:
            log.info("source %s skipped: it reads the shared data folder, which is absent", e["name"])
            continue
        out.append(SourceSpec(e["name"], e["kind"], spec))
    return out


def _synthetic_source(settings: Settings, entity: str) -> SourceSpec:
    from skillmatch.sources.synthetic import SYNTHETIC_SOURCE, generate_sample

    landing = settings.local("landing", SYNTHETIC_SOURCE)  # generated input, read by this same task
    generate_sample(landing)
    if entity == "resumes":
        return SourceSpec(SYNTHETIC_SOURCE, "resume_folder", {"path": str(landing / "resumes")})
    return SourceSpec(SYNTHETIC_SOURCE, "landing", {
        "path": str(landing / "postings"), "pattern": "*.csv", "format": "csv", "posted_at_unit": "ms",
        "columns": {"native_id": "job_id", "title": "title", "company": "company", "location": "location",
                    "description": "description", "posted_at": "listed_time"}})


def posting_source(settings: Settings, name: str) -> SourceSpec:
    """The enabled postings source called ``name``."""
    for s in load_sources(settings, "postings"):
        if s.name == name:
            return s
    raise KeyError(f"no enabled postings source named {name!r} in {config_path()}")


def build_connector(source: SourceSpec, limit: int | None = None) -> PostingConnector:
    """The connector object for a configured postings source."""
    return _connector_classes()[source.kind](source.name, source.spec, limit=limit)


def _state_file(settings: Settings, name: str) -> Path:
    return settings.lake("state", "sources", f"{name}.json")


def load_watermark(settings: Settings, name: str, run_id: str) -> tuple[dict[str, Any] | None, bool]:
    """(watermark to fetch from, whether this is a re-run of the run that saved the latest one).

    A re-run of the latest run fetches from the watermark before it, so it replaces its own output; any other
    run (a later one, or an old run id run again after later ones) fetches from the latest watermark.
    """
    f = _state_file(settings, name)
    if not f.exists():
        return None, False
    doc = json.loads(f.read_text(encoding="utf-8"))
    if doc.get("run_id") == run_id:
        return doc.get("previous"), True
    return doc.get("state"), False


def save_watermark(settings: Settings, name: str, run_id: str, state: dict[str, Any]) -> None:
    """Keep ``state`` as the source's watermark, remembering the one it replaces (see :func:`load_watermark`)."""
    f = _state_file(settings, name)
    doc = json.loads(f.read_text(encoding="utf-8")) if f.exists() else {}
    previous = doc.get("previous") if doc.get("run_id") == run_id else doc.get("state")
    write_json_atomic({"run_id": run_id, "saved_at": utcnow().isoformat(), "state": state, "previous": previous}, f)
