"""SYNTHETIC postings and resumes at scale (10k to 1M documents) for the scale benchmark (issue 8).

Two steps:

1. **Fit** (:func:`fit_stats`, cached by :func:`load_or_fit_stats`): the alias matcher of
   :mod:`skillmatch.extraction.alias` reads the shared postings (every enabled source of the checked-in
   ``include/sources.yaml``, deduplicated by text) and, optionally, a sample of the shared resume PDFs. Kept: each
   skill's document frequency (the marginal), the skill x skill co-occurrence counts, the number of skills per
   posting and per resume, one surface form per skill that the matcher finds on its own, and the job titles that
   name no skill. The fitted model is a small ``.npz`` file in a cache folder (never in git).
2. **Generate** (:func:`generate_block`, :func:`iter_chunks`): per document, a skill count from the real
   distribution; the first skill from the marginal, each next one, with probability ``mix``, from the
   co-occurrence row of a skill already drawn (else from the marginal), without repeats. Texts come from
   templates that name every drawn skill by its surface form (so extraction finds them), with titles, companies,
   places and dates. Documents are generated in fixed blocks of :data:`BLOCK` ids, each from its own seeded random
   stream, so any range of ids (a shard) is generated alone and identically, and memory is bounded by the chunk.

Outputs: plain frames (docs: doc_id, title, text, ...; skills: doc_id, skill_id), Parquet parts of those
(:func:`write_frames`) and a landing folder the real ingest stage reads (:func:`write_landing`: postings CSV
parts, resume TXT files and a sources config naming both). Everything is labelled SYNTHETIC (source
``synthetic-scale``, id prefixes, a header line in each text).
"""
from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

SCALE_SOURCE = "synthetic-scale"
FIT_VERSION = 1
BLOCK = 2000  # documents per seeded random stream: the unit a shard boundary should be a multiple of
KIND_CODE = {"postings": 1, "resumes": 2}
ID_PREFIX = {"postings": "synp", "resumes": "synr"}
MAX_SKILLS = 60
DEFAULT_MIX = 0.75
# dates are spread over the year before this fixed day, so output does not depend on when it is generated
DATE_ANCHOR = datetime(2026, 1, 1, tzinfo=timezone.utc)
PROBE = "Experience with {} is required."

# Template parts checked to hold no taxonomy surface (tests: alias hits of a generated text = its skills).
SUBJECTS = ["The team", "Our group", "This role", "The new hire", "The hiring manager", "Everyone here",
            "The department", "Our office", "The person in this job", "Each of us"]
VERBS = ["works closely with", "reports to", "meets often with", "talks every day with", "sits next to",
         "shares goals with", "gets feedback from", "learns a lot from", "keeps in touch with", "is trusted by"]
OBJECTS = ["the founders", "colleagues in other offices", "the people on the floor", "partners across the region",
           "a friendly crew", "the wider company", "new and old clients", "the heads of each unit",
           "peers in two time zones", "the board"]
TAILS = ["every week.", "on a flexible schedule.", "from day one.", "in a calm setting.", "without much fuss.",
         "as the year goes on.", "in short cycles.", "with a lot of trust.", "at a steady pace.", "most days."]
REQUIRED = ["Requirements: experience with {}.", "You have worked with {} before.",
            "We are looking for someone who knows {}.", "Strong knowledge of {} is expected.",
            "The job involves {} on most days."]
PREFERRED = ["Nice to have: {}.", "Experience with {} is a plus."]
RESUME_LINES = ["Used {} to deliver results for the group.", "Worked with {} on several long-running efforts.",
                "Known for {} among peers.", "Took the lead on {} for two years."]
COMPANIES = ["Northwind", "Blue Harbor", "Granite Peak", "Silver Birch", "Red Maple", "Clearwater", "Ironwood",
             "Sunfield", "Oak Valley", "Brightstone", "Lakeside", "Stonebridge"]
