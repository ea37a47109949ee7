"""Fixtures for the dashboard tests: a small warehouse and the app mounted at /skillmatch as Airflow mounts it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.warehouse import build_warehouse


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of the real-browser test."""
    config.addinivalue_line("markers", "browser: drives headless Chromium against a real airflow api-server")


@pytest.fixture(scope="session")
def warehouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the hand-built warehouse and a Data Docs index."""
    data_dir = tmp_path_factory.mktemp("ui-data")
    build_warehouse(data_dir)
    return data_dir


def _client(data_dir: Path, monkeypatch: pytest.MonkeyPatch, *, logged_in: bool) -> Iterator[object]:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from skillmatch.ui.app import URL_PREFIX, create_app, get_authorizer, require_user

    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(data_dir))
    sub = create_app()
    if logged_in:
        sub.dependency_overrides[require_user] = lambda: {"username": "tester"}
        sub.dependency_overrides[get_authorizer] = lambda: (lambda user, resource: True)
    root = FastAPI()
    root.mount(URL_PREFIX, sub)  # what the Airflow API server does with a plugin's fastapi_apps
    with TestClient(root) as client:
        yield client


@pytest.fixture
def client(warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A logged-in client (the auth dependency overridden) on the test warehouse."""
    yield from _client(warehouse_dir, monkeypatch, logged_in=True)


@pytest.fixture
def anonymous_client(warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A client with Airflow's real login check in place and no credentials."""
    yield from _client(warehouse_dir, monkeypatch, logged_in=False)


@pytest.fixture
def empty_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A logged-in client on a data dir where no refresh has run (no warehouse file)."""
    yield from _client(tmp_path, monkeypatch, logged_in=True)


@pytest.fixture
def role_client(warehouse_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A factory of clients logged in as a simple-auth-manager user of a given role, access decided by the real
    ``can_view`` through a real ``SimpleAuthManager``."""
    from airflow.api_fastapi import app as airflow_app
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from skillmatch.ui.app import URL_PREFIX, create_app, require_user

    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(warehouse_dir))
    monkeypatch.setattr(airflow_app._AuthManagerState, "instance", SimpleAuthManager())
    clients = []

    def make(role: str | None) -> object:
        sub = create_app()
        sub.dependency_overrides[require_user] = lambda: SimpleAuthManagerUser(username=f"u-{role}", role=role)
        root = FastAPI()
        root.mount(URL_PREFIX, sub)
        client = TestClient(root)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()
