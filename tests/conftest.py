"""Test-wide setup: an isolated Airflow home (SQLite) so tests never touch ./.airflow or ./data."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SKILLMATCH_SHARED_DIR") or ROOT.parent / "shared" / "data")

_home = Path(tempfile.mkdtemp(prefix="skillmatch-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_home)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_home}/airflow.db"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# fp32 inference on the CPU: bf16 (the default where the CPU has it) moves a text's vector with the batch it shares,
# by ~1e-5, and the suite compares runs batched differently (cached vs cacheless, sharded vs one process). The bf16
# path has its own tests (tests/unit/extraction/test_precision.py, test_tagger.py).
os.environ.setdefault("SKILLMATCH_CPU_PRECISION", "fp32")

import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB with the checked-in pools (what `make setup` does for .airflow/)."""
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], check=True, capture_output=True, text=True)
    subprocess.run([*airflow, "pools", "import", str(ROOT / "include" / "airflow" / "pools.json")], check=True,
                   capture_output=True, text=True)
    return _home
