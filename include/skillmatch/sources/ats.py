"""Connectors for the public job-board APIs of three applicant-tracking systems: Greenhouse, Lever and Ashby.

Each configured source names a list of ``boards`` (Greenhouse board tokens, Lever company sites, Ashby org names)
and reads them through the public, unauthenticated board APIs in their documented shapes:

* Greenhouse: ``GET {base}/v1/boards/{board}/jobs?content=true`` -> ``{"jobs": [...], "meta": {...}}``
* Lever: ``GET {base}/v0/postings/{company}?mode=json&skip=S&limit=L`` -> ``[...]`` (paged with skip/limit)
* Ashby: ``GET {base}/posting-api/job-board/{org}?includeCompensation=true`` -> ``{"jobs": [...]}``

Spec keys: ``boards`` (required), ``base_url``, ``timeout`` (seconds, or ``[connect, read]``), ``retries``,
``backoff`` and, for Lever, ``page_size``. A board whose request fails is rejected whole (its URL and the
reason) and the other boards go on; a single malformed job is rejected on its own (``url#index``).

The watermark records, per board, how many jobs it listed and the latest job timestamp seen; on the next fetch
jobs whose timestamp is not later than that are counted in ``skipped_unchanged`` instead of being returned.
"""
from __future__ import annotations

import re
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, ClassVar
from urllib.parse import quote, urlparse

import pandas as pd
import requests

from skillmatch.sources.base import FetchResult, PostingConnector, to_canonical
from skillmatch.sources.http import SourceHTTPError, get_json
from skillmatch.sources.postings import html_to_text

_PERIODS = {"year": "year", "yr": "year", "annual": "year", "month": "month", "week": "week", "day": "day",
            "daily": "day", "hour": "hour", "hourly": "hour"}
_ASHBY_EMPLOYMENT = {"FullTime": "Full-time", "PartTime": "Part-time", "Intern": "Internship",
                     "Contract": "Contract", "Temporary": "Temporary"}
_REMOTE_WORDS = re.compile(r"\bremote\b", re.I)


class _BadRecord(ValueError):
    """One job in a response that cannot be used (not an object, no id, no title)."""


class BoardConnector(PostingConnector):
    """Shared fetch loop of the ATS board connectors: boards in turn, rejects, watermark, ``limit``.

    Subclasses set ``kind`` and ``default_base_url`` and implement :meth:`pages` (the raw jobs of one board,
    page by page) and :meth:`parse` (one raw job to a canonical row and its change timestamp).
    """

    default_base_url: ClassVar[str]

    def __init__(self, name: str, spec: dict[str, Any], limit: int | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None) -> None:
        """Validate the spec; ``sleep`` and ``session`` are injectable so tests neither wait nor go online."""
        super().__init__(name, spec, limit)
        boards = spec.get("boards")
        if isinstance(boards, (str, int)) and not isinstance(boards, bool):
            boards = [boards]
        # YAML reads a numeric board token (``boards: [12345]``) as an int: accept it as its text.
        names = ([str(b).strip() for b in boards if isinstance(b, (str, int)) and not isinstance(b, bool)]
                 if isinstance(boards, list) else [])
        if not names or len(names) != len(boards or []) or not all(names):
            raise ValueError(f"{self.kind} source {name!r}: 'boards' must be a non-empty list of board names")
        self.boards = list(dict.fromkeys(names))
        self.base_url = str(spec.get("base_url") or self.default_base_url).rstrip("/")
        timeout = spec.get("timeout", (5, 30))
        self.timeout: float | tuple[float, float] = (
            (float(timeout[0]), float(timeout[1])) if isinstance(timeout, (list, tuple)) else float(timeout))
        self.retries = int(spec.get("retries", 4))
        self.backoff = float(spec.get("backoff", 1.0))
        self._sleep = sleep
        self._session = session

    def get(self, url: str) -> Any:
        """GET one URL as JSON with this source's timeout / retry settings; raises :class:`SourceHTTPError`."""
        return get_json(url, timeout=self.timeout, retries=self.retries, backoff=self.backoff, sleep=self._sleep,
                        session=self._session)

    def board_path(self, board: str) -> str:
        """The board name as one URL path segment (a name with '/' or spaces must not change the path)."""
        return quote(board, safe="")

    @abstractmethod
    def pages(self, board: str) -> Iterator[tuple[str, list[Any]]]:
        """Yield ``(url, raw jobs)`` for each response of one board; raise SourceHTTPError when one fails."""

    @abstractmethod
    def parse(self, board: str, job: Any) -> tuple[dict[str, Any], pd.Timestamp | None] | None:
        """One raw job as (canonical row, change timestamp); None to skip it quietly; _BadRecord if unusable."""

    def fetch(self, since: dict[str, Any] | None) -> FetchResult:
        """Fetch every board; jobs not changed since the watermark are skipped, failing boards are rejected."""
        fetched_at = datetime.now(timezone.utc).isoformat()
        previous = since.get("boards") if isinstance(since, dict) else None
        previous = previous if isinstance(previous, dict) else {}  # a damaged watermark means a full fetch
        rows: list[dict[str, Any]] = []
        rejected: list[dict[str, str]] = []
        marks: dict[str, Any] = {}
        skipped = 0
        for board in self.boards:
            prev = previous.get(board) if isinstance(previous.get(board), dict) else {}
            if self.limit is not None and len(rows) >= self.limit:
                if prev:  # not read this time: keep what the last run knew, so nothing is skipped wrongly later
                    marks[board] = prev
                continue
            since_ts = _timestamp(prev.get("max_updated"))
            try:
                pages = list(self.pages(board))  # all pages first: a board half-read is a board not read
            except SourceHTTPError as exc:
                rejected.append({"source_file": exc.url, "error": str(exc)})
                if prev:
                    marks[board] = prev
                continue
            new: list[dict[str, Any]] = []
            listed, newest, seen_ids = 0, since_ts, set()
            for url, jobs in pages:
                for index, job in enumerate(jobs):
                    try:
                        parsed = self.parse(board, job)
                    except _BadRecord as exc:
                        rejected.append({"source_file": f"{url}#{index}", "error": f"job {index}: {exc}"})
                        continue
                    if parsed is None:
                        continue
                    row, changed = parsed
                    if row["native_id"] in seen_ids:  # Lever pages can overlap when postings move between requests
                        continue
                    seen_ids.add(row["native_id"])
                    listed += 1
                    row.update(source=self.name, source_file=url, source_row=index)
                    if changed is not None:
                        newest = changed if newest is None else max(newest, changed)
                        if since_ts is not None and changed <= since_ts:
                            skipped += 1
                            continue
                    new.append(row)
            room = None if self.limit is None else self.limit - len(rows)
            cut = room is not None and len(new) > room
            rows.extend(new[:room] if cut else new)
            # Cut short by ``limit``: the jobs left out must not look "already seen" to the next run.
            mark = prev.get("max_updated") if cut else (newest.isoformat() if newest is not None else None)
            marks[board] = {"jobs": listed, "max_updated": mark}
        return FetchResult(records=to_canonical(rows), watermark={"fetched_at": fetched_at, "boards": marks},
                           rejected=rejected, skipped_unchanged=skipped)


