"""Job-posting readers: Hacker News "Who is hiring?" JSON runs and CSV exports with declarative mappings.

Every reader returns records in one canonical raw shape (:data:`POSTING_COLUMNS`), with the source file and row
kept so any bad record can be traced back.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

POSTING_COLUMNS = [
    "source", "native_id", "source_file", "source_row", "title", "company", "location", "remote",
    "employment_type", "seniority", "salary_text", "description", "posted_at", "url",
]


@dataclass(frozen=True)
class CsvMapping:
    """How one CSV export maps onto the canonical posting columns.

    ``columns`` maps canonical name -> CSV column. ``native_id`` is the CSV column holding a stable id, or
    ``None`` to use the row number within the file (stable for an immutable export).
    """

    source: str
    pattern: str
    columns: dict[str, str]
    native_id: str | None = None
    posted_at_unit: str | None = None  # "ms" when posted_at is epoch milliseconds
    company_strip_rating: bool = False
    constants: dict[str, object] = field(default_factory=dict)


CSV_SOURCES: list[CsvMapping] = [
    CsvMapping(
        source="linkedin-2023-24-sample",
        pattern="linkedin-2023-24-sample/*.csv",
        native_id="job_id",
        columns={"title": "title", "company": "company_name", "location": "location",
                 "description": "description", "posted_at": "listed_time", "url": "job_posting_url",
                 "employment_type": "formatted_work_type", "seniority": "formatted_experience_level",
                 "remote": "remote_allowed", "salary_min": "min_salary", "salary_max": "max_salary",
                 "salary_period": "pay_period"},
        posted_at_unit="ms",
    ),
    CsvMapping(
        source="glassdoor-2020",
        pattern="glassdoor-2020/*.csv",
        native_id="Unnamed: 0",
        columns={"title": "Job Title", "company": "Company Name", "location": "Location",
                 "description": "Job Description", "salary_text": "Salary Estimate"},
        company_strip_rating=True,
    ),
    CsvMapping(
        source="linkedin-ca-2018",
        pattern="linkedin-ca-2018/*.csv",
        columns={"title": "title", "company": "company", "location": "location", "description": "description",
                 "seniority": "seniority", "employment_type": "employment_type"},
    ),
]

_TAG = re.compile(r"<[^>]+>")
_ROLE_WORDS = re.compile(
    r"\b(engineers?|developers?|scientists?|analysts?|designers?|managers?|architects?|leads?|directors?|"
    r"researchers?|specialists?|consultants?|administrators?|devops|sre|mles?|interns?|head of|founding|cto|vp|"
    r"recruiters?|technicians?|writers?|marketers?|programmers?|full[- ]?stack|backend|frontend)\b", re.I)
_ROLE_IN_BODY = re.compile(
    r"((?:(?:Senior|Sr\.?|Staff|Lead|Principal|Founding|Junior|Jr\.?)\s+)?(?:[A-Z][\w+#./-]*\s+){0,3}"
    r"(?:Engineer|Developer|Scientist|Analyst|Designer|Manager|Architect|Researcher|Specialist|Consultant|"
    r"Administrator|Recruiter|Technician|Programmer)s?)\b")
_HIRING_ROLE = re.compile(
    r"\b(?:hiring|looking for|seeking)\s+(?:an?\s+|for\s+|(?:several|multiple|two|three)\s+)?"
    r"((?:[\w+#./-]+\s+){0,3}(?:engineer|developer|scientist|analyst|designer|manager|architect|researcher|"
    r"specialist|consultant|administrator|recruiter|technician|programmer|representative|lead)s?)\b", re.I)


def infer_role(text: str) -> str | None:
    """A role named in the body ("We're hiring a Senior Data Engineer"), when the header names none."""
    m = _ROLE_IN_BODY.search(text[:1500]) or _HIRING_ROLE.search(text[:3000])
    return m.group(1).strip()[:300] if m else None
_REMOTE = re.compile(r"\b(remote|onsite|on-site|on site|hybrid|in[- ]office)\b", re.I)
_EMPLOYMENT = re.compile(r"\b(full[- ]?time|part[- ]?time|contract(or)?|intern(ship)?|freelance|temporary)\b", re.I)
_SALARY = re.compile(r"[$€£]\s?\d|\d+\s?[kK]\b|\bequity\b|\bsalary\b", re.I)
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)


def html_to_text(raw: str) -> str:
    """HN comment HTML to plain text: paragraphs become newlines, tags dropped, entities unescaped."""
    text = re.sub(r"<p>|<br\s*/?>", "\n", raw or "", flags=re.I)
    text = _TAG.sub("", text)
    return html.unescape(text).strip()


def parse_hn_header(text: str) -> dict[str, object]:
    """Split the first line of an HN posting ("Company | Location | Role | ...") into fields.

    Returns company, title, location, remote (True/False/None), employment_type and salary_text; fields that
    the line does not state are None.
    """
    first = text.split("\n", 1)[0]
    parts = [p.strip() for p in re.split(r"\s[|\u2022·]\s|\s[|]|[|]\s", first) if p.strip()]
    out: dict[str, object] = {"company": None, "title": None, "location": None, "remote": None,
                              "employment_type": None, "salary_text": None}
    if len(parts) < 2:
        out["title"] = infer_role(text)
        return out
    out["company"] = parts[0][:200]
    rest: list[str] = []
    for p in parts[1:]:
        low = p.lower()
        if _URL.search(p):
            continue
        if _REMOTE.search(p) and len(p) < 80 and not _ROLE_WORDS.search(p):
            if "remote" in low:
                out["remote"] = True
            elif out["remote"] is None and re.search(r"on-?\s?site|in[- ]office", low):
                out["remote"] = False
            if len(re.sub(r"\W", "", _REMOTE.sub("", p))) >= 3 and not out["location"]:
                out["location"] = p[:200]
            continue
        if _EMPLOYMENT.search(p) and len(p) < 40 and not _ROLE_WORDS.search(p):
            out["employment_type"] = p
            continue
        if _SALARY.search(p) and not _ROLE_WORDS.search(p):
            out["salary_text"] = p
            continue
        rest.append(p)
    roles = [p for p in rest if _ROLE_WORDS.search(p)]
    if roles:
        out["title"] = roles[0][:300]
        rest = [p for p in rest if p is not roles[0]]
    if rest and not out["location"]:
        out["location"] = rest[0][:200]
    if out["title"] is None:
        out["title"] = infer_role(text)
    return out


def read_hn_runs(files: list[Path], limit: int | None = None) -> pd.DataFrame:
    """Read HN "Who is hiring?" JSON runs into canonical raw postings (one row per job per file).

    A file that is not valid JSON or lacks the ``jobs`` list raises ``ValueError`` naming the file; the caller
    records it and carries on with the other files.
    """
    rows: list[dict[str, object]] = []
    for f in files:
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{f}: not valid JSON ({exc})") from exc
        jobs = doc.get("jobs") if isinstance(doc, dict) else None
        if not isinstance(jobs, list):
            raise ValueError(f"{f}: expected an object with a 'jobs' list")
        for i, job in enumerate(jobs):
            text = html_to_text(str(job.get("text") or ""))
            head = parse_hn_header(text)
            ts = job.get("time")
            posted = datetime.fromtimestamp(int(ts), tz=timezone.utc) if isinstance(ts, (int, float)) else None
            rows.append({
                "source": "hn-who-is-hiring", "native_id": str(job.get("id", "")), "source_file": str(f),
                "source_row": i, "title": head["title"], "company": head["company"],
                "location": head["location"], "remote": head["remote"],
                "employment_type": head["employment_type"], "seniority": None,
                "salary_text": head["salary_text"], "description": text, "posted_at": posted,
                "url": f"https://news.ycombinator.com/item?id={job.get('id')}",
            })
    df = pd.DataFrame(rows, columns=POSTING_COLUMNS)
    if limit is not None:
        keep = df["native_id"].drop_duplicates().head(limit)
        df = df[df["native_id"].isin(keep)]
    return df.reset_index(drop=True)


def _salary_text(row: pd.Series, mapping: CsvMapping) -> str | None:
    if "salary_text" in mapping.columns:
        v = row.get(mapping.columns["salary_text"])
        return None if pd.isna(v) or str(v).strip() in {"", "-1"} else str(v)
    lo, hi = row.get(mapping.columns.get("salary_min", "")), row.get(mapping.columns.get("salary_max", ""))
    if (lo is None or pd.isna(lo)) and (hi is None or pd.isna(hi)):
        return None
    period = row.get(mapping.columns.get("salary_period", ""))
    fmt = lambda v: "" if v is None or pd.isna(v) else f"{float(v):,.0f}"  # noqa: E731
    return f"{fmt(lo)}-{fmt(hi)} {'' if period is None or pd.isna(period) else period}".strip()


def read_csv_source(mapping: CsvMapping, files: list[Path], limit: int | None = None) -> pd.DataFrame:
    """Read CSV exports through their declarative mapping into canonical raw postings."""
    frames = []
    for f in files:
        try:
            raw = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ValueError(f"{f}: cannot parse CSV ({exc})") from exc
        missing = [c for c in mapping.columns.values() if c not in raw.columns]
        if missing:
            raise ValueError(f"{f}: missing mapped columns {missing}")
        out = pd.DataFrame({"source": mapping.source, "source_file": str(f), "source_row": range(len(raw))})
        out["native_id"] = (raw[mapping.native_id].astype(str).values if mapping.native_id
                            else [f"{f.stem}:{i}" for i in range(len(raw))])
        for col in ["title", "company", "location", "employment_type", "seniority", "description", "url"]:
            src = mapping.columns.get(col)
            out[col] = raw[src].where(raw[src].notna(), None).values if src else None
        if mapping.company_strip_rating:
            out["company"] = out["company"].map(lambda c: None if c is None or pd.isna(c) else str(c).split("\n")[0])
        if "remote" in mapping.columns:
            out["remote"] = raw[mapping.columns["remote"]].map(lambda v: True if str(v).strip() in {"1", "1.0", "True"} else None).values
        else:
            out["remote"] = None
        out["salary_text"] = [_salary_text(r, mapping) for _, r in raw.iterrows()]
        if "posted_at" in mapping.columns:
            vals = pd.to_numeric(raw[mapping.columns["posted_at"]], errors="coerce")
            out["posted_at"] = pd.to_datetime(vals, unit=mapping.posted_at_unit or "s", utc=True).values
        else:
            out["posted_at"] = pd.NaT
        frames.append(out[POSTING_COLUMNS])
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=POSTING_COLUMNS)
    if limit is not None:
        df = df.head(limit)
    return df