COMPANY_SUFFIX = ["Ltd", "Inc", "Group", "Co", "Partners"]
CITIES = ["Berlin, Germany", "Austin, TX", "Remote", "Lisbon, Portugal", "Toronto, Canada", "Denver, CO",
          "Dublin, Ireland", "Seattle, WA", "Madrid, Spain", "Chicago, IL", "New York, NY", "Warsaw, Poland"]
SENIORITY = ["", "", "", "Senior ", "Junior ", "Lead "]
SALARIES = [(60, 90), (80, 120), (100, 140), (120, 170), (150, 210)]


@dataclass(frozen=True)
class SkillStats:
    """The fitted model: per-skill marginal and surface form, co-occurrence counts, skills-per-document and
    title distributions. Arrays are indexed by skill position (``skill_ids[i]``)."""

    skill_ids: np.ndarray  # str, one per kept skill
    surfaces: np.ndarray  # str, the form templates write
    doc_freq: np.ndarray  # int64, postings mentioning the skill
    cooc_indptr: np.ndarray  # CSR of skill x skill co-occurrence counts (diagonal dropped)
    cooc_indices: np.ndarray
    cooc_counts: np.ndarray
    posting_counts: np.ndarray  # int64, skills per real posting (one value per posting)
    resume_counts: np.ndarray  # int64, skills per real resume (empty: postings' used instead)
    titles: np.ndarray  # str, real titles naming no skill
    title_freq: np.ndarray  # int64
    meta: dict

    @property
    def marginal(self) -> np.ndarray:
        """Probability of each skill as a document's first skill (its share of all mentions)."""
        return self.doc_freq / self.doc_freq.sum()

    def counts_for(self, kind: str) -> np.ndarray:
        """The empirical skills-per-document sample that ``kind`` documents follow."""
        return self.resume_counts if kind == "resumes" and len(self.resume_counts) else self.posting_counts

    def cooc_matrix(self):  # noqa: ANN201 - scipy.sparse.csr_matrix
        """The co-occurrence counts as a scipy CSR matrix (skills x skills)."""
        from scipy import sparse

        n = len(self.skill_ids)
        return sparse.csr_matrix((self.cooc_counts, self.cooc_indices, self.cooc_indptr), shape=(n, n))


# --- fitting ---------------------------------------------------------------------------------------------------

def shared_posting_texts(shared_dir: Path, max_docs: int | None = None) -> pd.DataFrame:
    """(title, text) of the shared postings: every enabled source of the checked-in config, read by its real
    connector and normalised, deduplicated by text; at most ``max_docs`` per source."""
    from skillmatch.config import load_settings
    from skillmatch.sources.normalize import canonical_postings
    from skillmatch.sources.registry import DEFAULT_CONFIG, build_connector, load_sources

    settings = replace(load_settings(), shared_dir=Path(shared_dir), source_mode="shared")
    frames = []
    for spec in load_sources(settings, "postings", path=DEFAULT_CONFIG):
        frames.append(canonical_postings(build_connector(spec, limit=max_docs).fetch(None).records))
    df = pd.concat(frames, ignore_index=True)
    title = df["title"].fillna("").astype(str).str.strip()
    text = title + "\n" + df["description"].fillna("").astype(str)
    return pd.DataFrame({"title": title, "text": text}).drop_duplicates("text").reset_index(drop=True)


def _shared_resume_texts(shared_dir: Path, sample: int) -> list[str]:
    """Texts of up to ``sample`` resume files of the shared folder, spread over its categories."""
    from skillmatch.sources.resumes import extract_texts, list_resume_files

    root = Path(shared_dir) / "resumes" / "pdf"
    if sample <= 0 or not root.is_dir():
        return []
    return [text for text, _pages, error in extract_texts(list_resume_files(root, sample)) if not error and text]


