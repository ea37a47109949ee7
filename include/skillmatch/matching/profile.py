"""Document profiles for the match components beyond skills and text: title, seniority and location.

Posting side: the title as stated; the years of experience it asks for (stated: "5+ years of experience", else from
the stated seniority level or title words: intern, junior, senior, lead, director...) and, for junior levels, the
most it expects; remote or not; the places it names. Resume side: a headline title (the first line of the redacted
resume when it reads as a job title), the estimated years of experience, the place in the resume header (city and
state or country survive redaction; street addresses and ZIP codes do not).

Pure functions, no I/O. The pair functions (:func:`seniority_fit`, :func:`location_fit`) are what the engine
tabulates over the few distinct values each side takes (``engine.LookupTerm``).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skillmatch.sources.resume_sections import is_heading

UNKNOWN_FIT = 0.5  # a fit that cannot be judged (one side unknown) sits between a fit and a misfit

# level -> (minimum years, maximum years or None): what a posting at that level usually expects
LEVEL_YEARS: dict[str, tuple[float, float | None]] = {
    "intern": (0, 2), "entry": (0, 3), "associate": (1, 6), "mid": (2, None), "mid-senior": (3, None),
    "senior": (5, None), "lead": (7, None), "director": (10, None), "executive": (12, None),
}
# stated seniority values (LinkedIn's "Mid-Senior level", ATS metadata...) -> level; "Not Applicable" -> none
_STATED_LEVEL = [
    (re.compile(r"intern"), "intern"), (re.compile(r"entry|junior|graduate|trainee"), "entry"),
    (re.compile(r"associate"), "associate"), (re.compile(r"mid.?senior"), "mid-senior"),
    (re.compile(r"\bmid\b|intermediate"), "mid"), (re.compile(r"senior"), "senior"),
    (re.compile(r"lead|staff|principal"), "lead"), (re.compile(r"director|head"), "director"),
    (re.compile(r"executive|vp|vice president|chief|c-level"), "executive"),
]
# title words -> level, strongest first
_TITLE_LEVEL = [
    (re.compile(r"\b(chief|cto|cfo|ceo|coo|cio|vp|svp|evp|vice president)\b"), "executive"),
    (re.compile(r"\b(director|head of)\b"), "director"),
    (re.compile(r"\b(staff|principal|lead|architect)\b"), "lead"),
    (re.compile(r"\b(senior|sr)\b"), "senior"),
    (re.compile(r"\b(intern|internship|co-?op)\b"), "intern"),
    (re.compile(r"\b(junior|jr|entry[- ]level|graduate|new grad|trainee|apprentice)\b"), "entry"),
]
# "5+ years of experience", "3-5 years of relevant experience", "at least 7 years in ... experience"
_YEARS = re.compile(
    r"(?<![\d.])(\d{1,2})\s*(?:\+|plus)?\s*(?:(?:-|–|to)\s*\d{1,2}\s*\+?\s*)?(?:years?|yrs?)\b"
    r"(?:\s*\+)?(?:\s+of)?(?:\s+[\w/&+.-]+){0,5}?\s+(?:experience|exp)\b", re.I)
MAX_STATED_YEARS = 15  # "20 years of experience" asks for a veteran; anything above counts as 15


def stated_years(text: str | None) -> float | None:
    """The years of experience a posting asks for: the largest lower bound it states, or None."""
    if not text:
        return None
    found = [int(m.group(1)) for m in _YEARS.finditer(text)]
    found = [y for y in found if 0 < y <= 40]
    return float(min(max(found), MAX_STATED_YEARS)) if found else None


def posting_level(seniority: str | None, title: str | None) -> str | None:
    """The level a posting states (its seniority field first, then its title), or None."""
    s = (seniority or "").strip().lower()
    if s and "not applicable" not in s:
        for pat, level in _STATED_LEVEL:
            if pat.search(s):
                return level
    t = (title or "").lower()
    for pat, level in _TITLE_LEVEL:
        if pat.search(t):
            return level
    return None


def required_years(seniority: str | None, title: str | None, text: str | None) -> tuple[float, float]:
    """(minimum, maximum) years a posting expects: NaN minimum when it says nothing, inf maximum unless its level
    is a junior one (intern, entry, associate), whose roles rarely want a veteran."""
    level = posting_level(seniority, title)
    lo, hi = LEVEL_YEARS.get(level, (math.nan, None)) if level else (math.nan, None)
    stated = stated_years(text)
    if stated is not None:
        lo = stated
        hi = max(hi, stated + 3) if hi is not None else None
    return float(lo), float(hi) if hi is not None else math.inf


def seniority_fit(years: float, lo: float, hi: float) -> float:
    """How well a candidate's years of experience fit a posting's (minimum, maximum) range, in [0, 1].

    No stated requirement: 1 (anyone fits). Unknown years: ``UNKNOWN_FIT``. Short of the minimum: falls linearly,
    to 0 at no experience for a role asking for some (``1 - gap / (minimum + 1)``). Past a junior role's maximum:
    falls gently (0.1 a year), never below 0.25.
    """
    if math.isnan(lo):
        return 1.0
    if years is None or math.isnan(years):
        return UNKNOWN_FIT
    if years < lo:
        return max(0.0, 1.0 - (lo - years) / (lo + 1.0))
    if years > hi:
        return max(0.25, 1.0 - 0.1 * (years - hi))
    return 1.0


# ---------------------------------------------------------------------------------------------------- places
US_STATES = {
    "AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas", "CA": "california", "CO": "colorado",
    "CT": "connecticut", "DE": "delaware", "FL": "florida", "GA": "georgia", "HI": "hawaii", "ID": "idaho",
    "IL": "illinois", "IN": "indiana", "IA": "iowa", "KS": "kansas", "KY": "kentucky", "LA": "louisiana",
    "ME": "maine", "MD": "maryland", "MA": "massachusetts", "MI": "michigan", "MN": "minnesota",
    "MS": "mississippi", "MO": "missouri", "MT": "montana", "NE": "nebraska", "NV": "nevada", "NH": "new hampshire",
    "NJ": "new jersey", "NM": "new mexico", "NY": "new york", "NC": "north carolina", "ND": "north dakota",
    "OH": "ohio", "OK": "oklahoma", "OR": "oregon", "PA": "pennsylvania", "RI": "rhode island",
    "SC": "south carolina", "SD": "south dakota", "TN": "tennessee", "TX": "texas", "UT": "utah", "VT": "vermont",
    "VA": "virginia", "WA": "washington", "WV": "west virginia", "WI": "wisconsin", "WY": "wyoming",
    "DC": "district of columbia",
}
CA_PROVINCES = {"AB": "alberta", "BC": "british columbia", "MB": "manitoba", "NB": "new brunswick",
                "NL": "newfoundland and labrador", "NS": "nova scotia", "ON": "ontario", "PE": "prince edward island",
                "QC": "quebec", "SK": "saskatchewan"}
COUNTRIES = {  # name or short form -> ISO code
    "united states": "US", "usa": "US", "u.s.": "US", "us": "US", "america": "US", "canada": "CA",
    "united kingdom": "GB", "uk": "GB", "england": "GB", "scotland": "GB", "britain": "GB", "ireland": "IE",
    "germany": "DE", "france": "FR", "netherlands": "NL", "spain": "ES", "portugal": "PT", "italy": "IT",
    "switzerland": "CH", "austria": "AT", "belgium": "BE", "sweden": "SE", "norway": "NO", "denmark": "DK",
    "finland": "FI", "poland": "PL", "czech republic": "CZ", "czechia": "CZ", "romania": "RO", "greece": "GR",
    "estonia": "EE", "ukraine": "UA", "israel": "IL", "india": "IN", "singapore": "SG", "japan": "JP",
    "china": "CN", "hong kong": "HK", "taiwan": "TW", "korea": "KR", "australia": "AU", "new zealand": "NZ",
    "brazil": "BR", "mexico": "MX", "argentina": "AR", "colombia": "CO", "chile": "CL", "south africa": "ZA",
    "nigeria": "NG", "kenya": "KE", "egypt": "EG", "uae": "AE", "united arab emirates": "AE", "turkey": "TR",
    "philippines": "PH", "vietnam": "VN", "indonesia": "ID", "pakistan": "PK",
}
CITIES = {  # city or metro -> (country, region): the places postings name without a state or country
    "nyc": ("US", "NY"), "new york city": ("US", "NY"), "manhattan": ("US", "NY"), "brooklyn": ("US", "NY"),
    "san francisco": ("US", "CA"), "sf": ("US", "CA"), "bay area": ("US", "CA"), "silicon valley": ("US", "CA"),
    "los angeles": ("US", "CA"), "san diego": ("US", "CA"), "palo alto": ("US", "CA"), "seattle": ("US", "WA"),
    "boston": ("US", "MA"), "chicago": ("US", "IL"), "austin": ("US", "TX"), "dallas": ("US", "TX"),
    "houston": ("US", "TX"), "denver": ("US", "CO"), "atlanta": ("US", "GA"), "miami": ("US", "FL"),
    "philadelphia": ("US", "PA"), "pittsburgh": ("US", "PA"), "washington dc": ("US", "DC"),
    "washington, d.c.": ("US", "DC"), "portland": ("US", "OR"), "toronto": ("CA", "ON"),
    "vancouver": ("CA", "BC"), "montreal": ("CA", "QC"), "london": ("GB", None), "berlin": ("DE", None),
    "munich": ("DE", None), "paris": ("FR", None), "amsterdam": ("NL", None), "dublin": ("IE", None),
    "zurich": ("CH", None), "stockholm": ("SE", None), "barcelona": ("ES", None), "madrid": ("ES", None),
    "lisbon": ("PT", None), "tel aviv": ("IL", None), "bangalore": ("IN", None), "bengaluru": ("IN", None),
    "sydney": ("AU", None), "melbourne": ("AU", None), "tokyo": ("JP", None),
}
_STATE_NAMES = {v: k for k, v in US_STATES.items()}
_PROVINCE_NAMES = {v: k for k, v in CA_PROVINCES.items()}
_CODE_AFTER_COMMA = re.compile(r",\s*([A-Z]{2})\b(?!\w)")
_WORDS = re.compile(r"[a-z][a-z.]*(?:[ -][a-z][a-z.]*)*")

Place = tuple[str, "str | None"]  # (ISO country, state / province code or None)


def _phrase(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z])" + re.escape(name) + r"(?![a-z])")


_NAMED = sorted([(n, ("US", c)) for n, c in _STATE_NAMES.items()]
                + [(n, ("CA", c)) for n, c in _PROVINCE_NAMES.items()]
                + [(n, (c, None)) for n, c in COUNTRIES.items() if len(n) > 2]
                + list(CITIES.items()), key=lambda x: -len(x[0]))
_NAMED_RE = [(_phrase(n), place) for n, place in _NAMED]
_SHORT_COUNTRY = re.compile(r"(?<![A-Za-z])(US|USA|UK|UAE)(?![A-Za-z])")


def places(location: str | None) -> frozenset[Place]:
    """The places a location string names: ``{("US", "IL")}`` for "Chicago, IL", ``{("GB", None)}`` for "London,
    UK", several for "SF / NYC / Remote"; empty when it names none we know. A state implies its country."""
    if not location:
        return frozenset()
    found: set[Place] = set()
    for code in _CODE_AFTER_COMMA.findall(location):
        if code in US_STATES:
            found.add(("US", code))
        elif code in CA_PROVINCES:
            found.add(("CA", code))
    low = " " + location.lower() + " "
    for pat, place in _NAMED_RE:
        if pat.search(low):
            found.add(place)
            low = pat.sub(" ", low)  # "new york city" must not also count as the state's "new york" twice
    for m in _SHORT_COUNTRY.findall(location):
        found.add((COUNTRIES[m.lower()], None))
    # a bare country next to one of its own states adds nothing
    states = {c for c, r in found if r is not None}
    return frozenset(p for p in found if p[1] is not None or p[0] not in states)


