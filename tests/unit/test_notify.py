"""Failure notifier and the marts Deadline Alert, against real local Slack-webhook and SMTP servers."""
from __future__ import annotations

import asyncio
import importlib
import json
import logging
import socketserver
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from skillmatch import notify

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def webhook(monkeypatch):  # noqa: ANN201 - a list that fills with the JSON bodies received
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append({"path": self.path,
                             "body": json.loads(self.rfile.read(int(self.headers["Content-Length"])))})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AIRFLOW_CONN_SKILLMATCH_SLACK", f"http://127.0.0.1:{server.server_port}/services/T1/B2/X3")
    yield received
    server.shutdown()


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message (the protocol smtplib speaks)."""

    def handle(self) -> None:
        self.wfile.write(b"220 localhost ESMTP test\r\n")
        data, in_data = [], False
        for raw in self.rfile:
            line = raw.decode().rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    self.server.messages.append("\n".join(data))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line)
                continue
            verb = line.split(" ")[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-localhost\r\n250 OK\r\n")
            elif verb == "DATA":
                in_data = True
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture()
def smtp_server(monkeypatch):  # noqa: ANN201 - a list that fills with the messages received
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    extra = json.dumps({"to": "data-team@example.org", "from": "skillmatch@example.org"})
    monkeypatch.setenv("AIRFLOW_CONN_SKILLMATCH_SMTP", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": server.server_address[1], "extra": extra}))
    yield server.messages
    server.shutdown()


def _context() -> dict:
    ti = SimpleNamespace(dag_id="skillmatch_extract", task_id="extract_postings", run_id="scheduled__2026-11-23",
                         try_number=3, log_url="http://localhost:8080/dags/skillmatch_extract/runs/x/tasks/y")
    return {"ti": ti, "run_id": ti.run_id, "exception": RuntimeError("CUDA out of memory")}


def test_without_connections_the_failure_is_logged_and_nothing_is_sent(monkeypatch, caplog) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SKILLMATCH_SLACK", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SKILLMATCH_SMTP", raising=False)
    with caplog.at_level(logging.ERROR, logger="skillmatch.notify"):
        assert notify.send(*notify.failure_message(_context())) == []
    assert "skillmatch_extract.extract_postings failed" in caplog.text
    assert "CUDA out of memory" in caplog.text


def test_failure_reaches_slack_and_email(webhook, smtp_server) -> None:
    notify.SkillmatchNotifier().notify(_context())
    assert len(webhook) == 1 and webhook[0]["path"] == "/services/T1/B2/X3"
    text = webhook[0]["body"]["text"]
    for part in ("skillmatch_extract.extract_postings failed", "run: scheduled__2026-11-23", "try: 3",
                 "RuntimeError: CUDA out of memory", "log: http://localhost:8080/dags/skillmatch_extract"):
        assert part in text
    assert len(smtp_server) == 1
    mail = smtp_server[0]
    assert "Subject: skillmatch: skillmatch_extract.extract_postings failed" in mail
    assert "To: data-team@example.org" in mail and "CUDA out of memory" in mail


def test_a_dead_channel_is_logged_and_does_not_raise(monkeypatch, caplog) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SKILLMATCH_SLACK", "http://127.0.0.1:9/hook")  # nothing listens on port 9
    monkeypatch.delenv("AIRFLOW_CONN_SKILLMATCH_SMTP", raising=False)
    with caplog.at_level(logging.WARNING, logger="skillmatch.notify"):
        assert notify.send("subject", "body") == []
    assert "Slack notification failed (skillmatch_slack)" in caplog.text


def test_every_task_notifies_on_failure() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    tasks = [t for d in bag.dags.values() for t in d.tasks]
    assert len(tasks) >= 8
    for t in tasks:
        callbacks = t.on_failure_callback if isinstance(t.on_failure_callback, list) else [t.on_failure_callback]
        assert any(isinstance(c, notify.SkillmatchNotifier) for c in callbacks), f"{t.dag_id}.{t.task_id}"


def test_marts_dag_has_a_deadline_alert_that_notifies(webhook, monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.deadline import DeadlineReference

    monkeypatch.delenv("SKILLMATCH_MARTS_DEADLINE_HOURS", raising=False)
    assert not DagBag(dag_folder=str(ROOT / "dags")).dags["skillmatch_marts"].deadline  # embedded default: none
    monkeypatch.setenv("SKILLMATCH_MARTS_DEADLINE_HOURS", "3")  # what docker-compose sets
    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["skillmatch_marts"]
    alerts = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == timedelta(hours=3)
    # the callback the triggerer will import and await
    module, _, name = alert.callback.path.rpartition(".")
    fn = getattr(importlib.import_module(module), name)
    asyncio.run(fn(**alert.callback.kwargs))
    assert len(webhook) == 1
    assert "skillmatch_marts missed its deadline" in webhook[0]["body"]["text"]
    assert "within 3 h of being queued" in webhook[0]["body"]["text"]


def test_deadline_interval_is_configurable(monkeypatch) -> None:
    from skillmatch.orchestration import marts_deadline

    monkeypatch.setenv("SKILLMATCH_MARTS_DEADLINE_HOURS", "1.5")
    assert marts_deadline().interval == timedelta(hours=1.5)
    monkeypatch.setenv("SKILLMATCH_MARTS_DEADLINE_HOURS", "soon")
    with pytest.raises(ValueError, match="SKILLMATCH_MARTS_DEADLINE_HOURS"):
        marts_deadline()
