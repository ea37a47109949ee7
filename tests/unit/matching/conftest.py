"""Fixtures shared by the match-component tests."""
from __future__ import annotations

import pytest

from skillmatch.config import Settings, load_settings


@pytest.fixture()
def cpu_settings(tmp_path, monkeypatch) -> Settings:
    """Settings on an empty lake in ``tmp_path``: top 5 both ways, on the CPU, default weights."""
    monkeypatch.setenv("SKILLMATCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SKILLMATCH_TOP_K", "5")
    monkeypatch.setenv("SKILLMATCH_DEVICE", "cpu")
    return load_settings()