def location_fit(candidate: frozenset[Place], remote: bool | None, posting: frozenset[Place]) -> float:
    """How compatible a candidate's place is with a posting's, in [0, 1].

    Remote posting: 1. Either place unknown: ``UNKNOWN_FIT``. Same state (or the same country where the posting
    names no state): 1. Same country, another state: 0.5 (a move within the country). Another country: 0.
    """
    if remote:
        return 1.0
    if not candidate or not posting:
        return UNKNOWN_FIT
    best = 0.0
    for c_country, c_region in candidate:
        for p_country, p_region in posting:
            if c_country != p_country:
                continue
            best = max(best, 1.0 if p_region is None or c_region == p_region else 0.5)
    return best


# --------------------------------------------------------------------------------------------- resume side
_HEADER_LINES = 6
_TITLE_LINE = re.compile(r"^[A-Za-z][A-Za-z&/,.()' -]{1,70}$")


def resume_title(text: str | None) -> str | None:
    """The resume's headline when its first non-empty line reads as a job title (2-70 letters, at most 8 words,
    not a section heading or a placeholder), lower-cased; else None."""
    if not text:
        return None
    for line in text.splitlines():
        s = " ".join(line.split())
        if not s:
            continue
        if _TITLE_LINE.match(s) and len(s.split()) <= 8 and not is_heading(s) and "[" not in s:
            return s.lower()
        return None
    return None