def _surface_choice(matcher, forms: Counter) -> dict[str, str]:  # noqa: ANN001 - AliasMatcher
    """{skill: the most frequent surface, as written, that the matcher finds on its own in a neutral sentence}."""
    out: dict[str, str] = {}
    for (skill, form), _n in forms.most_common():
        if skill in out:
            continue
        text = PROBE.format(form)
        hits = matcher.find(text)
        if len(hits) == 1 and hits[0][2].skill_id == skill and text[hits[0][0]:hits[0][1]] == form:
            out[skill] = form
    return out


def _clean_titles(matcher, titles: pd.Series, keep: int = 300) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """The ``keep`` most frequent real titles that name no skill (a title would otherwise add skills)."""
    counts = titles[(titles.str.len() >= 2) & (titles.str.len() <= 80)].value_counts()
    good = [(t, n) for t, n in counts.items() if not matcher.find(str(t))][:keep]
    if not good:
        good = [("Specialist", 1)]
    return np.array([t for t, _ in good], dtype=object), np.array([n for _, n in good], dtype=np.int64)


def fit_stats(shared_dir: Path, dim_skill: pd.DataFrame | None = None, max_docs: int | None = None,
              resume_sample: int = 150) -> SkillStats:
    """Fit :class:`SkillStats` on the shared postings (and ``resume_sample`` shared resumes) with the alias matcher.

    ``dim_skill`` defaults to the official ESCO + O*NET files of ``shared_dir``; ``max_docs`` limits the postings
    read per source (tests). Skills whose every surface form needs a context cue are left out (templates could
    not make the matcher find them); ``meta`` says how many mentions that dropped.
    """
    from scipy import sparse

    from skillmatch.extraction.alias import AliasMatcher
    from skillmatch.taxonomy.load import load_official

    dim_skill = dim_skill if dim_skill is not None else load_official(Path(shared_dir))[0]
    matcher = AliasMatcher(dim_skill)
    posts = shared_posting_texts(shared_dir, max_docs)
    forms: Counter = Counter()
    sets: list[set[str]] = []
    for text in posts["text"]:
        hits = matcher.find(text)
        forms.update((surf.skill_id, text[a:b]) for a, b, surf in hits)
        sets.append({surf.skill_id for _a, _b, surf in hits})
    surface = _surface_choice(matcher, forms)
    skill_ids = np.array(sorted(surface), dtype=object)
    pos = {s: i for i, s in enumerate(skill_ids)}
    rows = [sorted(pos[s] for s in doc if s in pos) for doc in sets]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    x = sparse.csr_matrix((np.ones(indptr[-1], np.float32), np.concatenate([np.asarray(r, np.int64) for r in rows]
                                                                           + [np.zeros(0, np.int64)]), indptr),
                          shape=(len(rows), len(skill_ids)))
    cooc = (x.T @ x).tocsr()
    cooc.setdiag(0)
    cooc.eliminate_zeros()
    cooc.sort_indices()
    resumes = [{surf.skill_id for _a, _b, surf in matcher.find(t)} & set(pos)
               for t in _shared_resume_texts(shared_dir, resume_sample)]
    titles, title_freq = _clean_titles(matcher, posts["title"])
    all_mentions = sum(len(s) for s in sets)
    kept_mentions = int(indptr[-1])
    meta = {"fit_version": FIT_VERSION, "postings": len(posts), "resumes": len(resumes),
            "skills_seen": len({s for doc in sets for s in doc}), "skills_kept": len(skill_ids),
            "mentions_kept_share": round(kept_mentions / max(all_mentions, 1), 4),
            "taxonomy_version": str(dim_skill["taxonomy_version"].iloc[0]) if len(dim_skill) else "empty"}
    log.info("scale_synth fit: %s", meta)
    return SkillStats(skill_ids=skill_ids, surfaces=np.array([surface[s] for s in skill_ids], dtype=object),
                      doc_freq=np.asarray(x.sum(0)).ravel().astype(np.int64), cooc_indptr=cooc.indptr.astype(np.int64),
                      cooc_indices=cooc.indices.astype(np.int64), cooc_counts=cooc.data.astype(np.int64),
                      posting_counts=np.diff(indptr), resume_counts=np.array([len(r) for r in resumes], np.int64),
                      titles=titles, title_freq=title_freq, meta=meta)


