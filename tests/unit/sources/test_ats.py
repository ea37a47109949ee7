"""Tests for the ATS board connectors (Greenhouse, Lever, Ashby) and their HTTP client, against a real local
HTTP server on 127.0.0.1 that serves each API's documented response shape. Nothing here touches the internet."""
from __future__ import annotations

import html
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest

from skillmatch.sources.ats import ATS_CONNECTORS, AshbyConnector, GreenhouseConnector, LeverConnector
from skillmatch.sources.base import POSTING_COLUMNS
from skillmatch.sources.http import USER_AGENT, SourceHTTPError, get_json, retry_after_seconds

# ---------------------------------------------------------------- local API server


@dataclass
class Reply:
    """One canned HTTP response; ``delay`` seconds pass before it is sent (to provoke client timeouts)."""

    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeAPI:
    """Routes (path + query) to a sequence of replies; the last reply repeats. Records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.url = ""

    def route(self, path: str, *replies: Reply | Any) -> None:
        """Serve ``replies`` in order at ``path``; a non-Reply value is a 200 JSON body."""
        self.routes[path] = [r if isinstance(r, Reply) else Reply(body=r) for r in replies]

    def count(self, path: str) -> int:
        """How many requests reached ``path``."""
        return sum(1 for p, _ in self.requests if p == path)

    def next_reply(self, path: str, headers: dict[str, str]) -> Reply:
        """The reply for this request (and record it)."""
        with self.lock:
            self.requests.append((path, headers))
            queue = self.routes.get(path)
            if not queue:
                return Reply(404, {"ok": False, "error": "Document not found"})
            return queue.pop(0) if len(queue) > 1 else queue[0]


class _Handler(BaseHTTPRequestHandler):
    """Serves the FakeAPI attached to its server."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        reply = self.server.api.next_reply(self.path, dict(self.headers))  # type: ignore[attr-defined]
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test): nothing to do
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Silent: one access-log line per request would drown the pytest output."""


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    """A threaded HTTP server on an ephemeral 127.0.0.1 port, serving whatever the test routes."""
    fake = FakeAPI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.block_on_close = False  # a handler still sleeping for the timeout test must not hold up teardown
    server.api = fake  # type: ignore[attr-defined]
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the client asked to sleep (recorded, never slept)."""
    return []


def _missing(value: Any) -> bool:
    """None or NaN: how the canonical frame shows a value the source did not state."""
    return value is None or bool(pd.isna(value))


def _spec(api: FakeAPI, *boards: str, **extra: Any) -> dict[str, Any]:
    return {"boards": list(boards), "base_url": api.url, "retries": 2, "timeout": [2, 2], **extra}


# ---------------------------------------------------------------- documented payloads

GH_CONTENT = html.escape(
    '<div class="content-intro"><p>At Acme we build <strong>data tools</strong> for 2,000 teams.</p></div>'
    '<script>trackVisit("gh-secret-tracker")</script>'
    "<h3>What you'll do</h3><ul><li>Own our Airflow &amp; dbt pipelines</li><li>Write Python &amp; SQL</li></ul>"
    '<style>.x{color:red}</style><p>Apply&nbsp;today.</p>')


def greenhouse_board(jobs: list[Any] | None = None) -> dict[str, Any]:
    """A ``/v1/boards/{board}/jobs?content=true`` body."""
    if jobs is None:
        jobs = [
            {"id": 4012345, "internal_job_id": 3001, "title": "Senior Data Engineer",
             "updated_at": "2024-03-01T10:15:00-05:00", "requisition_id": "R-17",
             "location": {"name": "Remote - US"}, "absolute_url": "https://boards.greenhouse.io/acme/jobs/4012345",
             "company_name": "Acme Corp", "content": GH_CONTENT, "data_compliance": [],
             "departments": [{"id": 11, "name": "Data", "child_ids": [], "parent_id": None}],
             "offices": [{"id": 21, "name": "US Remote", "location": "United States", "child_ids": [],
                          "parent_id": None}],
             "metadata": [
                 {"id": 1, "name": "Employment Type", "value": "Full-time", "value_type": "single_select"},
                 {"id": 2, "name": "Seniority", "value": "Senior", "value_type": "single_select"},
                 {"id": 3, "name": "Annual Salary Range", "value_type": "currency_range",
                  "value": {"unit": "USD", "min_value": "150000.0", "max_value": "190000.0"}}]},
            {"id": 4012346, "internal_job_id": 3002, "title": "Data Analyst",
             "updated_at": "2024-02-20T08:00:00Z", "location": {"name": "Berlin, Germany"},
             "absolute_url": "https://boards.greenhouse.io/acme/jobs/4012346",
             "content": html.escape("<p>Dashboards in <em>Looker</em>.</p>"), "departments": [], "offices": [],
             "metadata": None},
        ]
    return {"jobs": jobs, "meta": {"total": len(jobs)}}


