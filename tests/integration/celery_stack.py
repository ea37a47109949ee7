"""A throwaway CeleryExecutor deployment on one machine, for the distributed integration test.

No Docker: Debian's ``redis-server`` (the broker) and PostgreSQL (metadata DB and celery result backend) run on
127.0.0.1 on free ports with their data in a temporary folder, then Airflow's scheduler, dag-processor,
api-server and celery workers run as child processes configured only through environment variables. Each process
writes its stdout and stderr to ``<root>/logs/<name>.log`` and carries ``STACK_TOKEN_ENV`` in its environment, so
``CeleryStack.leftovers`` finds in ``/proc`` anything that outlived the stack (children included).

Standard library only at import time: the celery workers import ``worker_hostname`` from this module.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

STACK_TOKEN_ENV = "SKILLMATCH_TEST_STACK"
WORKER_NAME_ENV = "SKILLMATCH_TEST_WORKER"
PG_USER = "airflow"
PG_DB = "airflow"
# Inherited variables a stack process must not see: another Airflow home or metadata DB (tests/conftest.py and the
# Makefile set them for the test process), another lake, pytest's own.
_DROPPED_PREFIXES = ("AIRFLOW", "SKILLMATCH_", "PYTEST_")


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the stack's celery workers: the machine's name and the worker's name, so
    ``task_instance.hostname`` tells apart two workers that share one machine."""
    name = os.environ.get(WORKER_NAME_ENV, "")
    host = socket.getfqdn()
    return f"{host}-{name}" if name else host


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin_dir() -> Path | None:
    """The bin folder of the newest Debian PostgreSQL server (``/usr/lib/postgresql/<version>/bin``), else the
    folder of ``postgres`` on PATH; None when no server is installed."""
    debian = [p for p in Path("/usr/lib/postgresql").glob("*/bin")
              if (p / "postgres").is_file() and (p / "initdb").is_file()]
    if debian:
        return max(debian, key=lambda p: float(p.parent.name) if p.parent.name.replace(".", "").isdigit() else 0.0)
    found = shutil.which("postgres")
    if found and (Path(found).resolve().parent / "initdb").is_file():
        return Path(found).resolve().parent
    return None


