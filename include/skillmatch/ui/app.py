"""The dashboard's FastAPI app: server-rendered pages over the DuckDB marts, behind the Airflow login.

`plugins/skillmatch_plugin.py` mounts `create_app()` at `/skillmatch` inside the Airflow API server. Every route
depends on `require_user`, which runs Airflow's own `get_user` (JWT bearer header or the `_token` cookie the
Airflow UI sets at login), so nothing here is reachable without a logged-in Airflow user.

Roles: the active auth manager decides through `is_authorized_custom_view` on two resources, `Skillmatch` (the
market and operations pages) and `Skillmatch candidates` (the matches page: candidates, their matches and learning
paths). With the FAB auth manager, grant "can read" on them to the roles that should see them. The simple auth
manager lets every role see every custom view, so on it the candidate pages also need at least the role in
`SKILLMATCH_UI_CANDIDATE_ROLE` (`user` by default: viewers watch the refresh and the market, not the people).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
URL_PREFIX = "/skillmatch"
TEMPLATES = Path(__file__).resolve().parent / "templates"
EMPTY_STATE = "No refresh has run yet: run `make run` or trigger skillmatch_ingest."
# Pages render no script at all; the policy makes an escaping slip harmless rather than exploitable.
CSP = ("default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "frame-ancestors 'self'")

_bearer = HTTPBearer(auto_error=False)


async def require_user(
    request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Any:
    """Return the logged-in Airflow user, or raise 401 / 403 exactly as Airflow's own REST API does."""
    # Imported here: the plugin module is loaded by every Airflow process, only the API server needs this.
    from airflow.api_fastapi.core_api.security import get_user

    return await get_user(request=request, _oauth_token=None, bearer_credentials=bearer)


DASHBOARD = "Skillmatch"
CANDIDATES = "Skillmatch candidates"
SIMPLE_ROLES = ("viewer", "user", "op", "admin")  # the simple auth manager's roles, least to most


def can_view(user: Any, resource: str) -> bool:
    """Whether the Airflow auth manager lets ``user`` read ``resource`` (see the module docstring for roles)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    manager = get_auth_manager()
    if not manager.is_authorized_custom_view(method="GET", resource_name=resource, user=user):
        return False
    if resource == CANDIDATES and isinstance(manager, SimpleAuthManager):
        floor = os.environ.get("SKILLMATCH_UI_CANDIDATE_ROLE", "user").strip().lower()
        if floor not in SIMPLE_ROLES:
            raise ValueError(f"SKILLMATCH_UI_CANDIDATE_ROLE must be one of {', '.join(SIMPLE_ROLES)}, not {floor!r}")
        role = str(getattr(user, "role", "") or "").lower()
        return role in SIMPLE_ROLES and SIMPLE_ROLES.index(role) >= SIMPLE_ROLES.index(floor)
    return True


def get_authorizer() -> Callable[[Any, str], bool]:
    """The access check every route uses (a dependency, so tests can stand in for the auth manager)."""
    return can_view


async def require_access(
    request: Request, user: Any = Depends(require_user), authorize: Callable[[Any, str], bool] = Depends(get_authorizer)
) -> Any:
    """Logged in and allowed to see the dashboard; records whether the candidate pages are allowed too."""
    if not authorize(user, DASHBOARD):
        raise StarletteHTTPException(status_code=403, detail="your Airflow role may not see the Skillmatch pages")
    request.state.candidates_allowed = authorize(user, CANDIDATES)
    return user


def _require_candidates(request: Request) -> None:
    if not getattr(request.state, "candidates_allowed", False):
        raise StarletteHTTPException(status_code=403, detail="your Airflow role may not see candidates and their "
                                                             "matches")


def _settings() -> Any:
    from skillmatch.config import load_settings

    return load_settings()


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.filters.update(pct=_pct, num=_num, score=_score, when=_when, runlink=_runlink)
    return env


def _pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v * 100:.{digits}f} %"


def _num(v: float | int | None) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def _score(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _when(v: datetime | str | None) -> str:
    if v is None:
        return "–"
    return v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else str(v)


def _runlink(run: dict[str, Any], airflow_base: str) -> str:
    return f"{airflow_base}/dags/{quote(str(run['dag_id']), safe='')}/runs/{quote(str(run['run_id']), safe='')}"


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


class _Page:
    """Render context shared by every page: where the app and Airflow live, and section errors."""

    def __init__(self, request: Request, title: str, active: str) -> None:
        root = request.scope.get("root_path", "").rstrip("/")
        self.ctx: dict[str, Any] = {
            "title": title,
            "active": active,
            "base": root,
            # The app is mounted at <airflow base>/skillmatch: Airflow's own pages live above it.
            "airflow_base": root[: -len(URL_PREFIX)] if root.endswith(URL_PREFIX) else "",
            "empty": None,
            "busy": None,
            "errors": {},
            "candidates_allowed": getattr(request.state, "candidates_allowed", False),
        }

    def section(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run one query; a missing table or column shows in its section instead of failing the page."""
        import duckdb

        try:
            return fn(*args)
        except duckdb.Error as exc:
            self.ctx["errors"][name] = str(exc).splitlines()[0][:300]
            return None


