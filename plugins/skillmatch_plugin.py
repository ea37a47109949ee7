"""Airflow plugin: the skillmatch dashboard inside the Airflow UI (wiring only; pages live in skillmatch.ui).

Mounts the dashboard's FastAPI app at /skillmatch on the Airflow API server and adds a "Skillmatch" entry to the
UI navigation that shows it in Airflow's frame. Every page requires a logged-in Airflow user.
"""
from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from skillmatch.ui.app import URL_PREFIX, create_app


class SkillmatchPlugin(AirflowPlugin):
    """The skillmatch dashboard: overview, skills market, matches, data quality."""

    name = "skillmatch"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Skillmatch"}]
    external_views = [
        {
            "name": "Skillmatch",
            # Relative to Airflow's base URL, so it keeps working behind a reverse proxy with a path prefix.
            "href": URL_PREFIX.lstrip("/") + "/",
            "destination": "nav",
            "url_route": "skillmatch",
        }
    ]