def lever_posting(n: int, created_ms: int, workplace: str, salary: dict[str, Any] | None = None) -> dict[str, Any]:
    """One Lever ``mode=json`` posting."""
    pid = f"5ac2{n:04d}-aaaa-4bbb-8ccc-0000000000{n:02d}"
    return {
        "id": pid, "text": f"Backend Engineer {n}",
        "categories": {"location": "Toronto, ON", "commitment": "Full-time", "team": "Platform",
                       "department": "Engineering", "allLocations": ["Toronto, ON"]},
        "country": "CA", "createdAt": created_ms, "workplaceType": workplace,
        "description": "<div><b>Join us</b></div>", "descriptionPlain": f"Join the platform team {n}.\n",
        "lists": [{"text": "Requirements", "content": "<li>5+ years of Go</li><li>Kubernetes</li>"},
                  {"text": "Nice to have", "content": "<li>gRPC <script>x()</script></li>"}],
        "additional": "<div>We sponsor visas.</div>", "additionalPlain": "We sponsor visas.",
        "hostedUrl": f"https://jobs.lever.co/leverco/{pid}", "applyUrl": f"https://jobs.lever.co/leverco/{pid}/apply",
        **({"salaryRange": salary} if salary else {}),
    }


LEVER_MS = [1709290800000, 1709377200000, 1709463600000]  # 2024-03-01/02/03 11:00 UTC
LEVER_PAGE_1 = [lever_posting(1, LEVER_MS[0], "remote",
                              {"min": 120000, "max": 160000, "currency": "CAD", "interval": "per-year-salary"}),
                lever_posting(2, LEVER_MS[1], "on-site",
                              {"min": 55, "max": 70.5, "currency": "CAD", "interval": "per-hour-wage"})]
LEVER_PAGE_2 = [lever_posting(3, LEVER_MS[2], "hybrid")]


def lever_path(company: str, skip: int, limit: int = 2) -> str:
    """The Lever list URL path for one page."""
    return f"/v0/postings/{company}?mode=json&skip={skip}&limit={limit}"


def ashby_board() -> dict[str, Any]:
    """A ``/posting-api/job-board/{org}?includeCompensation=true`` body."""
    return {"apiVersion": "1", "jobs": [
        {"id": "8f1c2d3e-0000-4000-8000-000000000001", "title": "Machine Learning Engineer",
         "location": "San Francisco, CA", "secondaryLocations": [], "department": "Engineering", "team": "ML",
         "isListed": True, "isRemote": False, "workplaceType": "Hybrid", "employmentType": "FullTime",
         "descriptionHtml": "<p>Train <b>models</b>.</p><script>bad()</script>",
         "descriptionPlain": "Train models on our GPU fleet.",
         "publishedAt": "2024-03-05T17:30:00.000+00:00",
         "jobUrl": "https://jobs.ashbyhq.com/ashco/8f1c2d3e-0000-4000-8000-000000000001",
         "applyUrl": "https://jobs.ashbyhq.com/ashco/8f1c2d3e-0000-4000-8000-000000000001/application",
         "compensation": {
             "compensationTierSummary": "$180K – $240K • Offers Equity",
             "scrapeableCompensationSalarySummary": "$180K - $240K",
             "summaryComponents": [
                 {"compensationType": "EquityPercentage", "interval": "NONE", "currencyCode": None,
                  "minValue": 0.05, "maxValue": 0.1},
                 {"compensationType": "Salary", "interval": "1 YEAR", "currencyCode": "USD",
                  "minValue": 180000, "maxValue": 240000}]}},
        {"id": "8f1c2d3e-0000-4000-8000-000000000002", "title": "Hidden Role", "isListed": False,
         "location": "Remote", "publishedAt": "2024-03-06T00:00:00Z", "jobUrl": "https://jobs.ashbyhq.com/ashco/x"},
        {"title": "Support Specialist", "location": "Remote (EU)", "isListed": True, "isRemote": True,
         "workplaceType": "Remote", "employmentType": "PartTime",
         "descriptionHtml": "<h2>About</h2><ul><li>Help customers</li></ul><script>track()</script>",
         "publishedAt": "2024-03-04T09:00:00Z",
         "jobUrl": "https://jobs.ashbyhq.com/ashco/77aa0000-1111-4222-8333-444455556666",
         "compensation": {"summaryComponents": []}},
    ]}