def save_stats(stats: SkillStats, path: Path) -> Path:
    """Write the fitted model to ``path`` (``.npz``, atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    arrays = {k: getattr(stats, k) for k in SkillStats.__dataclass_fields__ if k != "meta"}
    arrays = {k: (v.astype(str) if v.dtype == object else v) for k, v in arrays.items()}
    np.savez_compressed(tmp, meta=np.array(json.dumps(stats.meta)), **arrays)
    tmp.replace(path)
    return path


def load_stats(path: Path) -> SkillStats:
    """Read a model written by :func:`save_stats`."""
    with np.load(path, allow_pickle=False) as z:
        fields = {k: (z[k].astype(object) if z[k].dtype.kind == "U" else z[k])
                  for k in SkillStats.__dataclass_fields__ if k != "meta"}
        return SkillStats(meta=json.loads(str(z["meta"])), **fields)


def _fit_key(shared_dir: Path, max_docs: int | None, resume_sample: int) -> str:
    """Changes when the inputs of a fit change: file names and sizes of postings and taxonomy, the parameters."""
    parts = [f"v{FIT_VERSION}", str(max_docs), str(resume_sample)]
    for sub in ("postings", "taxonomy"):
        for f in sorted((Path(shared_dir) / sub).rglob("*")):
            if f.is_file():
                parts.append(f"{f.relative_to(shared_dir)}:{f.stat().st_size}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def load_or_fit_stats(cache_dir: Path, shared_dir: Path, max_docs: int | None = None,
                      resume_sample: int = 150) -> SkillStats:
    """The fitted model from ``cache_dir`` when its inputs are unchanged, else fitted now and saved there."""
    path = Path(cache_dir) / f"scale-synth-stats-{_fit_key(shared_dir, max_docs, resume_sample)}.npz"
    if path.exists():
        return load_stats(path)
    stats = fit_stats(shared_dir, max_docs=max_docs, resume_sample=resume_sample)
    save_stats(stats, path)
    return stats


# --- generation ------------------------------------------------------------------------------------------------

class _Sampler:
    """Vectorised draws from the marginal and from co-occurrence rows (flat cumulative keys + searchsorted)."""

    def __init__(self, stats: SkillStats) -> None:
        self.n = len(stats.skill_ids)
        self.marginal_cum = np.cumsum(stats.marginal)
        self.marginal_cum[-1] = 1.0
        counts = stats.cooc_counts.astype(np.float64)
        row_of = np.repeat(np.arange(self.n), np.diff(stats.cooc_indptr))
        row_tot = np.bincount(row_of, weights=counts, minlength=self.n)
        within = np.cumsum(counts) - np.repeat(np.concatenate([[0.0], np.cumsum(row_tot)[:-1]]),
                                               np.diff(stats.cooc_indptr))
        # row a's keys lie in (a, a + 1]: one sorted array serves every row
        self.keys = row_of + within / np.where(row_tot[row_of] > 0, row_tot[row_of], 1.0)
        self.indptr, self.indices = stats.cooc_indptr, stats.cooc_indices

    def marginal(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` skills drawn from the marginal."""
        return np.minimum(np.searchsorted(self.marginal_cum, rng.random(size), side="right"), self.n - 1)

    def conditional(self, rng: np.random.Generator, anchors: np.ndarray) -> np.ndarray:
        """One co-occurring skill per anchor (in proportion to the counts); -1 where the anchor has no row."""
        pos = np.searchsorted(self.keys, anchors + rng.random(len(anchors)), side="right")
        ok = pos < self.indptr[anchors + 1]
        out = np.full(len(anchors), -1, dtype=np.int64)
        out[ok] = self.indices[pos[ok]]
        return out


