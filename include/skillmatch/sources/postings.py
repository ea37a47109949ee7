"""Posting parsers shared by the connectors: HTML to text, the Hacker News "Who is hiring?" header line and items.

Every reader returns records in one canonical raw shape (:data:`POSTING_COLUMNS`), with the source file and row
kept so any bad record can be traced back.
"""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from skillmatch.sources.base import POSTING_COLUMNS, to_canonical

__all__ = ["POSTING_COLUMNS", "html_to_text", "parse_hn_header", "hn_records", "read_hn_runs", "infer_role"]

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


_DROP = re.compile(r"<(script|style|head|noscript|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_BLOCK = re.compile(r"<\s*(?:p|br|div|h[1-6]|tr|ul|ol|section|article|table)\b[^>]*/?>|</\s*(?:p|div|h[1-6]|tr|li|ul|ol)\s*>",
                    re.I)


def html_to_text(raw: str) -> str:
    """HTML (or HTML-escaped HTML, as Greenhouse serves it) to plain text: script/style dropped, block tags and
    list items become new lines, other tags dropped, entities unescaped, runs of blank lines collapsed."""
    text = raw or ""
    if "<" not in text and re.search(r"&lt;\s*/\s*(?:p|div|li|ul|ol|h[1-6]|span|strong|em|a)\s*&gt;", text, re.I):
        # wholly escaped markup (closing tags included): unescape once to get the tags back; a lone escaped
        # "&lt;p&gt;" in HN text is something the poster wrote, and stays text
        text = html.unescape(text)
    text = _DROP.sub(" ", text)
    text = re.sub(r"<\s*li\b[^>]*>", "\n- ", text, flags=re.I)
    text = _BLOCK.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


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


def hn_records(jobs: list[Any], source_file: str, source: str = "hn-who-is-hiring"
               ) -> tuple[list[dict[str, object]], list[dict[str, str]]]:
    """Canonical raw postings from the items of one HN run; an item that is not an object or has no id is
    rejected with its index (``file#n``), the others go on."""
    rows: list[dict[str, object]] = []
    bad: list[dict[str, str]] = []
    for i, job in enumerate(jobs):
        if not isinstance(job, dict) or job.get("id") in (None, ""):
            bad.append({"source_file": f"{source_file}#{i}",
                        "error": "item is not an object with an id" if not isinstance(job, dict) else "item has no id"})
            continue
        text = html_to_text(str(job.get("text") or ""))
        head = parse_hn_header(text)
        ts = job.get("time")
        posted = datetime.fromtimestamp(int(ts), tz=timezone.utc) if isinstance(ts, (int, float)) else None
        rows.append({
            "source": source, "native_id": str(job.get("id")), "source_file": source_file,
            "source_row": i, "title": head["title"], "company": head["company"],
            "location": head["location"], "remote": head["remote"],
            "employment_type": head["employment_type"], "seniority": None,
            "salary_text": head["salary_text"], "description": text, "posted_at": posted,
            "url": f"https://news.ycombinator.com/item?id={job.get('id')}",
        })
    return rows, bad


def read_hn_runs(files: list[Path], limit: int | None = None) -> pd.DataFrame:
    """Read HN "Who is hiring?" JSON run files into canonical raw postings (one row per job per file).

    A file that is not valid JSON or lacks the ``jobs`` list raises ``ValueError`` naming the file.
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
        rows.extend(hn_records(jobs, str(f))[0])
    df = to_canonical(rows)
    if limit is not None:
        keep = df["native_id"].drop_duplicates().head(limit)
        df = df[df["native_id"].isin(keep)]
    return df.reset_index(drop=True)
