"""The distributed deployment files: docker-compose.yaml, Dockerfile and .env.example (no Docker engine needed)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"airflow-init"}
SECRET = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$|TOKEN|BASIC_AUTH", re.I)
# ${VAR}, ${VAR:-default}, ${VAR:?error}; $${VAR} is the container's own variable, not compose's
VAR = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def _env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _filled_env(tmp_path: Path) -> Path:
    env = {k: (v or f"test-{k.lower()}") for k, v in _env_example().items()}
    path = tmp_path / "compose.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return path


def test_the_services_of_the_official_celery_layout_are_all_there() -> None:
    assert {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "airflow-worker-gpu", "flower"} <= set(SERVICES)
    env = COMPOSE["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")


def test_every_long_running_service_has_a_health_check_and_waits_for_healthy_dependencies() -> None:
    for name, svc in SERVICES.items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for dep, cond in (svc.get("depends_on") or {}).items():
            want = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert cond["condition"] == want, f"{name} -> {dep}: {cond}"
        if name not in ONE_SHOT and name.startswith(("airflow-", "flower")):
            assert svc["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_no_secret_is_written_in_the_compose_file_and_every_one_is_required() -> None:
    text = (ROOT / "docker-compose.yaml").read_text()
    secrets = {m.group(1) for m in VAR.finditer(text) if SECRET.search(m.group(1))}
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
            "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD"} <= secrets
    for m in VAR.finditer(text):
        if SECRET.search(m.group(1)):
            assert m.group(2) == "?", f"${{{m.group(1)}}} must be required (:?), not defaulted: {m.group(0)}"
    env_blocks = [COMPOSE["x-airflow-common"]["environment"]] + [s.get("environment", {}) for s in SERVICES.values()]
    for block in env_blocks:
        for key, value in block.items():
            if SECRET.search(key):
                assert "${" in str(value), f"{key} carries a literal value"
    for key, value in _env_example().items():
        if SECRET.search(key):
            assert value == "", f".env.example must not carry a value for {key}"


def test_every_variable_without_a_default_is_documented_in_env_example() -> None:
    text = (ROOT / "docker-compose.yaml").read_text()
    documented = set(_env_example())
    needed = {m.group(1) for m in VAR.finditer(text) if m.group(2) != "-"}
    assert needed <= documented, needed - documented


def test_images_are_pinned_and_the_airflow_base_matches_requirements() -> None:
    for name, svc in SERVICES.items():
        image = VAR.sub(lambda m: m.group(3) or "", svc["image"])  # the default of ${SKILLMATCH_IMAGE:-...}
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image and tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: unpinned image {image}"
    pin = re.search(r"^apache-airflow==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"ARG AIRFLOW_VERSION={pin}" in dockerfile
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python" in dockerfile
    assert "-r requirements.txt -c constraints.txt" in dockerfile
    torch_pin = re.search(r"^torch==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f'"torch=={torch_pin}"' in dockerfile
    for name in ("airflow-apiserver", "airflow-worker-gpu"):
        assert VAR.sub(lambda m: m.group(3), SERVICES[name]["image"]).endswith(f":{pin}")


def test_gpu_worker_listens_on_queue_gpu_behind_a_profile_with_a_device_reservation() -> None:
    gpu = SERVICES["airflow-worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert re.search(r"--queues gpu(\s|$)", gpu["command"])
    assert "--concurrency 1" in gpu["command"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"] and devices[0]["driver"] == "nvidia"
    assert "cu" in gpu["build"]["args"]["TORCH_INDEX"]
    cpu = SERVICES["airflow-worker"]
    assert "profiles" not in cpu, "the CPU worker must start without a profile"
    # without the gpu profile, the CPU worker must take queue gpu too, or GPU tasks would never run
    assert "${CPU_WORKER_QUEUES:-default,gpu}" in cpu["command"]


def test_gpu_tasks_are_routed_to_queue_gpu_and_pool_gpu() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    gpu_tasks = [(d.dag_id, t.task_id) for d in bag.dags.values() for t in d.tasks if t.pool == "gpu"]
    assert len(gpu_tasks) >= 4
    for dag_id, task_id in gpu_tasks:
        assert bag.dags[dag_id].get_task(task_id).queue == "gpu", f"{dag_id}.{task_id}"
    others = [t for d in bag.dags.values() for t in d.tasks if t.pool != "gpu"]
    assert others and all(t.queue != "gpu" for t in others)


def test_docker_compose_validates_the_file(tmp_path: Path) -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose is not installed (.ci/run installs Debian's docker-compose)")
    env = _filled_env(tmp_path)
    for profiles in ([], ["--profile", "gpu", "--profile", "flower"]):
        run = subprocess.run([exe, "--env-file", str(env), "-f", str(ROOT / "docker-compose.yaml"), *profiles,
                              "config", "-q"], capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 0, run.stderr
    # and without the secrets it refuses, naming the missing one
    empty = tmp_path / "empty.env"
    empty.write_text("")
    run = subprocess.run([exe, "--env-file", str(empty), "-f", str(ROOT / "docker-compose.yaml"), "config", "-q"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode != 0 and "PASSWORD in .env" in run.stderr
