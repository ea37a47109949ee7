"""Failure and deadline notifications: always logged, and sent to Slack / e-mail when their connections exist.

- ``SkillmatchNotifier`` (an Airflow ``BaseNotifier``) is every skillmatch task's ``on_failure_callback``.
- ``marts_deadline_missed`` is the callback of the marts DAG's Deadline Alert (it runs in the triggerer).

Channels come from Airflow connections only, so nothing is configured in code and nothing is sent when they are
absent (the log line is always written):

- ``skillmatch_slack``: an incoming-webhook URL, as the connection URI
  (``AIRFLOW_CONN_SKILLMATCH_SLACK=https://hooks.slack.com/services/...``), its password, or extra ``webhook_url``;
- ``skillmatch_smtp``: host, port, login, password; extra ``{"to": "a@x.org,b@x.org", "from": "...",
  "starttls": true}``.

A channel that fails is logged and skipped: a notifier never fails the callback that called it.
"""
from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import urllib.request
from email.message import EmailMessage
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger("skillmatch.notify")

SLACK_CONN_ID = "skillmatch_slack"
SMTP_CONN_ID = "skillmatch_smtp"
TIMEOUT_S = 10


def _connection(conn_id: str):  # noqa: ANN202 - airflow Connection or None
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def _webhook_url(conn) -> str:  # noqa: ANN001
    extra = conn.extra_dejson or {}
    if extra.get("webhook_url"):
        return str(extra["webhook_url"])
    if conn.password and str(conn.password).startswith("http"):
        return str(conn.password)
    scheme = conn.conn_type if conn.conn_type in ("http", "https") else "https"
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{conn.host}{port}/{(conn.schema or '').lstrip('/')}"


def send(subject: str, text: str) -> list[str]:
    """Log the message and send it on every configured channel; returns the channels it reached."""
    log.error("%s\n%s", subject, text)
    sent = []
    slack = _connection(SLACK_CONN_ID)
    if slack is not None:
        try:
            req = urllib.request.Request(_webhook_url(slack), data=json.dumps({"text": f"*{subject}*\n{text}"}).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310 - URL from a connection
                resp.read()
            sent.append("slack")
        except Exception as exc:  # noqa: BLE001 - a channel failure must not fail the callback
            log.warning("Slack notification failed (%s): %s", SLACK_CONN_ID, exc)
    smtp = _connection(SMTP_CONN_ID)
    if smtp is not None:
        extra = smtp.extra_dejson or {}
        to = [a.strip() for a in str(extra.get("to", "")).split(",") if a.strip()]
        if not to:
            log.warning("SMTP connection %s has no 'to' address in its extra: not sent", SMTP_CONN_ID)
        else:
            try:
                msg = EmailMessage()
                msg["Subject"], msg["From"], msg["To"] = subject, extra.get("from", smtp.login or "skillmatch"), ", ".join(to)
                msg.set_content(text)
                with smtplib.SMTP(smtp.host, smtp.port or 25, timeout=TIMEOUT_S) as server:
                    if extra.get("starttls"):
                        server.starttls()
                    if smtp.login:
                        server.login(smtp.login, smtp.password or "")
                    server.send_message(msg)
                sent.append("smtp")
            except Exception as exc:  # noqa: BLE001
                log.warning("e-mail notification failed (%s): %s", SMTP_CONN_ID, exc)
    return sent


def failure_message(context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) for a failed task, from the Airflow context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = context.get("run_id") or getattr(ti, "run_id", "?")
    subject = f"skillmatch: {dag_id}.{task_id} failed"
    lines = [f"DAG: {dag_id}", f"task: {task_id}", f"run: {run_id}",
             f"try: {getattr(ti, 'try_number', '?')}"]
    if context.get("exception") is not None:
        lines.append(f"error: {type(context['exception']).__name__}: {context['exception']}")
    if getattr(ti, "log_url", None):
        lines.append(f"log: {ti.log_url}")
    return subject, "\n".join(lines)


class SkillmatchNotifier(BaseNotifier):
    """Task failure -> log + Slack / e-mail (see the module docstring)."""

    def notify(self, context: dict[str, Any]) -> None:
        send(*failure_message(context))

    async def async_notify(self, context: dict[str, Any]) -> None:
        await asyncio.to_thread(self.notify, context)


async def marts_deadline_missed(dag_id: str = "skillmatch_marts", hours: float | None = None, **_: Any) -> None:
    """Deadline Alert callback (triggerer): the marts refresh is not done in time."""
    subject = f"skillmatch: {dag_id} missed its deadline"
    body = (f"The marts refresh ({dag_id}) was not done within {hours:g} h of being queued: BI dashboards still "
            "show the previous night's data." if hours is not None else f"{dag_id} is late.")
    await asyncio.to_thread(send, subject, body)