def sample_skill_sets(stats: SkillStats, kind: str, n: int, rng: np.random.Generator, mix: float = DEFAULT_MIX,
                      sampler: _Sampler | None = None) -> list[np.ndarray]:
    """``n`` skill sets (arrays of skill positions, in draw order) following the fitted statistics."""
    sampler = sampler or _Sampler(stats)
    target = np.minimum(rng.choice(stats.counts_for(kind), size=n), min(MAX_SKILLS, sampler.n))
    chosen = np.full((n, int(target.max(initial=0))), -1, dtype=np.int64)
    for t in range(chosen.shape[1]):
        rows = np.flatnonzero(target > t)
        if t == 0:
            chosen[rows, 0] = sampler.marginal(rng, len(rows))
            continue
        anchors = chosen[rows, rng.integers(0, t, len(rows))]
        new = np.where(anchors >= 0, sampler.conditional(rng, np.maximum(anchors, 0)), -1)
        new = np.where((rng.random(len(rows)) < mix) & (new >= 0), new, sampler.marginal(rng, len(rows)))
        for _ in range(8):  # a repeat is drawn again from the marginal; what still repeats is dropped
            dup = (chosen[rows, :t] == new[:, None]).any(1)
            if not dup.any():
                break
            new[dup] = sampler.marginal(rng, int(dup.sum()))
        new[(chosen[rows, :t] == new[:, None]).any(1)] = -1
        chosen[rows, t] = new
    return [r[r >= 0] for r in chosen]


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _filler(rng: np.random.Generator, k: int) -> list[str]:
    parts = rng.integers(0, 10, size=(k, 4))
    return [f"{SUBJECTS[a]} {VERBS[b]} {OBJECTS[c]} {TAILS[d]}" for a, b, c, d in parts]


def _groups(rng: np.random.Generator, words: list[str]) -> list[list[str]]:
    """Split ``words`` into runs of 1-4 for one sentence each."""
    out, i = [], 0
    while i < len(words):
        step = int(rng.integers(1, 5))
        out.append(words[i:i + step])
        i += step
    return out


def _posting_text(rng: np.random.Generator, doc_id: str, title: str, company: str, city: str,
                  words: list[str]) -> str:
    """A posting naming every skill in ``words``; the last group of a longer list reads as preferred."""
    lines = [title, f"SYNTHETIC SCALE-TEST POSTING {doc_id} (generated, not a real job).",
             f"{company} is hiring a {title} in {city}."]
    groups = _groups(rng, words)
    pref = groups.pop() if len(groups) > 2 else []
    body = [REQUIRED[int(rng.integers(len(REQUIRED)))].format(_join(g)) for g in groups]
    if pref:
        body.append(PREFERRED[int(rng.integers(len(PREFERRED)))].format(_join(pref)))
    body += _filler(rng, int(rng.integers(3, 9)))
    rng.shuffle(body)
    return "\n".join(lines + body)