_FETCHED: dict[str, float] = {}  # remote lake -> when its published warehouse was last checked


def _published_warehouse(settings: Any, every_s: float = 60.0) -> Path:
    """The warehouse file; with a remote lake, refreshed from the lake's published copy at most once a minute."""
    if not settings.remote_lake:
        return settings.warehouse_path
    key = str(settings.data_dir)
    if time.monotonic() - _FETCHED.get(key, -every_s) >= every_s:
        from skillmatch.marts.build import fetch_published_warehouse

        try:
            fetch_published_warehouse(settings)
        except Exception:  # the store unreachable: serve the local copy, if any, rather than fail the page
            log.exception("could not refresh the warehouse from %s", settings.data_dir)
        _FETCHED[key] = time.monotonic()
    return settings.warehouse_path


@contextmanager
def _warehouse(page: _Page) -> Iterator[Any | None]:
    """Open the warehouse read-only for one request (None and an empty / busy state when it cannot be)."""
    import duckdb

    path = _published_warehouse(_settings())
    if not Path(path).is_file():
        page.ctx["empty"] = EMPTY_STATE
        yield None
        return
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        # The marts DAG holds the write lock while it rebuilds the file.
        page.ctx["busy"] = f"The warehouse cannot be opened right now (a refresh may be writing it): {exc}"
        yield None
        return
    try:
        page.ctx["freshness_s"] = max(0.0, time.time() - Path(path).stat().st_mtime)
        page.ctx["freshness"] = _age(page.ctx["freshness_s"])
        yield con
    finally:
        con.close()


