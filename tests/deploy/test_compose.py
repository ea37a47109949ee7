"""The distributed deployment files: docker-compose.yaml, Dockerfile and .env.example (no Docker engine needed)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"airflow-init", "minio-init"}
SECRET = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$|ACCESS_KEY|ROOT_USER|TOKEN|BASIC_AUTH", re.I)
# ${VAR}, ${VAR:-default}, ${VAR:?error}; $${VAR} is the container's own variable, not compose's
VAR = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def _env_example() -> dict[str, str]:
    out = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _filled_values() -> dict[str, str]:
    """.env.example with every empty value (the secrets) filled in."""
    return {k: (v or f"test-{k.lower()}") for k, v in _env_example().items()}


def _filled_env(tmp_path: Path) -> Path:
    env = _filled_values()
    path = tmp_path / "compose.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return path


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution of ${VAR}, ${VAR:-default} and ${VAR:?error} from `env`; $$ is a literal $."""
    def sub(m: re.Match) -> str:
        name, op, arg = m.groups()
        if env.get(name):
            return env[name]
        if op == "?":
            raise KeyError(f"{name} is required: {arg}")
        return arg or ""
    return VAR.sub(sub, value).replace("$$", "$")


def _airflow_services() -> dict[str, dict]:
    """The long-running Airflow services (every one built on x-airflow-common, the one-shot airflow-init aside)."""
    return {n: s for n, s in SERVICES.items() if n not in ONE_SHOT and n.startswith(("airflow-", "flower"))}


def test_the_services_of_the_official_celery_layout_are_all_there() -> None:
    assert {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "airflow-worker-gpu", "flower"} <= set(SERVICES)
    env = COMPOSE["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")


def test_every_long_running_service_has_a_health_check_and_waits_for_healthy_dependencies() -> None:
    assert ONE_SHOT <= set(SERVICES)
    for name, svc in SERVICES.items():
        if name in ONE_SHOT:
            # a one-shot runs to its end and stays down: nothing to probe, and it must not be restarted
            assert svc.get("restart") == "no", f"{name}: a one-shot must not restart"
        else:
            assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"
        for dep, cond in (svc.get("depends_on") or {}).items():
            want = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            assert cond["condition"] == want, f"{name} -> {dep}: {cond}"
    assert len(_airflow_services()) >= 7
    for name, svc in _airflow_services().items():
        for init in ("airflow-init", "minio-init"):  # the metadata schema and the lake bucket exist before they start
            assert svc["depends_on"][init]["condition"] == "service_completed_successfully", f"{name} -> {init}"


