"""End to end in a real browser: airflow api-server with the plugin, login through Airflow's login page, every page.

Headless Debian Chromium driven by Selenium; screenshots land in test-artifacts/ui/. Skips when chromium or
chromedriver is not installed (`apt-get install chromium chromium-driver`; .ci/run installs them).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.warehouse import CANDIDATE

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SHOTS = ROOT / "test-artifacts" / "ui"
USER, PASSWORD = "tester", "skillmatch-ui-test-pw"  # role `user`: every page, candidates included
VIEWER, VIEWER_PASSWORD = "watcher", "skillmatch-ui-viewer-pw"  # role `viewer`: no candidate pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="needs /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium "
                              "chromium-driver)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture(scope="module")
def api_server(airflow_db: Path, warehouse_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`airflow api-server` on a free local port with the plugin, the test warehouse, a `user` and a `viewer`."""
    tmp = tmp_path_factory.mktemp("api-server")
    passwords = tmp / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD, VIEWER: VIEWER_PASSWORD}))
    env = {
        **os.environ,
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:user,{VIEWER}:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": "skillmatch-ui-test-secret-0123456789abcdef",
        "SKILLMATCH_DATA_DIR": str(warehouse_dir),
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / "api-server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow", "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"api-server exited {proc.returncode}: {(tmp / 'api-server.log').read_text()[-3000:]}")
            try:
                if _get(f"{base}/api/v2/monitor/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"api-server not up in 60 s: {(tmp / 'api-server.log').read_text()[-3000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_real_server_refuses_anonymous_and_bad_tokens_and_accepts_a_real_one(api_server: str) -> None:
    for path in ["/skillmatch/", "/skillmatch/skills", "/skillmatch/quality", "/skillmatch/data-docs/index.html"]:
        status, body = _get(api_server + path)
        assert status == 401 and "Python" not in body, path
    status, _ = _get(api_server + "/skillmatch/", {"Authorization": "Bearer not-a-jwt"})
    assert status == 403
    token = _token(api_server, USER, PASSWORD)
    status, body = _get(api_server + "/skillmatch/skills", {"Authorization": f"Bearer {token}"})
    assert status == 200 and "Python (computer programming)" in body


def _token(api_server: str, user: str, password: str) -> str:
    req = urllib.request.Request(
        api_server + "/auth/token", data=json.dumps({"username": user, "password": password}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["access_token"]


def test_real_server_keeps_candidates_from_a_viewer(api_server: str) -> None:
    viewer = {"Authorization": f"Bearer {_token(api_server, VIEWER, VIEWER_PASSWORD)}"}
    user = {"Authorization": f"Bearer {_token(api_server, USER, PASSWORD)}"}
    status, body = _get(api_server + "/skillmatch/skills", viewer)
    assert status == 200 and "Python (computer programming)" in body and "/skillmatch/matches" not in body
    status, body = _get(api_server + f"/skillmatch/matches?candidate={CANDIDATE}", viewer)
    assert status == 403 and "may not see candidates" in body and 'id="learning-path"' not in body
    status, body = _get(api_server + f"/skillmatch/matches?candidate={CANDIDATE}", user)
    assert status == 200 and 'id="learning-path"' in body


def test_login_then_every_page_in_headless_chromium(api_server: str) -> None:
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    SHOTS.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000"]:
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # Pages are replaced while the login redirect and the React UI load: retry on stale / missing elements.
    wait = WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))
    try:
        driver.get(api_server + "/skillmatch/")
        assert "You are not logged in" in driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(SHOTS / "00-not-logged-in.png"))

        driver.get(api_server + "/auth/login?next=/skillmatch/")
        wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(USER)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda d: "Last run of each DAG" in d.find_element(By.TAG_NAME, "body").text)
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "skillmatch_ingest" in body and "75.0 %" in body
        driver.save_screenshot(str(SHOTS / "01-overview.png"))

        pages = [
            ("/skillmatch/skills?q=python", ["Postings per week asking for Python", "Fastest-growing",
                                             "Supply vs demand gap"], "02-skills.png"),
            ("/skillmatch/skills?page=2", ["page 2 of 2", "Skill number 51"], "03-skills-page-2.png"),
            (f"/skillmatch/matches?candidate={CANDIDATE}", ["Learning path", "Kubernetes", "0.812"],
             "04-matches-candidate.png"),
            ("/skillmatch/matches?posting=senior", ["Top candidates for", "Senior Data Engineer", CANDIDATE],
             "05-matches-posting.png"),
            ("/skillmatch/quality", ["Latest expectation results", "FAILED", "unparseable CSV: line 3"],
             "06-quality.png"),
        ]
        for path, texts, shot in pages:
            driver.get(api_server + path)
            body = driver.find_element(By.TAG_NAME, "body").text
            for text in texts:
                assert text in body, (path, text)
            driver.save_screenshot(str(SHOTS / shot))

        # The nav entry in Airflow's own UI opens the dashboard in Airflow's frame.
        driver.get(api_server + "/plugin/skillmatch")
        frame = wait.until(ec.presence_of_element_located((By.TAG_NAME, "iframe")))
        wait.until(lambda d: "Skillmatch" in d.find_element(By.TAG_NAME, "body").text)
        driver.switch_to.frame(frame)
        wait.until(lambda d: "Last run of each DAG" in d.find_element(By.TAG_NAME, "body").text)
        driver.switch_to.default_content()
        driver.save_screenshot(str(SHOTS / "07-airflow-nav.png"))
    finally:
        driver.quit()