class GreenhouseConnector(BoardConnector):
    """Greenhouse job boards (``boards-api.greenhouse.io``); ``boards`` are board tokens. No pagination."""

    kind = "greenhouse"
    default_base_url = "https://boards-api.greenhouse.io"

    def pages(self, board: str) -> Iterator[tuple[str, list[Any]]]:
        """The board's single ``jobs`` response (``content=true`` brings the description)."""
        url = f"{self.base_url}/v1/boards/{self.board_path(board)}/jobs?content=true"
        yield url, _jobs_list(url, self.get(url))

    def parse(self, board: str, job: Any) -> tuple[dict[str, Any], pd.Timestamp | None] | None:
        """One Greenhouse job; ``content`` is HTML-escaped HTML, ``updated_at`` drives the watermark."""
        job_id, title = _id_and_title(job, "id", "title")
        location = _text((job.get("location") or {}).get("name") if isinstance(job.get("location"), dict) else None)
        metadata = [m for m in job.get("metadata") or [] if isinstance(m, dict)]
        salary = _greenhouse_salary(metadata)
        updated = _timestamp(job.get("updated_at"))
        row = {"native_id": f"{board}:{job_id}", "title": title, "company": _text(job.get("company_name")) or board,
               "location": location, "remote": _remote(None, location),
               "employment_type": _meta_text(metadata, r"employment|commitment|job type"),
               "seniority": _meta_text(metadata, r"seniority|(job|career|experience) level|^level$"),
               "description": html_to_text(_text(job.get("content")) or "") or None,
               "posted_at": updated, "url": _text(job.get("absolute_url")), **salary}
        return row, updated