def missing_services() -> str | None:
    """Why the stack cannot run on this machine (a skip reason), or None when it can."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (Debian package redis-server; .ci/run installs it)"
    if postgres_bin_dir() is None:
        return "no PostgreSQL server binaries (Debian package postgresql; .ci/run installs it)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the PostgreSQL server as"
    return None


@dataclass
class Proc:
    """One long-running process of the stack."""

    name: str
    popen: subprocess.Popen
    log: Path


@dataclass(frozen=True)
class Stopped:
    """How one process ended on shutdown: its exit status, and whether it had to be killed."""

    name: str
    returncode: int | None
    seconds: float
    killed: bool


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class CeleryStack:
    """The processes of one test deployment, started in order and stopped in reverse order."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.token = uuid.uuid4().hex
        self.procs: list[Proc] = []
        self._cleanups: list[Callable[[], None]] = []
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
        self.base_env[STACK_TOKEN_ENV] = self.token
        # the venv's console scripts (airflow, celery) first, as the Makefile does
        self.base_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.base_env.get('PATH', '')}"

    # -- processes -------------------------------------------------------------------------------------------
    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None, *, user: str | None = None,
              cwd: Path | None = None) -> Proc:
        """Start ``argv`` in its own session with its output in ``logs/<name>.log``; ``user`` runs it as that
        user (the stack must be root then)."""
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(argv, env={**self.base_env, **(env or {})}, cwd=cwd or self.root,
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True, **_as_user(user))
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def run(self, name: str, argv: list[str], env: dict[str, str] | None = None, *, timeout: float,
            user: str | None = None, cwd: Path | None = None) -> str:
        """Run a one-shot command to completion (its output in ``logs/<name>.log``, also returned); raises naming
        the command and showing the end of its output when it fails or runs past ``timeout`` seconds."""
        log = self.logs / f"{name}.log"
        try:
            done = subprocess.run(argv, env={**self.base_env, **(env or {})}, cwd=cwd or self.root,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                                  **_as_user(user))
        except subprocess.TimeoutExpired as exc:
            log.write_text("".join(o.decode(errors="replace") if isinstance(o, bytes) else o or ""
                                   for o in (exc.stdout, exc.stderr)))
            raise RuntimeError(f"{name}: `{' '.join(argv)}` ran past {timeout:.0f} s\n{_tail(log, 40)}") from exc
        log.write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise RuntimeError(f"{name}: `{' '.join(argv)}` exited {done.returncode}\n{_tail(log, 40)}")
        return done.stdout

    def on_cleanup(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after every process has stopped (removing a data folder, say)."""
        self._cleanups.append(fn)

    def check_alive(self) -> None:
        """Raise naming the first stack process that has exited on its own."""
        for p in self.procs:
            if p.popen.poll() is not None:
                raise RuntimeError(f"{p.name} exited with {p.popen.returncode}; its log:\n{_tail(p.log, 60)}")

    def wait_for(self, what: str, ready: Callable[[], bool], timeout: float, interval: float = 1.0) -> None:
        """Poll ``ready`` until it returns true; raise if a stack process dies, ``ready`` fails an assertion or
        ``timeout`` seconds pass (any other error counts as not ready yet: connection refused, no table yet)."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while True:
            self.check_alive()
            try:
                if ready():
                    return
            except AssertionError:
                raise
            except Exception as exc:
                last = exc
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not ready after {timeout:.0f} s (last error: {last!r})")
            time.sleep(interval)

    def shutdown(self, timeout: float = 60.0) -> list[Stopped]:
        """SIGTERM every process in reverse start order, waiting up to ``timeout`` seconds for each before killing
        its whole session; then run the cleanups."""
        stopped = []
        for p in reversed(self.procs):
            start = time.monotonic()
            killed = False
            if p.popen.poll() is None:
                p.popen.send_signal(signal.SIGTERM)
                try:
                    p.popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    killed = True
                    _kill_session(p.popen.pid)
                    p.popen.wait(10)
            stopped.append(Stopped(p.name, p.popen.returncode, round(time.monotonic() - start, 1), killed))
        self.procs.clear()
        for fn in reversed(self._cleanups):
            fn()
        self._cleanups.clear()
        return stopped

    def leftovers(self) -> list[str]:
        """``pid cmdline`` of every live process that carries this stack's token (started by the stack or by one
        of its processes); kills them, so a failing check does not leave them running."""
        marker = f"{STACK_TOKEN_ENV}={self.token}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker not in (entry / "environ").read_bytes().split(b"\0"):
                    continue
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                if (entry / "stat").read_text().split(")")[-1].split()[0] == "Z":
                    continue  # a zombie has exited already; its parent only has not reaped it
            except OSError:  # gone meanwhile, or not ours to read
                continue
            found.append(f"{entry.name} {cmd}")
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                pass
        return found

    def log_tails(self, lines: int = 40) -> str:
        """The end of every log of the stack, for a failure report."""
        return "\n".join(f"----- {log.name} (last {lines} lines) -----\n{_tail(log, lines)}"
                         for log in sorted(self.logs.glob("*.log")))


def _as_user(user: str | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def _kill_session(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # started with start_new_session: the group id is the leader's pid
    except OSError:
        pass


# -- the services ------------------------------------------------------------------------------------------------
def start_redis(stack: CeleryStack) -> str:
    """Start ``redis-server`` on a free port (no persistence, data folder under the stack); its broker URL."""
    port = free_port()
    data = stack.root / "redis"
    data.mkdir(exist_ok=True)
    stack.start("redis", [shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port",
                          str(port), "--dir", str(data), "--save", "", "--appendonly", "no", "--daemonize", "no"])

    def pong() -> bool:
        with closing(socket.create_connection(("127.0.0.1", port), timeout=2)) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    stack.wait_for("redis", pong, timeout=30, interval=0.2)
    return f"redis://127.0.0.1:{port}/0"


def start_postgres(stack: CeleryStack) -> str:
    """Create a PostgreSQL cluster and start its server on a free port of 127.0.0.1 (trust auth, the ``airflow``
    role and database); returns ``user@host:port/db`` for the connection URLs.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user and lives in a
    folder of its own under the system temp dir (the test's temp folders are private to root), removed at
    shutdown; otherwise it lives under the stack folder.
    """
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None, "missing_services() should have skipped"
    user = "postgres" if os.geteuid() == 0 else None
    if user:
        home = Path(tempfile.mkdtemp(prefix="skillmatch-pg-"))
        pw = pwd.getpwnam(user)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        stack.on_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))
    else:
        home = stack.root / "postgres"
        home.mkdir()
    data = home / "data"
    stack.run("postgres-initdb", [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust",
                                  "-E", "UTF8", "--no-locale", "--no-sync"], timeout=120, user=user, cwd=home)
    port = free_port()
    # durability off: a test cluster; several Airflow processes with pools of connections each
    stack.start("postgres", [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                             "-k", str(home), "-c", "fsync=off", "-c", "synchronous_commit=off",
                             "-c", "full_page_writes=off", "-c", "max_connections=200"], user=user, cwd=home)
    import psycopg2  # the driver the stack's Airflow uses too

    def accepting() -> bool:
        psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", connect_timeout=2).close()
        return True

    stack.wait_for("postgres", accepting, timeout=60, interval=0.5)
    con = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres")
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f"CREATE DATABASE {PG_DB}")
    finally:
        con.close()
    return f"{PG_USER}@127.0.0.1:{port}/{PG_DB}"