GH_PATH = "/v1/boards/{}/jobs?content=true"
ASHBY_PATH = "/posting-api/job-board/{}?includeCompensation=true"

# ---------------------------------------------------------------- happy paths


def test_greenhouse_happy_path(api: FakeAPI, sleeps: list[float]) -> None:
    api.route(GH_PATH.format("acme"), greenhouse_board())
    res = GreenhouseConnector("gh", _spec(api, "acme"), sleep=sleeps.append).fetch(None)
    df = res.records
    assert list(df.columns) == POSTING_COLUMNS
    assert res.rejected == [] and res.skipped_unchanged == 0 and sleeps == []
    assert df["native_id"].tolist() == ["acme:4012345", "acme:4012346"]
    a, b = df.iloc[0], df.iloc[1]
    assert a["source"] == "gh" and a["source_file"] == api.url + GH_PATH.format("acme") and a["source_row"] == 0
    assert a["title"] == "Senior Data Engineer" and a["company"] == "Acme Corp"
    assert a["location"] == "Remote - US" and a["remote"] is True
    assert a["employment_type"] == "Full-time" and a["seniority"] == "Senior"
    assert (a["salary_min"], a["salary_max"], a["salary_currency"], a["salary_period"]) == (
        150000.0, 190000.0, "USD", "year")
    assert a["salary_text"] == "USD 150,000-190,000 per year"
    assert a["posted_at"] == pd.Timestamp("2024-03-01T15:15:00", tz="UTC")
    assert str(a["posted_at"].tz) == "UTC"
    assert a["url"] == "https://boards.greenhouse.io/acme/jobs/4012345"
    desc = a["description"]
    assert desc.startswith("At Acme we build data tools for 2,000 teams.")
    assert "- Own our Airflow & dbt pipelines" in desc and "Apply today." in desc
    assert "<" not in desc and "&lt;" not in desc and "&amp;" not in desc
    assert "gh-secret-tracker" not in desc and "trackVisit" not in desc and "color:red" not in desc
    # company_name absent -> the board name; no salary, no remote signal
    assert b["company"] == "acme" and _missing(b["remote"]) and b["description"] == "Dashboards in Looker."
    assert _missing(b["salary_min"]) and _missing(b["salary_text"]) and _missing(b["salary_period"])
    assert b["posted_at"] == pd.Timestamp("2024-02-20T08:00:00", tz="UTC") and b["source_row"] == 1
    assert res.watermark["boards"] == {"acme": {"jobs": 2, "max_updated": "2024-03-01T15:15:00+00:00"}}
    assert datetime.fromisoformat(res.watermark["fetched_at"]).tzinfo is not None