def create_app() -> FastAPI:
    """Build the dashboard app (mounted by the Airflow plugin at /skillmatch)."""
    # No OpenAPI / docs routes: they would be reachable without the login dependency.
    app = FastAPI(
        title="Skillmatch", docs_url=None, redoc_url=None, openapi_url=None, dependencies=[Depends(require_access)]
    )
    env = _env()

    def render(page: _Page, template: str, status_code: int = 200) -> HTMLResponse:
        html = env.get_template(template).render(**page.ctx)
        return HTMLResponse(html, status_code=status_code, headers={"Content-Security-Policy": CSP})

    @app.exception_handler(StarletteHTTPException)
    async def _login_page(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code not in (401, 403):
            return await http_exception_handler(request, exc)
        page = _Page(request, "Log in required" if exc.status_code == 401 else "Not allowed", "")
        page.ctx["login_url"] = _login_url(page.ctx["airflow_base"], str(request.url))
        page.ctx["detail"] = exc.detail
        page.ctx["forbidden"] = exc.status_code == 403
        return render(page, "login_required.html", status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        """Last run of each DAG, data-quality pass rate, freshness and the Data Docs link."""
        from skillmatch.ui import queries

        page = _Page(request, "Overview", "overview")
        docs = _data_docs_root()
        page.ctx["data_docs"] = (docs / "index.html").is_file()
        with _warehouse(page) as con:
            if con is not None:
                page.ctx["runs"] = page.section("runs", queries.last_runs, con)
                page.ctx["dq"] = page.section("dq", queries.dq_pass_rate, con)
        return render(page, "overview.html")

    @app.get("/skills", response_class=HTMLResponse)
    def skills(request: Request, q: str = "", page: int = 1) -> HTMLResponse:
        """Skills market: demand ranking (paginated, searchable), emerging skills, supply gap, weekly trend."""
        from skillmatch.ui import charts, queries

        q = q.strip()[:200]
        pg = _Page(request, "Skills market", "skills")
        pg.ctx.update(q=q, page=max(page, 1), page_size=queries.PAGE_SIZE)
        with _warehouse(pg) as con:
            if con is not None:
                res = pg.section("demand", queries.skill_demand_page, con, q, max(page, 1))
                rows, total = res if res else ([], 0)
                pg.ctx.update(demand=rows, total=total, pages=max(1, -(-total // queries.PAGE_SIZE)))
                pg.ctx["emerging"] = pg.section("emerging", queries.emerging_skills, con)
                pg.ctx["gap"] = pg.section("gap", queries.supply_gap, con)
                skill = pg.section("trend", queries.trend_skill, con, q)
                pg.ctx["trend_skill"] = skill
                weeks = pg.section("trend", queries.weekly_demand, con, skill["skill_id"]) if skill else None
                pg.ctx["trend_svg"] = charts.line_chart_svg(
                    [str(w["week_start"]) for w in weeks or []],
                    [float(w["postings"]) for w in weeks or []],
                    title=f"Postings per week asking for {skill['preferred_label']}" if skill else "",
                    y_label="postings",
                )
        pg.ctx["page_url"] = lambda n: f"{pg.ctx['base']}/skills?{urlencode({'q': q, 'page': n})}"
        return render(pg, "skills.html")

    @app.get("/matches", response_class=HTMLResponse, dependencies=[Depends(_require_candidates)])
    def matches(request: Request, candidate: str = "", posting: str = "") -> HTMLResponse:
        """Top matches of a posting or a pseudonymous candidate, and the candidate's learning path."""
        from skillmatch.ui import charts, queries

        candidate, posting = candidate.strip()[:200], posting.strip()[:200]
        page = _Page(request, "Matches", "matches")
        page.ctx.update(candidate=candidate, posting=posting)
        with _warehouse(page) as con:
            if con is not None:
                if posting:
                    found = page.section("postings", queries.find_postings, con, posting) or []
                    page.ctx["postings_found"] = found
                    if found:
                        page.ctx["selected_posting"] = found[0]
                        page.ctx["posting_matches"] = page.section(
                            "posting_matches", queries.matches_for_posting, con, found[0]["posting_id"]
                        )
                if candidate:
                    found = page.section("candidates", queries.find_candidates, con, candidate) or []
                    page.ctx["candidates_found"] = found
                    if found:
                        cid = found[0]["candidate_id"]
                        page.ctx["selected_candidate"] = found[0]
                        page.ctx["candidate_matches"] = page.section(
                            "candidate_matches", queries.matches_for_candidate, con, cid
                        )
                        path = page.section("path", queries.learning_path, con, cid) or []
                        page.ctx["path"] = path
                        page.ctx["path_svg"] = charts.line_chart_svg(
                            [f"step {s['step']}" for s in path],
                            [float(s["expected_score_after"] or 0.0) for s in path],
                            title="Expected average match score after each step",
                            y_format="{:.3f}",
                        )
                if not posting and not candidate:
                    page.ctx["examples"] = page.section("examples", queries.example_ids, con)
        return render(page, "matches.html")

    @app.get("/quality", response_class=HTMLResponse)
    def quality(request: Request) -> HTMLResponse:
        """Latest expectation results, count reconciliations and quarantine counts by reason."""
        from skillmatch.ui import queries

        page = _Page(request, "Data quality", "quality")
        page.ctx["data_docs"] = (_data_docs_root() / "index.html").is_file()
        with _warehouse(page) as con:
            if con is not None:
                page.ctx["checks"] = page.section("checks", queries.latest_dq_results, con)
                page.ctx["recon"] = page.section("recon", queries.reconciliations, con)
                page.ctx["quarantine"] = page.section("quarantine", queries.quarantine_by_reason, con)
        return render(page, "quality.html")

    @app.get("/data-docs/{path:path}")
    def data_docs(path: str) -> FileResponse:
        """The Great Expectations Data Docs site, served from inside its folder only."""
        return FileResponse(_safe_docs_file(path))

    return app


def _data_docs_root() -> Path:
    return _settings().local("dq", "gx", "data_docs")


def _safe_docs_file(relative: str) -> Path:
    """Resolve `relative` inside the Data Docs folder; 404 for anything outside it (traversal, symlinks)."""
    root = _data_docs_root().resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise StarletteHTTPException(status_code=404, detail="Not found")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        raise StarletteHTTPException(status_code=404, detail="Not found")
    return target


def _login_url(airflow_base: str, next_url: str) -> str:
    """Where the active Airflow auth manager logs users in (the simple auth manager's page as a fallback)."""
    try:
        from airflow.api_fastapi.app import get_auth_manager

        return get_auth_manager().get_url_login(next_url=next_url)
    except Exception:  # noqa: BLE001 - no auth manager outside the API server (tests): use the default page
        return f"{airflow_base}/auth/login?{urlencode({'next': next_url})}"