class MetadataDB:
    """Read-only queries on the stack's Airflow metadata DB (a fresh connection each, so the test holds none
    when the server stops)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn  # postgresql://user@host:port/db

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Rows of one query."""
        import psycopg2

        with closing(psycopg2.connect(self.dsn, connect_timeout=5)) as con, con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()


# -- Airflow on the stack -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AirflowDeployment:
    """Where the stack's Airflow is: its home, metadata DB, API server and the environment every process gets."""

    home: Path
    metadata: MetadataDB
    api_url: str
    env: dict[str, str]

    def cli(self, stack: CeleryStack, name: str, *args: str, timeout: float = 180) -> str:
        """Run one ``airflow`` CLI command against the deployment; its stdout."""
        return stack.run(name, [sys.executable, "-m", "airflow", *args], self.env, timeout=timeout)


def airflow_env(home: Path, dags: Path, plugins: Path, postgres: str, broker: str, api_port: int,
                extra: dict[str, str]) -> dict[str, str]:
    """The environment of every Airflow process of the stack: CeleryExecutor on ``postgres`` (metadata and celery
    results) and ``broker``, workers reaching the execution API on ``api_port``, shared API secrets; ``extra``
    (the skillmatch settings) on top."""
    from cryptography.fernet import Fernet  # an Airflow dependency

    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{postgres}",
        "AIRFLOW__CELERY__BROKER_URL": broker,
        # the driver named: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not installed
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{postgres}",
        # celery_taskmeta keeps the name of the worker that ran each task (checked against task_instance)
        "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG": '{"result_extended": true}',
        "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",  # sending to the broker on two busy cores
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
        "AIRFLOW__API__SECRET_KEY": uuid.uuid4().hex,
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",  # re-parsing costs CPU the tasks need
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        **extra,
    }


def start_airflow(stack: CeleryStack, env: dict[str, str], api_port: int, root: Path,
                  workers: dict[str, tuple[str, int]]) -> AirflowDeployment:
    """Migrate the metadata DB, import the checked-in pools, then start the api-server, dag-processor, scheduler
    and one celery worker per ``workers`` entry (name -> (queues, concurrency)); each worker has its own celery
    hostname ``<name>@<host>`` and task-instance hostname (``worker_hostname``). Returns once the API server
    answers and every worker is ready."""
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    postgres = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("://", 1)[1]
    af = AirflowDeployment(home, MetadataDB(f"postgresql://{postgres}"), f"http://127.0.0.1:{api_port}", env)
    af.cli(stack, "airflow-db-migrate", "db", "migrate", timeout=600)
    af.cli(stack, "airflow-pools-import", "pools", "import", str(root / "include" / "airflow" / "pools.json"))
    airflow = [sys.executable, "-m", "airflow"]
    stack.start("api-server", [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(api_port),
                               "--workers", "1"], env)
    stack.start("dag-processor", [*airflow, "dag-processor"], env)
    stack.start("scheduler", [*airflow, "scheduler"], env)
    host = socket.gethostname()
    for name, (queues, concurrency) in workers.items():
        # the workers import worker_hostname from this module: the repository root goes on their path
        worker_env = {**env, WORKER_NAME_ENV: name, "PYTHONPATH": str(root),
                      "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname"}
        # logs are on the one local disk all processes share: no log server (two would clash on its port)
        stack.start(f"worker-{name}", [*airflow, "celery", "worker", "--queues", queues, "--celery-hostname",
                                       f"{name}@{host}", "--concurrency", str(concurrency), "--skip-serve-logs"],
                    worker_env)

    def api_up() -> bool:
        import urllib.request

        with urllib.request.urlopen(f"{af.api_url}/api/v2/monitor/health", timeout=5) as r:
            return r.status == 200

    stack.wait_for("api-server", api_up, timeout=180, interval=2)
    for name in workers:
        log = stack.logs / f"worker-{name}.log"
        stack.wait_for(f"celery worker {name}", lambda log=log: f"@{host} ready." in log.read_text(errors="replace"),
                       timeout=180, interval=2)
    return af