def test_lever_paginates_and_maps_fields(api: FakeAPI) -> None:
    api.route(lever_path("leverco", 0), LEVER_PAGE_1)
    api.route(lever_path("leverco", 2), LEVER_PAGE_2)
    res = LeverConnector("lev", _spec(api, "leverco", page_size=2)).fetch(None)
    df = res.records
    assert api.count(lever_path("leverco", 0)) == 1 and api.count(lever_path("leverco", 2)) == 1
    assert len(api.requests) == 2 and res.rejected == []
    ids = [p["id"] for p in LEVER_PAGE_1 + LEVER_PAGE_2]
    assert df["native_id"].tolist() == [f"leverco:{i}" for i in ids]
    assert df["source_file"].tolist() == [api.url + lever_path("leverco", 0)] * 2 + [api.url + lever_path("leverco", 2)]
    assert df["source_row"].tolist() == [0, 1, 0]
    assert df["title"].tolist() == ["Backend Engineer 1", "Backend Engineer 2", "Backend Engineer 3"]
    assert df["company"].tolist() == ["leverco"] * 3
    assert df["remote"].tolist() == [True, False, False]  # remote, on-site, hybrid
    assert df["employment_type"].tolist() == ["Full-time"] * 3 and df["location"].iloc[0] == "Toronto, ON"
    one, two, three = df.iloc[0], df.iloc[1], df.iloc[2]
    assert (one["salary_min"], one["salary_max"], one["salary_currency"], one["salary_period"]) == (
        120000.0, 160000.0, "CAD", "year")
    assert one["salary_text"] == "CAD 120,000-160,000 per year"
    assert (two["salary_min"], two["salary_max"], two["salary_period"]) == (55.0, 70.5, "hour")
    assert two["salary_text"] == "CAD 55-70.50 per hour"
    assert _missing(three["salary_min"]) and _missing(three["salary_currency"])
    assert one["posted_at"] == pd.Timestamp("2024-03-01T11:00:00", tz="UTC")
    assert one["url"] == f"https://jobs.lever.co/leverco/{ids[0]}"
    assert one["description"] == ("Join the platform team 1.\n\nRequirements\n\n- 5+ years of Go\n\n- Kubernetes\n\n"
                                  "Nice to have\n\n- gRPC\n\nWe sponsor visas.")
    assert res.watermark["boards"]["leverco"] == {"jobs": 3, "max_updated": "2024-03-03T11:00:00+00:00"}


def test_ashby_maps_compensation_and_skips_unlisted(api: FakeAPI) -> None:
    api.route(ASHBY_PATH.format("ashco"), ashby_board())
    res = AshbyConnector("ash", _spec(api, "ashco")).fetch(None)
    df = res.records
    assert res.rejected == []
    assert df["native_id"].tolist() == ["ashco:8f1c2d3e-0000-4000-8000-000000000001",
                                        "ashco:77aa0000-1111-4222-8333-444455556666"]  # id derived from jobUrl
    assert "Hidden Role" not in df["title"].tolist()
    ml, support = df.iloc[0], df.iloc[1]
    assert ml["title"] == "Machine Learning Engineer" and ml["company"] == "ashco"
    assert df["remote"].tolist() == [False, True] and ml["employment_type"] == "Full-time"
    assert (ml["salary_min"], ml["salary_max"], ml["salary_currency"], ml["salary_period"]) == (
        180000.0, 240000.0, "USD", "year")
    assert ml["salary_text"] == "USD 180,000-240,000 per year"
    assert ml["description"] == "Train models on our GPU fleet."
    assert ml["posted_at"] == pd.Timestamp("2024-03-05T17:30:00", tz="UTC")
    assert ml["url"] == "https://jobs.ashbyhq.com/ashco/8f1c2d3e-0000-4000-8000-000000000001"
    assert support["employment_type"] == "Part-time"
    assert support["description"] == "About\n\n- Help customers" and _missing(support["salary_min"])
    assert support["source_row"] == 2  # index in the response, the unlisted job included
    assert res.watermark["boards"]["ashco"] == {"jobs": 2, "max_updated": "2024-03-05T17:30:00+00:00"}


def test_registry_and_spec_validation(api: FakeAPI) -> None:
    assert {k: c.__name__ for k, c in ATS_CONNECTORS.items()} == {
        "greenhouse": "GreenhouseConnector", "lever": "LeverConnector", "ashby": "AshbyConnector"}
    assert GreenhouseConnector("gh", {"boards": ["a"]}).base_url == "https://boards-api.greenhouse.io"
    assert LeverConnector("l", {"boards": ["a"]}).base_url == "https://api.lever.co"
    assert AshbyConnector("a", {"boards": ["a"]}).base_url == "https://api.ashbyhq.com"
    with pytest.raises(ValueError, match="boards"):
        GreenhouseConnector("gh", {"boards": []})


# ---------------------------------------------------------------- retries and failures


def test_429_retry_after_is_honoured(api: FakeAPI, sleeps: list[float]) -> None:
    path = GH_PATH.format("acme")
    api.route(path, Reply(429, {"error": "slow down"}, {"Retry-After": "2"}), greenhouse_board())
    res = GreenhouseConnector("gh", _spec(api, "acme"), sleep=sleeps.append).fetch(None)
    assert sleeps == [2.0]
    assert api.count(path) == 2 and res.rejected == []
    assert res.records["native_id"].tolist() == ["acme:4012345", "acme:4012346"]


