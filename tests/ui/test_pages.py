"""The dashboard's pages on a small warehouse: content, empty state, escaping, pagination, login, traversal."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.ui.warehouse import CANDIDATE, OTHER_CANDIDATE, POSTING, RUN_INGEST, XSS_LABEL

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/skillmatch/", "/skillmatch/skills", f"/skillmatch/matches?candidate={CANDIDATE}", "/skillmatch/quality"]


def _rows(html: str, table_id: str) -> list[str]:
    """The text of each data row of the table with `table_id` (header row dropped)."""
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert table, f"no table {table_id}"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]


@pytest.mark.parametrize("path", [*PAGES, "/skillmatch/data-docs/index.html", "/skillmatch/skills?q=python"])
def test_every_page_needs_an_airflow_login(anonymous_client, path: str) -> None:
    r = anonymous_client.get(path)
    assert r.status_code == 401
    assert "You are not logged in" in r.text and "/auth/login?next=" in r.text
    assert "Python (computer programming)" not in r.text and "GX Data Docs test site" not in r.text


def test_no_unauthenticated_api_docs(anonymous_client) -> None:
    for path in ["/skillmatch/docs", "/skillmatch/openapi.json", "/skillmatch/redoc"]:
        assert anonymous_client.get(path).status_code in (401, 404), path


@pytest.mark.parametrize("path", [*PAGES, "/skillmatch/matches?posting=engineer"])
def test_empty_state_before_the_first_refresh(empty_client, path: str) -> None:
    r = empty_client.get(path)
    assert r.status_code == 200
    assert "No refresh has run yet" in r.text and "make run" in r.text and "skillmatch_ingest" in r.text


def test_overview_shows_last_run_per_dag_dq_rate_freshness_and_links(client) -> None:
    r = client.get("/skillmatch/")
    assert r.status_code == 200
    html = r.text
    # Latest ingest run only (the older one is not listed), with its stages and row counts.
    assert RUN_INGEST in html and "scheduled__2026-04-30" not in html
    assert 'href="/dags/skillmatch_ingest/runs/scheduled__2026-05-01T02%3A00%3A00%2B00%3A00"' in html
    assert "ingest_resumes" in html and "1,180" in html and "1,200" in html
    assert "RuntimeError: out of memory" in html and 'class="bad">failed' in html
    # 3 of 4 postings checks passed in the latest run; the older failing run does not count.
    assert "75.0 %" in html and "3 / 4 checks passed" in html and "100.0 %" in html
    assert re.search(r'id="freshness">\d+ min<', html)
    assert 'href="/skillmatch/data-docs/index.html"' in html
    assert "script-src 'none'" in r.headers["content-security-policy"]


def test_skills_page_one_ranks_by_demand_and_paginates(client) -> None:
    html = client.get("/skillmatch/skills").text
    rows = _rows(html, "demand")
    assert len(rows) == 50
    assert rows[0].startswith("1 Python (computer programming) 395")
    assert "page 1 of 2 · 60 skills" in html and 'rel="next"' in html and 'rel="prev"' not in html
    page2 = _rows(client.get("/skillmatch/skills?page=2").text, "demand")
    assert len(page2) == 10 and page2[0].startswith("51 Skill number 51") and page2[-1].startswith("60 ")


def test_skills_emerging_gap_and_weekly_chart_for_a_searched_skill(client) -> None:
    html = client.get("/skillmatch/skills?q=PYTHON").text
    assert _rows(html, "demand") == [
        "1 Python (computer programming) 395 39.5 % 99 33.0 % 6.5 %"
    ]
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "Postings per week asking for Python (computer programming)" in svg
    # Six weeks, both sources summed in the first week (10 + 4).
    assert len(re.findall(r"<circle", svg)) == 6 and "2026-03-23: 14" in svg and "2026-04-27: 26" in svg
    emerging = _rows(html, "emerging")
    assert emerging[0] == "Kubernetes 40 10 250 % emerging" and emerging[1].endswith("new")
    assert not any("Skill number 10" in r for r in emerging)  # under 5 recent postings
    assert _rows(html, "gap")[0].startswith("Kubernetes")  # held by few candidates, asked for by many


def test_skill_label_with_markup_is_escaped(client) -> None:
    html = client.get("/skillmatch/skills").text
    assert XSS_LABEL not in html and "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    html = client.get("/skillmatch/skills", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_search_text_is_a_parameter_not_sql(client) -> None:
    html = client.get("/skillmatch/skills", params={"q": "' OR 1=1 --"}).text
    assert "page 1 of 1 · 0 skills" in html and "Not available" not in html
    html = client.get("/skillmatch/matches", params={"posting": "x' OR '1'='1"}).text
    assert "No posting matches" in html


def test_matches_of_a_posting_found_by_title(client) -> None:
    html = client.get("/skillmatch/matches", params={"posting": "data engineer"}).text
    assert "Top candidates for “Senior Data Engineer”" in html and "Data Engineer II" in html
    rows = _rows(html, "posting-matches")
    assert rows[0] == (f"1 {CANDIDATE} 0.812 0.700 75 % 0.873 0.910 1.000 0.500 "
                       "✓ Python (computer programming), SQL ✗ Kubernetes (partly covered)")
    assert rows[1].startswith(f"2 {OTHER_CANDIDATE} 0.455")
    assert rows[1].endswith("✗ Kubernetes, Apache Spark any one of: Apache Spark / Kubernetes")  # a choice
    assert "any one of" not in rows[0]
    assert client.get("/skillmatch/matches", params={"posting": POSTING}).text.count(CANDIDATE) >= 1


def test_matches_and_learning_path_of_a_candidate(client) -> None:
    html = client.get("/skillmatch/matches", params={"candidate": CANDIDATE[:12]}).text
    assert f"Top postings for {CANDIDATE}" in html
    top = _rows(html, "candidate-matches")[0]
    # required held 75 %, then semantic, title, seniority and location
    assert top.startswith("1 Senior Data Engineer Acme Analytics 0.812 0.700 75 % 0.873 0.910 1.000 0.500")
    assert "✗ Kubernetes (partly covered)" in top  # a related held skill partly covers it
    assert _rows(html, "candidate-matches")[1].startswith("2 ") and "– 0.670 0.800" in _rows(html, "candidate-matches")[1]
    path = _rows(html, "learning-path")
    assert [p.split(" ")[0] for p in path] == ["1", "2", "3", "4"]
    assert path[0].startswith("1 Kubernetes learn it +0.041 0.702 385") and path[2].startswith("3 dbt learn it +0.015 0.739")
    assert path[3].startswith("4 communication show it on the resume, if held +0.018 0.757 900")
    assert "Expected average match score after each step" in html


def test_matches_without_a_query_offers_examples(client) -> None:
    html = client.get("/skillmatch/matches").text
    assert f"/skillmatch/matches?candidate={CANDIDATE}" in html and "Senior Data Engineer" in html


def test_quality_page_lists_checks_reconciliation_and_quarantine(client) -> None:
    html = client.get("/skillmatch/quality").text
    checks = _rows(html, "checks")
    assert len(checks) == 5  # latest run per entity only
    assert checks[0].startswith("postings expect_column_value_lengths_to_be_between description FAILED 1,180 12")
    recon = _rows(html, "recon")
    assert any("validate postings hn" in r and r.endswith("yes") for r in recon)
    assert any("ingest postings landing 50 45 4 1" in r and r.endswith("NO") for r in recon)
    quarantine = _rows(html, "quarantine")
    assert quarantine[0].startswith("postings expect_column_value_lengths_to_be_between(description) 7")
    assert quarantine[1].startswith("postings_file unparseable CSV: line 3 1")


def test_a_missing_table_shows_in_its_section_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb
    from fastapi.testclient import TestClient

    from skillmatch.ui.app import create_app, get_authorizer, require_user

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.close()
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    app = create_app()
    app.dependency_overrides[require_user] = lambda: {"username": "tester"}
    app.dependency_overrides[get_authorizer] = lambda: (lambda user, resource: True)
    html = TestClient(app).get("/quality").text
    assert html.count("Not available: Catalog Error") == 3


def test_data_docs_are_served_and_traversal_is_refused(client, warehouse_dir: Path) -> None:
    r = client.get("/skillmatch/data-docs/index.html")
    assert r.status_code == 200 and "GX Data Docs test site" in r.text
    assert "GX Data Docs test site" in client.get("/skillmatch/data-docs/").text
    for path in ["/skillmatch/data-docs/../../etc/passwd", "/skillmatch/data-docs/..%2F..%2F..%2Fetc%2Fpasswd",
                 "/skillmatch/data-docs/%2e%2e/%2e%2e/%2e%2e/secret.txt", "/skillmatch/data-docs//etc/passwd",
                 "/skillmatch/data-docs/..%2f..%2f..%2fsecret.txt", "/skillmatch/data-docs/nope.html"]:
        r = client.get(path)
        assert r.status_code == 404, path
        assert "root:" not in r.text and "TOP-SECRET" not in r.text, path


def test_plugin_mounts_the_app_and_adds_a_nav_entry() -> None:
    from airflow.api_fastapi.core_api.datamodels.plugins import ExternalViewResponse
    from airflow.plugins_manager import AirflowPlugin

    spec = importlib.util.spec_from_file_location("skillmatch_plugin", ROOT / "plugins" / "skillmatch_plugin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plugin = module.SkillmatchPlugin
    assert issubclass(plugin, AirflowPlugin) and plugin.name == "skillmatch"
    [app] = plugin.fastapi_apps
    assert app["url_prefix"] == "/skillmatch" and app["name"] == "Skillmatch"
    assert {r.path for r in app["app"].routes} >= {"/", "/skills", "/matches", "/quality", "/data-docs/{path:path}"}
    [view] = plugin.external_views
    parsed = ExternalViewResponse.model_validate(view)  # the schema the Airflow UI reads
    assert parsed.destination == "nav" and parsed.name == "Skillmatch" and parsed.href == "skillmatch/"


def test_roles_viewers_see_market_and_operations_but_not_candidates(role_client, monkeypatch) -> None:
    viewer = role_client("viewer")
    for path in ["/skillmatch/", "/skillmatch/skills", "/skillmatch/quality"]:
        r = viewer.get(path)
        assert r.status_code == 200, path
        assert 'href="/skillmatch/matches"' not in r.text  # no nav entry to a page they may not open
    for path in [f"/skillmatch/matches?candidate={CANDIDATE}", f"/skillmatch/matches?posting={POSTING}"]:
        r = viewer.get(path)
        assert r.status_code == 403 and 'id="forbidden"' in r.text
        assert not any(f'id="{t}"' in r.text for t in ("candidate-matches", "learning-path", "posting-matches"))
        assert OTHER_CANDIDATE not in r.text
    for role in ("user", "op", "admin"):
        r = role_client(role).get(f"/skillmatch/matches?candidate={CANDIDATE}")
        assert r.status_code == 200 and CANDIDATE in r.text, role
        assert 'href="/skillmatch/matches"' in r.text
    assert role_client(None).get("/skillmatch/").status_code == 403  # a user without a role sees nothing
    monkeypatch.setenv("SKILLMATCH_UI_CANDIDATE_ROLE", "op")  # a stricter deployment
    assert role_client("user").get(f"/skillmatch/matches?candidate={CANDIDATE}").status_code == 403
    assert role_client("op").get(f"/skillmatch/matches?candidate={CANDIDATE}").status_code == 200
