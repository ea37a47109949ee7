"""A small JSON-over-HTTP client for the public job-board APIs: retries, backoff, ``Retry-After``, clear errors.

Every failure a caller should treat as "this URL could not be used" comes out as one exception type,
:class:`SourceHTTPError`, whose message names the URL and the reason, so a connector can put it straight into
``FetchResult.rejected`` and go on with its other boards.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests

USER_AGENT = "skillmatch/0.1 (+https://github.com/skillmatch; job-board connector)"
MAX_RETRY_AFTER_S = 60.0  # a server asking for longer than this is treated as "come back on the next run"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_TRANSIENT_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                     requests.exceptions.ChunkedEncodingError)


class SourceHTTPError(RuntimeError):
    """A GET that did not yield usable JSON: final HTTP status, timeout, connection failure, HTML or bad JSON."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"GET {url}: {reason}")
        self.url = url
        self.reason = reason


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), capped at 60 s; None if absent
    or unparseable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means the zone was missing
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def full_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """The URL as it is requested, query string included (what error messages and ``source_file`` name)."""
    if not params:
        return url
    prepared = requests.Request("GET", url, params=dict(params)).prepare().url
    return prepared or url


def get_json(url: str, *, params: Mapping[str, Any] | None = None, timeout: float | tuple[float, float] = (5, 30),
             retries: int = 4, backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep,
             session: requests.Session | None = None) -> Any:
    """GET ``url`` and return its decoded JSON body.

    429, 5xx, connection errors and timeouts are retried up to ``retries`` times (so ``retries + 1`` attempts)
    with exponential backoff ``backoff * 2**attempt`` seconds, or the server's ``Retry-After`` when it gives one
    (capped at 60 s). Other 4xx are not retried. Raises :class:`SourceHTTPError` naming the URL and the reason.
    """
    shown = full_url(url, params)
    own = session is None
    sess = requests.Session() if own else session
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    attempts = max(int(retries), 0) + 1
    try:
        for attempt in range(attempts):
            last = attempt == attempts - 1
            delay = backoff * (2 ** attempt)
            try:
                resp = sess.get(url, params=params, headers=headers, timeout=timeout)
            except _TRANSIENT_ERRORS as exc:
                if last:
                    kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "connection failed"
                    raise SourceHTTPError(shown, f"{kind} after {attempts} attempt(s) ({exc})") from exc
                sleep(min(delay, MAX_RETRY_AFTER_S))
                continue
            except requests.exceptions.RequestException as exc:  # bad URL, too many redirects...: retrying won't help
                raise SourceHTTPError(shown, f"request failed ({exc})") from exc
            status = resp.status_code
            if status in RETRY_STATUSES:
                if last:
                    raise SourceHTTPError(shown, f"HTTP {status} {resp.reason or ''}".rstrip()
                                          + f" after {attempts} attempt(s)")
                wait = retry_after_seconds(resp.headers.get("Retry-After"))
                sleep(wait if wait is not None else min(delay, MAX_RETRY_AFTER_S))
                continue
            if not 200 <= status < 300:
                raise SourceHTTPError(shown, f"HTTP {status} {resp.reason or ''}".rstrip() + " (not retried)")
            return _decode(shown, resp)
    finally:
        if own:
            sess.close()
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _decode(shown: str, resp: requests.Response) -> Any:
    body = resp.content
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        ctype = resp.headers.get("Content-Type", "")
        head = body[:512].lstrip().lower()
        # A captive portal, a login wall or an error page usually answers 200 with HTML: name that plainly.
        if "html" in ctype.lower() or head.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml")):
            raise SourceHTTPError(shown, f"returned HTML, not JSON (content-type {ctype or 'missing'})") from exc
        if isinstance(exc, json.JSONDecodeError):
            if not body.strip():
                raise SourceHTTPError(shown, f"malformed JSON: empty body (HTTP {resp.status_code})") from exc
            raise SourceHTTPError(shown, f"malformed JSON at line {exc.lineno} col {exc.colno} ({exc.msg})") from exc
        raise SourceHTTPError(shown, f"malformed JSON: body is not valid UTF-8 ({exc})") from exc