def test_500_then_success_backs_off(api: FakeAPI, sleeps: list[float]) -> None:
    path = lever_path("leverco", 0, 100)
    api.route(path, Reply(500, {"error": "oops"}), Reply(503, b"busy", {"Content-Type": "text/plain"}), LEVER_PAGE_2)
    res = LeverConnector("lev", _spec(api, "leverco", backoff=0.5), sleep=sleeps.append).fetch(None)
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert api.count(path) == 3 and res.rejected == []
    assert res.records["title"].tolist() == ["Backend Engineer 3"]


def test_500_forever_rejects_that_board_only(api: FakeAPI, sleeps: list[float]) -> None:
    api.route(GH_PATH.format("broken"), Reply(500, {"error": "down"}))
    api.route(GH_PATH.format("acme"), greenhouse_board())
    res = GreenhouseConnector("gh", _spec(api, "broken", "acme"), sleep=sleeps.append).fetch(None)
    url = api.url + GH_PATH.format("broken")
    assert api.count(GH_PATH.format("broken")) == 3 and sleeps == [1.0, 2.0]  # retries=2
    assert len(res.rejected) == 1 and res.rejected[0]["source_file"] == url
    assert url in res.rejected[0]["error"] and "HTTP 500" in res.rejected[0]["error"]
    assert "3 attempt" in res.rejected[0]["error"]
    assert res.records["native_id"].tolist() == ["acme:4012345", "acme:4012346"]
    assert list(res.watermark["boards"]) == ["acme"]


def test_timeout_rejects_board(api: FakeAPI, sleeps: list[float]) -> None:
    path = ASHBY_PATH.format("slow")
    api.route(path, Reply(200, ashby_board(), delay=0.8))
    spec = _spec(api, "slow", timeout=[0.3, 0.3], retries=1)
    res = AshbyConnector("ash", spec, sleep=sleeps.append).fetch(None)
    assert res.records.empty and api.count(path) == 2 and len(sleeps) == 1
    assert res.rejected[0]["source_file"] == api.url + path
    assert api.url + path in res.rejected[0]["error"] and "timed out" in res.rejected[0]["error"]


def test_malformed_json_rejected(api: FakeAPI, sleeps: list[float]) -> None:
    path = GH_PATH.format("acme")
    api.route(path, Reply(200, b'{"jobs": [\n  {"id": 1, "title": "x",}\n]}'))
    res = GreenhouseConnector("gh", _spec(api, "acme"), sleep=sleeps.append).fetch(None)
    assert res.records.empty and api.count(path) == 1 and sleeps == []
    assert "malformed JSON at line 2 col" in res.rejected[0]["error"]
    assert api.url + path in res.rejected[0]["error"]


def test_html_page_instead_of_json_rejected(api: FakeAPI) -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please log in</body></html>"
    path = lever_path("leverco", 0, 100)
    api.route(path, Reply(200, page, {"Content-Type": "text/html; charset=utf-8"}))
    res = LeverConnector("lev", _spec(api, "leverco")).fetch(None)
    assert res.records.empty
    assert "returned HTML, not JSON" in res.rejected[0]["error"] and api.url + path in res.rejected[0]["error"]


def test_404_not_retried(api: FakeAPI, sleeps: list[float]) -> None:
    res = AshbyConnector("ash", _spec(api, "nosuchorg"), sleep=sleeps.append).fetch(None)
    path = ASHBY_PATH.format("nosuchorg")
    assert api.count(path) == 1 and sleeps == []
    assert "HTTP 404" in res.rejected[0]["error"] and api.url + path in res.rejected[0]["error"]


def test_unexpected_shape_and_bad_records(api: FakeAPI) -> None:
    jobs = greenhouse_board()["jobs"]
    api.route(GH_PATH.format("acme"), greenhouse_board([jobs[0], "not-a-job", {"id": 9}, jobs[1]]))
    api.route(GH_PATH.format("odd"), [{"id": 1}])  # a list where the API documents an object
    res = GreenhouseConnector("gh", _spec(api, "acme", "odd")).fetch(None)
    assert res.records["native_id"].tolist() == ["acme:4012345", "acme:4012346"]
    assert res.records["source_row"].tolist() == [0, 3]
    url = api.url + GH_PATH.format("acme")
    assert [r["source_file"] for r in res.rejected] == [f"{url}#1", f"{url}#2", api.url + GH_PATH.format("odd")]
    assert "not an object" in res.rejected[0]["error"] and "missing title" in res.rejected[1]["error"]
    assert "unexpected response shape" in res.rejected[2]["error"]