class LeverConnector(BoardConnector):
    """Lever job sites (``api.lever.co``); ``boards`` are company site names; paged by ``page_size`` (100)."""

    kind = "lever"
    default_base_url = "https://api.lever.co"

    def __init__(self, name: str, spec: dict[str, Any], limit: int | None = None, *,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None) -> None:
        """As :class:`BoardConnector`, plus ``page_size`` (postings per request)."""
        super().__init__(name, spec, limit, sleep=sleep, session=session)
        self.page_size = int(spec.get("page_size", 100))
        if self.page_size < 1:
            raise ValueError(f"lever source {name!r}: page_size must be >= 1")

    def pages(self, board: str) -> Iterator[tuple[str, list[Any]]]:
        """Pages of ``page_size`` postings until one comes back shorter than that."""
        skip = 0
        while True:
            url = (f"{self.base_url}/v0/postings/{self.board_path(board)}"
                   f"?mode=json&skip={skip}&limit={self.page_size}")
            body = self.get(url)
            if not isinstance(body, list):
                raise SourceHTTPError(url, f"unexpected response shape: expected a JSON list, got "
                                           f"{type(body).__name__}")
            yield url, body
            if len(body) < self.page_size:
                return
            skip += len(body)

    def parse(self, board: str, job: Any) -> tuple[dict[str, Any], pd.Timestamp | None] | None:
        """One Lever posting; ``createdAt`` (epoch ms) is both posted_at and the watermark time."""
        job_id, title = _id_and_title(job, "id", "text")
        cats = job.get("categories") if isinstance(job.get("categories"), dict) else {}
        location = _text(cats.get("location"))
        if location is None and isinstance(cats.get("allLocations"), list):
            location = _text(", ".join(str(x) for x in cats["allLocations"] if x)) or None
        parts = [_text(job.get("descriptionPlain")) or html_to_text(_text(job.get("description")) or "")]
        for block in job.get("lists") or []:
            if isinstance(block, dict):
                parts.append(_text(block.get("text")) or "")
                parts.append(html_to_text(_text(block.get("content")) or ""))
        parts.append(_text(job.get("additionalPlain")) or html_to_text(_text(job.get("additional")) or ""))
        created = _epoch_ms(job.get("createdAt"))
        sal = job.get("salaryRange") if isinstance(job.get("salaryRange"), dict) else {}
        salary = _salary(sal.get("min"), sal.get("max"), sal.get("currency"), _period(sal.get("interval")))
        row = {"native_id": f"{board}:{job_id}", "title": title, "company": board, "location": location,
               "remote": _remote(job.get("workplaceType"), location), "employment_type": _text(cats.get("commitment")),
               "seniority": None, "description": "\n\n".join(p.strip() for p in parts if p and p.strip()) or None,
               "posted_at": created, "url": _text(job.get("hostedUrl")) or _text(job.get("applyUrl")), **salary}
        return row, created


class AshbyConnector(BoardConnector):
    """Ashby job boards (``api.ashbyhq.com``); ``boards`` are org names; compensation included; unlisted skipped."""

    kind = "ashby"
    default_base_url = "https://api.ashbyhq.com"

    def pages(self, board: str) -> Iterator[tuple[str, list[Any]]]:
        """The board's single response, with compensation."""
        url = f"{self.base_url}/posting-api/job-board/{self.board_path(board)}?includeCompensation=true"
        yield url, _jobs_list(url, self.get(url))

    def parse(self, board: str, job: Any) -> tuple[dict[str, Any], pd.Timestamp | None] | None:
        """One Ashby job; ``publishedAt`` is posted_at and the watermark time; a missing id comes from jobUrl."""
        if not isinstance(job, dict):
            raise _BadRecord(f"not an object ({type(job).__name__})")
        if job.get("isListed") is False:
            return None
        if _text(job.get("id")) is None and _text(job.get("jobUrl")):
            job = {**job, "id": urlparse(str(job["jobUrl"])).path.rstrip("/").rsplit("/", 1)[-1] or None}
        job_id, title = _id_and_title(job, "id", "title")
        location = _text(job.get("location"))
        remote = True if job.get("isRemote") is True else _remote(job.get("workplaceType"), location)
        if remote is None and job.get("isRemote") is False:
            remote = False
        employment = _text(job.get("employmentType"))
        published = _timestamp(job.get("publishedAt"))
        row = {"native_id": f"{board}:{job_id}", "title": title, "company": board, "location": location,
               "remote": remote, "employment_type": _ASHBY_EMPLOYMENT.get(employment or "", employment),
               "seniority": None,
               "description": (_text(job.get("descriptionPlain"))
                               or html_to_text(_text(job.get("descriptionHtml")) or "") or None),
               "posted_at": published, "url": _text(job.get("jobUrl")) or _text(job.get("applyUrl")),
               **_ashby_salary(job.get("compensation"))}
        return row, published


ATS_CONNECTORS: dict[str, type[BoardConnector]] = {
    c.kind: c for c in (GreenhouseConnector, LeverConnector, AshbyConnector)}


def _jobs_list(url: str, body: Any) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("jobs"), list):
        got = f"object with keys {sorted(body)[:8]}" if isinstance(body, dict) else type(body).__name__
        raise SourceHTTPError(url, f"unexpected response shape: expected an object with a 'jobs' list, got {got}")
    return body["jobs"]