def test_no_secret_is_written_in_the_compose_file_and_every_one_is_required() -> None:
    text = (ROOT / "docker-compose.yaml").read_text()
    secrets = {m.group(1) for m in VAR.finditer(text) if SECRET.search(m.group(1))}
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
            "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD",
            "SKILLMATCH_S3_ACCESS_KEY", "SKILLMATCH_S3_SECRET_KEY"} <= secrets
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
        pinned = re.search(r"\d+\.\d+", tag) or re.fullmatch(r"RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", tag)  # MinIO
        assert ":" in image and tag != "latest" and pinned, f"{name}: unpinned image {image}"
    pin = re.search(r"^apache-airflow==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"ARG AIRFLOW_VERSION={pin}" in dockerfile
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python" in dockerfile
    assert "-r requirements.txt -c constraints.txt" in dockerfile
    torch_pin = re.search(r"^torch==([\d.]+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f'"torch=={torch_pin}"' in dockerfile
    for name in ("airflow-apiserver", "airflow-worker-gpu"):
        assert VAR.sub(lambda m: m.group(3), SERVICES[name]["image"]).endswith(f":{pin}")


def test_minio_serves_the_lake_on_a_named_volume_with_a_health_check() -> None:
    minio, init = SERVICES["minio"], SERVICES["minio-init"]
    assert re.search(r"/minio/minio:RELEASE\.", VAR.sub(lambda m: m.group(3) or "", minio["image"]))
    assert re.search(r"/minio/mc:RELEASE\.", VAR.sub(lambda m: m.group(3) or "", init["image"]))
    assert minio["command"].split()[:2] == ["server", "/data"] and '--console-address ":9001"' in minio["command"]
    volume = minio["volumes"][0].split(":")
    assert volume[1] == "/data" and volume[0] in COMPOSE["volumes"], "minio data must be on a named volume"
    assert minio["healthcheck"]["test"] in (["CMD", "mc", "ready", "local"],
                                            ["CMD", "curl", "-f", "http://localhost:9000/minio/health/live"])
    for var in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"):
        assert minio["environment"][var].startswith(f"${{{var}:?"), var
        assert init["environment"][var] == minio["environment"][var], var
    # the API stays on the compose network, published like the other UIs: the console only, port from .env
    assert minio["expose"] == [9000]
    assert [VAR.sub(lambda m: m.group(3) or "", p) for p in minio["ports"]] == ["9001:9001"]
    assert init["depends_on"] == {"minio": {"condition": "service_healthy"}}


def test_minio_init_creates_the_bucket_of_the_default_lake() -> None:
    init = SERVICES["minio-init"]
    script = init["command"][0] if isinstance(init["command"], list) else init["command"]
    assert "mc alias set local http://minio:9000 " in script
    assert re.search(r"^mc mb --ignore-existing \"local/\$\$\{SKILLMATCH_LAKE_BUCKET\}\"$", script, re.M), script
    data_dir = COMPOSE["x-airflow-common"]["environment"]["SKILLMATCH_DATA_DIR"]
    for env in (_filled_values(), {**_filled_values(), "SKILLMATCH_LAKE_BUCKET": "another-bucket"}):
        lake = urlparse(_interpolate(data_dir, env))
        bucket = _interpolate(init["environment"]["SKILLMATCH_LAKE_BUCKET"], env)
        assert lake.scheme == "s3" and lake.netloc == bucket == env["SKILLMATCH_LAKE_BUCKET"], (lake, bucket)
        assert lake.path.strip("/"), "the lake lives under a prefix of the bucket"
    assert _interpolate(data_dir, _filled_values()) == "s3://skillmatch-lake/lake"


def test_the_airflow_services_reach_the_lake_on_minio_by_default_or_on_an_external_s3() -> None:
    env = COMPOSE["x-airflow-common"]["environment"]
    example = _filled_values()
    endpoint = urlparse(_interpolate(env["AWS_ENDPOINT_URL"], example))
    assert endpoint.hostname == "minio" and endpoint.port in SERVICES["minio"]["expose"]
    assert f"http://{endpoint.netloc}" in SERVICES["minio-init"]["command"][0], "minio-init uses another endpoint"
    external = {**example, "SKILLMATCH_S3_ENDPOINT": "https://s3.eu-west-1.amazonaws.com"}
    assert _interpolate(env["AWS_ENDPOINT_URL"], external) == "https://s3.eu-west-1.amazonaws.com"
    assert _interpolate(env["AWS_ACCESS_KEY_ID"], example) == example["SKILLMATCH_S3_ACCESS_KEY"]
    assert _interpolate(env["AWS_SECRET_ACCESS_KEY"], example) == example["SKILLMATCH_S3_SECRET_KEY"]
    with pytest.raises(KeyError):
        _interpolate(env["AWS_SECRET_ACCESS_KEY"], {})
    assert _interpolate(env["AWS_DEFAULT_REGION"], example) == "us-east-1"
    # each container's own scratch files (caches, data docs, warehouse build) on a named volume
    mounts = dict(v.split(":")[:2][::-1] for v in COMPOSE["x-airflow-common"]["volumes"])
    assert mounts[env["SKILLMATCH_LOCAL_DIR"]] in COMPOSE["volumes"]
    for name, svc in _airflow_services().items():
        assert svc["environment"]["AWS_ENDPOINT_URL"] == env["AWS_ENDPOINT_URL"], name
        assert svc["environment"]["SKILLMATCH_DATA_DIR"] == env["SKILLMATCH_DATA_DIR"], name


def test_the_tagger_settings_reach_every_airflow_service_with_valid_defaults() -> None:
    """SKILLMATCH_TAGGER_BASE / _TEACHER from .env reach the workers (extraction serves that base's tagger, the
    weekly retrain distils from the teacher); the documented defaults are the mpnet tagger and no teacher."""
    from skillmatch.extraction.bases import DEFAULT_TAGGER_BASE, MINILM, RECIPES

    env = COMPOSE["x-airflow-common"]["environment"]
    example = _filled_values() | {k: v for k, v in _env_example().items() if k.startswith("SKILLMATCH_TAGGER_")}
    assert _interpolate(env["SKILLMATCH_TAGGER_BASE"], example) == DEFAULT_TAGGER_BASE
    assert _interpolate(env["SKILLMATCH_TAGGER_BASE"], {}) == DEFAULT_TAGGER_BASE
    assert _interpolate(env["SKILLMATCH_TAGGER_TEACHER"], example) == ""
    chosen = {"SKILLMATCH_TAGGER_BASE": MINILM, "SKILLMATCH_TAGGER_TEACHER": DEFAULT_TAGGER_BASE}
    assert [_interpolate(env[k], chosen) for k in chosen] == [MINILM, DEFAULT_TAGGER_BASE]
    assert set(chosen.values()) <= set(RECIPES)
    for name, svc in _airflow_services().items():
        assert {k: svc["environment"][k] for k in chosen} == {k: env[k] for k in chosen}, name


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
    # as compose resolves it: minio-init creates the bucket every Airflow service writes the lake to
    run = subprocess.run([exe, "--env-file", str(env), "-f", str(ROOT / "docker-compose.yaml"), "config"],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    resolved = yaml.safe_load(run.stdout)["services"]
    bucket = resolved["minio-init"]["environment"]["SKILLMATCH_LAKE_BUCKET"]
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-worker"):
        assert resolved[name]["environment"]["SKILLMATCH_DATA_DIR"] == f"s3://{bucket}/lake", name
        assert resolved[name]["environment"]["AWS_ENDPOINT_URL"] == "http://minio:9000", name
    # and without the secrets it refuses, naming the missing one
    empty = tmp_path / "empty.env"
    empty.write_text("")
    run = subprocess.run([exe, "--env-file", str(empty), "-f", str(ROOT / "docker-compose.yaml"), "config", "-q"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode != 0 and "PASSWORD in .env" in run.stderr