def test_user_agent_reaches_server(api: FakeAPI) -> None:
    api.route(ASHBY_PATH.format("ashco"), ashby_board())
    AshbyConnector("ash", _spec(api, "ashco")).fetch(None)
    headers = api.requests[0][1]
    assert headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("skillmatch/0.1 ")
    assert "application/json" in headers["Accept"]


# ---------------------------------------------------------------- watermark and limit


def test_watermark_skips_unchanged_greenhouse(api: FakeAPI) -> None:
    path = GH_PATH.format("acme")
    api.route(path, greenhouse_board())
    conn = GreenhouseConnector("gh", _spec(api, "acme"))
    first = conn.fetch(None)
    assert len(first.records) == 2
    second = conn.fetch(first.watermark)
    assert second.records.empty and second.skipped_unchanged == 2
    assert second.watermark["boards"] == first.watermark["boards"]
    jobs = greenhouse_board()["jobs"]
    jobs[1] = {**jobs[1], "title": "Senior Data Analyst", "updated_at": "2024-03-10T00:00:00Z"}
    api.route(path, greenhouse_board(jobs))
    third = conn.fetch(second.watermark)
    assert third.records["title"].tolist() == ["Senior Data Analyst"] and third.skipped_unchanged == 1
    assert third.watermark["boards"]["acme"] == {"jobs": 2, "max_updated": "2024-03-10T00:00:00+00:00"}


def test_watermark_skips_unchanged_lever_and_ashby(api: FakeAPI) -> None:
    api.route(lever_path("leverco", 0), LEVER_PAGE_1)
    api.route(lever_path("leverco", 2), LEVER_PAGE_2)
    api.route(ASHBY_PATH.format("ashco"), ashby_board())
    lever = LeverConnector("lev", _spec(api, "leverco", page_size=2))
    since = {"fetched_at": "2024-03-02T12:00:00+00:00",
             "boards": {"leverco": {"jobs": 2, "max_updated": "2024-03-02T11:00:00+00:00"}}}
    res = lever.fetch(since)
    assert res.records["title"].tolist() == ["Backend Engineer 3"] and res.skipped_unchanged == 2
    ashby = AshbyConnector("ash", _spec(api, "ashco"))
    again = ashby.fetch(ashby.fetch(None).watermark)
    assert again.records.empty and again.skipped_unchanged == 2


def test_limit_caps_records_and_keeps_watermark_safe(api: FakeAPI) -> None:
    api.route(lever_path("leverco", 0), LEVER_PAGE_1)
    api.route(lever_path("leverco", 2), LEVER_PAGE_2)
    api.route(lever_path("other", 0), LEVER_PAGE_2)
    res = LeverConnector("lev", _spec(api, "leverco", "other", page_size=2), limit=2).fetch(None)
    assert res.records["title"].tolist() == ["Backend Engineer 1", "Backend Engineer 2"]
    assert api.count(lever_path("other", 0)) == 0  # limit reached: the next board is not even requested
    # cut short: the board's watermark must not claim the job left out was seen
    assert res.watermark["boards"] == {"leverco": {"jobs": 3, "max_updated": None}}
    rest = LeverConnector("lev", _spec(api, "leverco", page_size=2)).fetch(res.watermark)
    assert len(rest.records) == 3


# ---------------------------------------------------------------- http client details


def test_retry_after_http_date_and_cap() -> None:
    now = datetime(2024, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=7), usegmt=True), now) == 7.0
    assert retry_after_seconds("3600", now) == 60.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=5), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None) is None


def test_get_json_retry_after_date_and_connection_refused(api: FakeAPI, sleeps: list[float]) -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    api.route("/x", Reply(503, b"", {"Retry-After": when}), {"ok": True})
    assert get_json(api.url + "/x", sleep=sleeps.append) == {"ok": True}
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 30
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceHTTPError, match=rf"127\.0\.0\.1:{port}/y\?a=1.*connection failed after 2"):
        get_json(f"http://127.0.0.1:{port}/y", params={"a": 1}, retries=1, timeout=1, sleep=sleeps.append)