def _id_and_title(job: Any, id_key: str, title_key: str) -> tuple[str, str]:
    if not isinstance(job, dict):
        raise _BadRecord(f"not an object ({type(job).__name__})")
    job_id, title = _text(job.get(id_key)), _text(job.get(title_key))
    if job_id is None or title is None:
        missing = [k for k, v in ((id_key, job_id), (title_key, title)) if v is None]
        raise _BadRecord(f"missing {' and '.join(missing)}")
    return job_id, title


def _text(value: Any) -> str | None:
    """A non-empty stripped string, or None (numbers become strings: Greenhouse ids are integers)."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    s = str(value).strip()
    return s or None


def _timestamp(value: Any) -> pd.Timestamp | None:
    """An ISO time as a tz-aware UTC Timestamp (naive means UTC); None when absent or unparseable."""
    s = _text(value)
    if s is None:
        return None
    try:
        t = pd.Timestamp(s)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(t):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _epoch_ms(value: Any) -> pd.Timestamp | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _timestamp(value)  # tolerate an ISO string in place of epoch ms
    try:
        return pd.Timestamp(int(value), unit="ms", tz="UTC")
    except (ValueError, OverflowError):
        return None


def _remote(workplace: Any, location: str | None) -> bool | None:
    """True for remote, False for on-site or hybrid (the candidate must be near an office), else the location
    text decides (``remote`` in it means True), else None."""
    w = re.sub(r"[^a-z]", "", str(workplace or "").lower())
    if w == "remote":
        return True
    if w in {"onsite", "hybrid"}:
        return False
    if location and _REMOTE_WORDS.search(location):
        return True
    return None


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        n = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return n if n == n and n > 0 else None  # NaN and 0 carry no salary information


def _period(interval: Any) -> str | None:
    """``per-year-salary`` / ``1 YEAR`` / ``hourly`` -> year / hour...; None for unknown or multi-unit intervals."""
    s = str(interval or "").lower()
    m = re.match(r"\s*(\d+)\s+", s)
    if m and int(m.group(1)) != 1:  # "2 WEEK" is not a weekly rate
        return None
    for word in re.findall(r"[a-z]+", s):
        if word in _PERIODS:
            return _PERIODS[word]
    return None


def _salary(lo: Any, hi: Any, currency: Any, period: str | None) -> dict[str, Any]:
    lo_n, hi_n = _number(lo), _number(hi)
    if lo_n is not None and hi_n is not None and lo_n > hi_n:
        lo_n, hi_n = hi_n, lo_n
    cur = str(currency).strip().upper() if isinstance(currency, str) else ""
    cur = cur if re.fullmatch(r"[A-Z]{3}", cur) else None
    out: dict[str, Any] = {"salary_min": lo_n, "salary_max": hi_n, "salary_currency": cur,
                           "salary_period": period, "salary_text": None}
    if lo_n is None and hi_n is None:
        return {**out, "salary_currency": None, "salary_period": None}

    def fmt(n: float) -> str:
        """Thousands separators; cents only when there are any (hourly rates)."""
        return f"{n:,.0f}" if n == int(n) else f"{n:,.2f}"

    prefix, text = (f"{cur} " if cur else ""), ""
    if lo_n is not None and hi_n is not None:
        text = prefix + (fmt(lo_n) if lo_n == hi_n else f"{fmt(lo_n)}-{fmt(hi_n)}")
    elif lo_n is not None:
        text = f"{prefix}{fmt(lo_n)}+"
    elif hi_n is not None:
        text = f"up to {prefix}{fmt(hi_n)}"
    out["salary_text"] = text + (f" per {period}" if period else "")
    return out


def _ashby_salary(compensation: Any) -> dict[str, Any]:
    components = compensation.get("summaryComponents") if isinstance(compensation, dict) else None
    for c in components or []:
        if isinstance(c, dict) and str(c.get("compensationType", "")).lower() == "salary":
            return _salary(c.get("minValue"), c.get("maxValue"), c.get("currencyCode"), _period(c.get("interval")))
    return _salary(None, None, None, None)


def _greenhouse_salary(metadata: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``currency_range`` custom field named like salary / pay / compensation, when the board publishes one."""
    for m in metadata:
        value = m.get("value")
        if (m.get("value_type") == "currency_range" and isinstance(value, dict)
                and re.search(r"salary|compensation|pay", str(m.get("name", "")), re.I)):
            return _salary(value.get("min_value"), value.get("max_value"), value.get("unit"),
                           _period(m.get("name")))
    return _salary(None, None, None, None)


def _meta_text(metadata: list[dict[str, Any]], name_pattern: str) -> str | None:
    for m in metadata:
        if re.search(name_pattern, str(m.get("name", "")), re.I):
            value = m.get("value")
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value if v)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return _text(value)
    return None
