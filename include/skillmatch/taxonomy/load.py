"""Taxonomy loading: ESCO v1.1.1 skills + O*NET 29.2 technology skills into ``dim_skill`` and its hierarchy.

Two inputs, one output shape:
- the official ESCO CSV zips and O*NET text files in the shared data folder (the default), or
- the ESCO / O*NET technology rows shipped in the pinned ``laiser==1.0`` wheel (offline fallback), fetched by
  pip at set-up time and checked against a pinned sha256.
"""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from skillmatch.config import PROJECT_ROOT

DIM_SKILL_COLUMNS = ["skill_id", "preferred_label", "aliases", "skill_type", "reuse_level", "description",
                     "taxonomy_source", "hot_technology", "in_demand", "taxonomy_version"]
ESCO_VERSION = "esco-1.1.1"
ONET_VERSION = "onet-29.2"
FALLBACK_WHEEL = "laiser-1.0-py3-none-any.whl"
FALLBACK_WHEEL_SHA256 = "3892957419a28a0a3171746557c9b684d15f600cc21fc72102cc9302eb18cb60"
FALLBACK_MEMBER = "laiser/public/faiss_skills.csv"


def slug(text: str) -> str:
    """Lowercase ASCII slug used in O*NET technology skill ids."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _split_labels(raw: object, sep: str = "\n") -> list[str]:
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return []
    return [x.strip() for x in str(raw).split(sep) if x.strip()]


def _esco_csv(zip_path: Path, member: str) -> pd.DataFrame:
    with zipfile.ZipFile(zip_path) as z:
        with z.open(member) as f:
            return pd.read_csv(io.TextIOWrapper(f, encoding="utf-8-sig"), dtype=str, keep_default_na=False)


def _onet_rows(tech: pd.DataFrame, version: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """O*NET technology examples -> one skill per product name, broader = its commodity class."""
    tech = tech.copy()
    tech["skill_id"] = "onet-tech:" + tech["Example"].map(slug)
    tech = tech[tech["skill_id"] != "onet-tech:"]
    grouped = tech.groupby("skill_id", sort=True).agg(
        preferred_label=("Example", "first"),
        description=("Commodity Title", "first"),
        commodity=("Commodity Code", "first"),
        hot_technology=("Hot Technology", lambda s: bool((s == "Y").any())),
        in_demand=("In Demand", lambda s: bool((s == "Y").any())),
    ).reset_index()
    dim = pd.DataFrame({
        "skill_id": grouped["skill_id"], "preferred_label": grouped["preferred_label"],
        "aliases": [[] for _ in range(len(grouped))], "skill_type": "technology", "reuse_level": None,
        "description": grouped["description"], "taxonomy_source": "onet",
        "hot_technology": grouped["hot_technology"], "in_demand": grouped["in_demand"], "taxonomy_version": version,
    })
    hier = pd.DataFrame({"skill_id": grouped["skill_id"],
                         "broader_id": "onet-commodity:" + grouped["commodity"].astype(str),
                         "broader_label": grouped["description"]})
    return dim, hier


def load_official(shared_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the official ESCO v1.1.1 zips and O*NET 29.2 Technology Skills; returns (dim_skill, hierarchy)."""
    esco_dir = shared_dir / "taxonomy" / "esco-v1.1.1"
    classification = next(esco_dir.glob("*classification*en*csv.zip"))
    relations = next(esco_dir.glob("*relations*csv.zip"))
    version = f"{ESCO_VERSION}+{ONET_VERSION}"
    skills = _esco_csv(classification, "skills_en.csv")
    esco = pd.DataFrame({
        "skill_id": skills["conceptUri"],
        "preferred_label": skills["preferredLabel"].str.strip(),
        "aliases": [sorted(set(_split_labels(a) + _split_labels(h)) - {p})
                    for a, h, p in zip(skills["altLabels"], skills["hiddenLabels"], skills["preferredLabel"])],
        "skill_type": skills["skillType"].replace("", None),
        "reuse_level": skills["reuseLevel"].replace("", None),
        "description": skills["description"],
        "taxonomy_source": "esco", "hot_technology": False, "in_demand": False, "taxonomy_version": version,
    })
    groups = _esco_csv(classification, "skillGroups_en.csv")
    labels = dict(zip(groups["conceptUri"], groups["preferredLabel"])) | dict(zip(esco["skill_id"], esco["preferred_label"]))
    broader = _esco_csv(relations, "broaderRelationsSkillPillar.csv")
    esco_h = pd.DataFrame({"skill_id": broader["conceptUri"], "broader_id": broader["broaderUri"]})
    esco_h["broader_label"] = esco_h["broader_id"].map(labels)
    tech = pd.read_csv(shared_dir / "taxonomy" / "onet-29.2" / "Technology Skills.txt", sep="\t", dtype=str,
                       keep_default_na=False)
    onet, onet_h = _onet_rows(tech, version)
    dim = pd.concat([esco, onet], ignore_index=True)[DIM_SKILL_COLUMNS]
    hier = pd.concat([esco_h, onet_h], ignore_index=True)
    return dim, hier


def fallback_wheel_path() -> Path:
    """Where ``make`` puts the pinned fallback taxonomy wheel."""
    return PROJECT_ROOT / ".cache" / "wheels" / FALLBACK_WHEEL


def load_fallback(wheel: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ESCO skills and O*NET technology skills from the pinned laiser wheel (offline fallback)."""
    wheel = wheel or fallback_wheel_path()
    if not wheel.exists():
        raise FileNotFoundError(f"{wheel} is missing: run `make setup` (it fetches the pinned taxonomy wheel with pip)")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != FALLBACK_WHEEL_SHA256:
        raise ValueError(f"{wheel}: sha256 {digest} does not match the pinned {FALLBACK_WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as z, z.open(FALLBACK_MEMBER) as f:
        raw = pd.read_csv(io.TextIOWrapper(f, encoding="utf-8"), dtype=str, keep_default_na=False)
    version = "laiser-1.0:esco+onet-tech"
    esco_raw = raw[raw["taxonomy"] == "ESCO"]
    esco = pd.DataFrame({
        "skill_id": esco_raw["original_id"], "preferred_label": esco_raw["skill_name"],
        "aliases": [sorted(set(_split_labels(a, ",")) - {p}) for a, p in zip(esco_raw["aliases"], esco_raw["skill_name"])],
        "skill_type": None, "reuse_level": None, "description": esco_raw["description"], "taxonomy_source": "esco",
        "hot_technology": False, "in_demand": False, "taxonomy_version": version,
    })
    tech_raw = raw[raw["taxonomy"] == "ONET_TECH"]
    tech = pd.DataFrame({"Example": tech_raw["skill_name"], "Commodity Title": tech_raw["description"],
                         "Commodity Code": tech_raw["description"].map(slug), "Hot Technology": "N", "In Demand": "N"})
    onet, onet_h = _onet_rows(tech, version)
    dim = pd.concat([esco, onet], ignore_index=True).drop_duplicates("skill_id")[DIM_SKILL_COLUMNS]
    return dim.reset_index(drop=True), onet_h