def resume_places(text: str | None) -> frozenset[Place]:
    """The places named in the resume header: the lines before the first section heading (at most six), less the
    headline title ("PE TEACHER, ..." names no province)."""
    if not text:
        return frozenset()
    head: list[str] = []
    for line in text.splitlines()[:_HEADER_LINES * 3]:
        s = line.strip()
        if not s:
            continue
        if is_heading(s) or len(head) >= _HEADER_LINES:
            break
        head.append(s)
    if head and resume_title(head[0]) is not None:
        head = head[1:]
    return places(" | ".join(head))


@dataclass(frozen=True)
class Profiles:
    """One side's profiles, indexed by document id, and its title embeddings (a zero row: no title).

    ``frame`` columns: ``title`` (str or None), ``years_min`` / ``years_max`` (a posting's requirement; a
    candidate's estimate in ``years_min``, NaN when unknown), ``remote`` (bool or None), ``places`` (frozenset).
    """

    frame: pd.DataFrame
    title_emb: np.ndarray

    def take(self, ids: list[str]) -> Profiles:
        """The profiles of ``ids`` in that order (unknown ids get an empty profile)."""
        pos = pd.Series(np.arange(len(self.frame)), index=self.frame.index).reindex(ids)
        known = pos.notna().to_numpy()
        idx = pos.fillna(0).astype(int).to_numpy()
        frame = self.frame.iloc[idx].copy()
        frame.index = pd.Index(ids)
        if (~known).any():
            frame.loc[~known, ["title", "remote"]] = None
            frame.loc[~known, ["years_min", "years_max"]] = [math.nan, math.inf]
            frame.loc[~known, "places"] = pd.Series([frozenset()] * int((~known).sum()), dtype=object,
                                                    index=frame.index[~known]).to_numpy()
        emb = self.title_emb[idx] if len(self.title_emb) else np.zeros((len(ids), 0), np.float32)
        emb = np.where(known[:, None], emb, 0).astype(np.float32)
        return Profiles(frame, emb)

    @property
    def has_title(self) -> np.ndarray:
        """Which rows have a title embedding (a zero row has none)."""
        return np.abs(self.title_emb).sum(1) > 0 if self.title_emb.size else np.zeros(len(self.title_emb), bool)

    def with_titles(self, emb: np.ndarray) -> Profiles:
        return Profiles(self.frame, emb)