def _resume_text(rng: np.random.Generator, doc_id: str, title: str, company: str, words: list[str]) -> str:
    """A resume with summary, skills, experience and education sections naming every skill in ``words``."""
    start = int(rng.integers(2000, 2022))
    end = int(rng.integers(start + 1, 2026))
    listed = words[: max(1, (len(words) + 1) // 2)]
    rest = words[len(listed):]
    exp = [RESUME_LINES[int(rng.integers(len(RESUME_LINES)))].format(_join(g)) for g in _groups(rng, rest)]
    return "\n".join([
        f"SYNTHETIC SCALE-TEST RESUME {doc_id} (generated, not a real person)",
        "Summary", f"{title} with {end - start} years of experience. " + " ".join(_filler(rng, 2)),
        "Skills", ", ".join(listed) if listed else "none listed",
        "Experience", f"{title}, {company}, {start} - {end}", *exp, *_filler(rng, int(rng.integers(1, 4))),
        "Education", f"Bachelor's degree, State University, {start - 4}"])


def generate_block(stats: SkillStats, kind: str, block: int, seed: int = 7,
                   sampler: _Sampler | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Documents ``block * BLOCK`` to ``(block + 1) * BLOCK - 1`` of ``kind``: (docs, skills) frames.

    docs: doc_id, title, company, location, posted_at, salary_text (postings), text; skills: doc_id, skill_id
    (one row per distinct skill a document names). The same (stats, kind, block, seed) give the same frames.
    """
    rng = np.random.default_rng([seed, KIND_CODE[kind], block])
    sets = sample_skill_sets(stats, kind, BLOCK, rng, sampler=sampler)
    # every digit run follows a letter, so contact redaction never reads an id as a phone number
    ids = [f"{ID_PREFIX[kind]}-s{seed}-n{block * BLOCK + i:09d}" for i in range(BLOCK)]
    titles = stats.titles[rng.choice(len(stats.titles), size=BLOCK, p=stats.title_freq / stats.title_freq.sum())]
    seniority = rng.integers(0, len(SENIORITY), BLOCK)
    comp = rng.integers(0, len(COMPANIES), BLOCK)
    suffix = rng.integers(0, len(COMPANY_SUFFIX), BLOCK)
    city = rng.integers(0, len(CITIES), BLOCK)
    days = rng.integers(1, 366, BLOCK)
    docs = {"doc_id": ids, "title": [f"{SENIORITY[s]}{t}" for s, t in zip(seniority, titles)],
            "company": [f"{COMPANIES[c]} {COMPANY_SUFFIX[s]} {block % 97}" for c, s in zip(comp, suffix)],
            "location": [CITIES[c] for c in city],
            "posted_at": [DATE_ANCHOR - timedelta(days=int(d)) for d in days]}
    if kind == "postings":
        sal = rng.integers(-len(SALARIES), len(SALARIES), BLOCK)  # negative: no salary stated (about half)
        docs["salary_text"] = [f"${SALARIES[s][0]}k - ${SALARIES[s][1]}k per year" if s >= 0 else None for s in sal]
        texts = [_posting_text(rng, i, t, c, loc, list(stats.surfaces[s]))
                 for i, t, c, loc, s in zip(ids, docs["title"], docs["company"], docs["location"], sets)]
    else:
        texts = [_resume_text(rng, i, t, c, list(stats.surfaces[s]))
                 for i, t, c, s in zip(ids, docs["title"], docs["company"], sets)]
    docs["text"] = texts
    lengths = [len(s) for s in sets]
    skills = pd.DataFrame({"doc_id": np.repeat(np.asarray(ids, dtype=object), lengths),
                           "skill_id": stats.skill_ids[np.concatenate(sets)] if sum(lengths) else []})
    return pd.DataFrame(docs), skills


def iter_chunks(stats: SkillStats, kind: str, n: int, seed: int = 7, start: int = 0,
                chunk_blocks: int = 10) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Documents ``start`` to ``start + n - 1`` of ``kind`` as (docs, skills) chunks of up to ``chunk_blocks``
    blocks each; ids are those of a full run, so shards of one id range concatenate to the whole."""
    sampler = _Sampler(stats)
    stop = start + n
    first, last = start // BLOCK, -(-stop // BLOCK)
    for c0 in range(first, last, chunk_blocks):
        parts = [generate_block(stats, kind, b, seed, sampler) for b in range(c0, min(c0 + chunk_blocks, last))]
        docs = pd.concat([p[0] for p in parts], ignore_index=True)
        skills = pd.concat([p[1] for p in parts], ignore_index=True)
        lo, hi = max(start - c0 * BLOCK, 0), min(stop - c0 * BLOCK, len(docs))
        docs = docs.iloc[lo:hi].reset_index(drop=True)
        yield docs, skills[skills["doc_id"].isin(set(docs["doc_id"]))].reset_index(drop=True)


def write_frames(stats: SkillStats, out_dir: Path, kind: str, n: int, seed: int = 7, start: int = 0,
                 chunk_blocks: int = 10) -> dict[str, int]:
    """Write ``kind`` documents as Parquet parts ``<out>/<kind>/docs-<i>.parquet`` and ``skills-<i>.parquet``;
    returns the counts written."""
    folder = Path(out_dir) / kind
    folder.mkdir(parents=True, exist_ok=True)
    n_docs = n_rows = 0
    for i, (docs, skills) in enumerate(iter_chunks(stats, kind, n, seed, start, chunk_blocks)):
        part = f"{start // BLOCK + i * chunk_blocks:07d}"
        docs.to_parquet(folder / f"docs-{part}.parquet", index=False)
        skills.to_parquet(folder / f"skills-{part}.parquet", index=False)
        n_docs, n_rows = n_docs + len(docs), n_rows + len(skills)
    return {"documents": n_docs, "skill_rows": n_rows}


def read_frames(out_dir: Path, kind: str, what: str = "skills", columns: list[str] | None = None) -> pd.DataFrame:
    """All parts of ``what`` ("docs" or "skills") written by :func:`write_frames` for ``kind``, in id order."""
    parts = sorted((Path(out_dir) / kind).glob(f"{what}-*.parquet"))
    return pd.concat([pd.read_parquet(p, columns=columns) for p in parts], ignore_index=True) if parts \
        else pd.DataFrame()


def landing_sources_config(landing: Path) -> dict:
    """The sources config (as ``include/sources.yaml`` would hold it) reading a landing folder of
    :func:`write_landing`: one postings source and one resume folder, both ``synthetic-scale``."""
    return {"postings": [{"name": SCALE_SOURCE, "kind": "landing", "path": str(Path(landing) / "postings"),
                          "pattern": "*.csv", "format": "csv", "posted_at_unit": "ms",
                          "columns": {"native_id": "job_id", "title": "title", "company": "company",
                                      "location": "location", "description": "description",
                                      "posted_at": "listed_time", "salary_text": "salary_text"}}],
            "resumes": [{"name": SCALE_SOURCE, "kind": "resume_folder", "path": str(Path(landing) / "resumes")}]}


def write_landing(stats: SkillStats, landing: Path, n_postings: int, n_resumes: int, seed: int = 7,
                  start: int = 0, chunk_blocks: int = 10) -> Path:
    """Write a landing folder the ingest stage reads: ``postings/part-<i>.csv`` (the columns of the synthetic
    sample, plus salary_text), ``resumes/part-<i>/<id>.txt`` and ``sources.yaml`` naming both; returns the config
    path (point ``SKILLMATCH_SOURCES_CONFIG`` at it)."""
    import yaml

    landing = Path(landing)
    (landing / "postings").mkdir(parents=True, exist_ok=True)
    for i, (docs, _skills) in enumerate(iter_chunks(stats, "postings", n_postings, seed, start, chunk_blocks)):
        with (landing / "postings" / f"part-{start // BLOCK + i * chunk_blocks:07d}.csv").open(
                "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["job_id", "title", "company", "location", "description", "listed_time", "salary_text"])
            for r in docs.itertuples(index=False):
                # the text starts with the title and a line break; the posting has the title apart (a real title
                # may hold a line break itself, so cut by its length, not at the first one)
                desc = r.text[len(r.title) + 1:]
                w.writerow([r.doc_id, r.title, r.company, r.location, desc, int(r.posted_at.timestamp() * 1000),
                            r.salary_text or ""])
    for i, (docs, _skills) in enumerate(iter_chunks(stats, "resumes", n_resumes, seed, start, chunk_blocks)):
        folder = landing / "resumes" / f"part-{start // BLOCK + i * chunk_blocks:07d}"
        folder.mkdir(parents=True, exist_ok=True)
        for doc_id, text in zip(docs["doc_id"], docs["text"]):
            (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    config = landing / "sources.yaml"
    config.write_text(yaml.safe_dump(landing_sources_config(landing), sort_keys=False), encoding="utf-8")
    return config