def posting_profiles(postings: pd.DataFrame) -> pd.DataFrame:
    """Profile frame of postings (``posting_id`` or ``doc_id``, title, and optional seniority, location, remote,
    text columns)."""
    ids = postings["posting_id"] if "posting_id" in postings else postings["doc_id"]

    def col(c: str) -> list:  # missing values (None, NaN, pd.NA of Arrow-backed columns) as None
        if c not in postings:
            return [None] * len(postings)
        return [None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v
                for v in postings[c].astype(object)]

    years = [required_years(s, t, x) for s, t, x in zip(col("seniority"), col("title"), col("text"))]
    remote = [None if r is None else bool(r) for r in col("remote")]
    return pd.DataFrame({"title": [t.strip().lower() if isinstance(t, str) and t.strip() else None
                                   for t in col("title")],
                         "years_min": [y[0] for y in years], "years_max": [y[1] for y in years],
                         "remote": remote, "places": [places(loc if isinstance(loc, str) else None)
                                                      for loc in col("location")]},
                        index=pd.Index(ids.astype(str).to_numpy()))


def candidate_profiles(resumes: pd.DataFrame) -> pd.DataFrame:
    """Profile frame of resumes (``candidate_id`` or ``doc_id``, redacted ``text``, optional
    ``years_experience``; estimated from the text when absent)."""
    from skillmatch.sources.resume_sections import estimate_years_experience

    ids = resumes["candidate_id"] if "candidate_id" in resumes else resumes["doc_id"]
    texts = [t if isinstance(t, str) else "" for t in resumes["text"].astype(object)]
    years = (resumes["years_experience"].astype(float).tolist() if "years_experience" in resumes
             else [estimate_years_experience(t) for t in texts])
    return pd.DataFrame({"title": [resume_title(t) for t in texts],
                         "years_min": [math.nan if y is None or y is pd.NA else float(y) for y in years],
                         "years_max": math.inf, "remote": None,
                         "places": [resume_places(t) for t in texts]},
                        index=pd.Index(ids.astype(str).to_numpy()))


def profile_fingerprint(frame: pd.DataFrame, doc_id: str) -> str:
    """What a document's profile contributes to its scores, as text (for the incremental fingerprints)."""
    if doc_id not in frame.index:
        return ""
    r = frame.loc[doc_id]
    return f"{r['title']}|{r['years_min']}|{r['years_max']}|{r['remote']}|{sorted(r['places'], key=str)}"


def with_title_embeddings(frame: pd.DataFrame, device: str = "auto",
                          known: dict[str, np.ndarray] | None = None) -> Profiles:
    """Profiles of ``frame`` with its titles embedded by the sentence encoder (each distinct title once; those in
    ``known``, a title -> vector cache, are not encoded again)."""
    from skillmatch.extraction.encoder import encode

    titles = [t if isinstance(t, str) and t else None for t in frame["title"]]
    known = known or {}
    distinct = sorted({t for t in titles if t and t not in known})
    emb = encode(distinct, device) if distinct else np.zeros((0, 384), np.float32)
    vectors = {**known, **dict(zip(distinct, emb))}
    dim = next((len(v) for v in vectors.values()), 384)
    out = np.zeros((len(titles), dim), np.float32)
    for i, t in enumerate(titles):
        if t:
            out[i] = vectors[t]
    return Profiles(frame, out)
