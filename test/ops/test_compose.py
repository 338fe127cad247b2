"""docker-compose.backend.yml, the Dockerfile and .env.example, checked without Docker (these
machines have none): every variable is documented, every command runs something that exists
here, the workers consume exactly the queues tasks are routed to, and Redis can only evict
cached results, never queued jobs."""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from celery import Celery
from django.conf import settings
from stack_commands import make_run_worker_options

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.backend.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
SETTINGS_DIR = ROOT / "config" / "settings"

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}; "$${" is an escaped "$".
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[-?])([^}]*))?\}")
BARE_VARIABLE = re.compile(r"(?<!\$)\$(?![{$])[A-Za-z_]")
DOCUMENTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")
WORKER_SERVICES = ("celeryworker", "celeryworker-exports")


# --- Readers -------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def strings_in(node: Any) -> Iterator[str]:
    """Every string in the parsed compose file, keys included (comments are gone by then)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def compose_variables() -> set[str]:
    return {match.group(1) for text in strings_in(compose()) for match in VARIABLE.finditer(text)}


def documented_variables() -> dict[str, str]:
    """``{NAME: default}`` for every ``NAME=`` or ``# NAME=`` line of .env.example."""
    documented = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = DOCUMENTED.match(line)
        if match:
            documented[match.group(1)] = match.group(2)
    return documented


def env_calls(path: Path) -> Iterator[ast.Call]:
    """Calls such as env("X"), env.int("X", default=1), env.db("X") in a settings module."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield node


def settings_variables() -> set[str]:
    return {call.args[0].value for path in SETTINGS_DIR.glob("*.py") for call in env_calls(path)}  # type: ignore[attr-defined]


def literal_default(call: ast.Call) -> str | None:
    """The default as .env.example would spell it, when it is a literal (None otherwise)."""
    for keyword in call.keywords:
        if keyword.arg != "default":
            continue
        value = keyword.value
        if isinstance(value, ast.Constant):
            return str(value.value)
        if isinstance(value, ast.List) and all(isinstance(item, ast.Constant) for item in value.elts):
            return ",".join(str(item.value) for item in value.elts)  # type: ignore[attr-defined]
    return None


def resolve(text: str, environ: dict[str, str] | None = None) -> str:
    """Interpolate like docker compose, from ``environ`` and then the defaults in the file."""
    environ = environ or {}

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        if environ.get(name):
            return environ[name]
        if default is None or match.group(2).lstrip(":").startswith("?"):
            raise AssertionError(f"{name} has no default in {text!r}")
        return default

    return VARIABLE.sub(substitute, text).replace("$$", "$")


def command_of(service: str) -> list[str]:
    command = services()[service].get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def option(args: list[str], *names: str) -> str:
    for index, arg in enumerate(args):
        if arg in names:
            return args[index + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(f"{name}="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"none of {names} in {args}")


def known_queues() -> set[str]:
    from data_processing.registry import job_kinds

    return {settings.CELERY_TASK_DEFAULT_QUEUE} | {spec.queue for spec in job_kinds()}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def copied_paths() -> list[str]:
    """Sources of every COPY (not COPY --from=another-stage)."""
    sources = []
    for keyword, arguments in dockerfile_instructions():
        if keyword != "COPY":
            continue
        parts = [part for part in shlex.split(arguments) if not part.startswith("--")]
        if arguments.startswith("--from"):
            continue
        sources.extend(part.rstrip("/") or "." for part in parts[:-1])
    return sources


def is_copied(path: str) -> bool:
    return any(path == source or path.startswith(f"{source}/") or source == "." for source in copied_paths())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- .env.example ----------------------------------------------------------------------------------


def test_every_variable_the_settings_read_is_in_env_example():
    missing = settings_variables() - set(documented_variables())

    assert not missing, f"add to .env.example (with its default and meaning): {sorted(missing)}"


def test_every_variable_the_compose_file_uses_is_in_env_example():
    missing = compose_variables() - set(documented_variables())

    assert not missing, f"add to .env.example (with its default and meaning): {sorted(missing)}"


def test_the_compose_file_writes_every_variable_in_braces():
    bare = [text for text in strings_in(compose()) if BARE_VARIABLE.search(text)]

    assert not bare, f"use ${{VAR}} (or $$ for a literal $): {bare}"


def test_env_example_documents_each_variable_with_a_meaning_and_documents_nothing_unused():
    lines = ENV_EXAMPLE.read_text().splitlines()
    undescribed = [
        match.group(1)
        for index, line in enumerate(lines)
        if (match := DOCUMENTED.match(line))
        and (index == 0 or not lines[index - 1].startswith("# ") or DOCUMENTED.match(lines[index - 1]))
    ]
    scripts = " ".join(path.read_text() for path in (ROOT / "bin").iterdir() if path.is_file())
    used = settings_variables() | compose_variables() | {"DJANGO_SETTINGS_MODULE"}
    unused = [name for name in documented_variables() if name not in used and name not in scripts]

    assert not undescribed, f"give each a one-line comment above it: {undescribed}"
    assert not unused, f"documented in .env.example but read nowhere: {unused}"


def test_env_example_states_the_defaults_the_base_settings_use():
    documented = documented_variables()
    wrong = {}
    for call in env_calls(SETTINGS_DIR / "base.py"):
        name, default = call.args[0].value, literal_default(call)  # type: ignore[attr-defined]
        if default is not None and documented.get(name) != default:
            wrong[name] = (documented.get(name), default)

    assert not wrong, f".env.example says / settings default: {wrong}"


def test_copying_env_example_to_env_changes_nothing():
    # Every line is a comment: `make run` and the tests must behave the same with or without it.
    active = [line for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#")]

    assert active == []


# --- Compose: services and their dependencies --------------------------------------------------------


def test_the_stack_has_the_services_of_the_spec():
    assert set(services()) >= {
        "postgres",
        "redis",
        "rabbitmq",
        "migrate",
        "backend",
        "celeryworker",
        "celeryworker-exports",
        "celerybeat",
        "flower",
    }
    assert services()["postgres"]["image"].startswith("postgres:16")
    assert services()["rabbitmq"]["image"] == "rabbitmq:3-management"
    assert any(str(port).endswith(":15672") for port in services()["rabbitmq"]["ports"])


@pytest.mark.parametrize("service", ["postgres", "redis", "rabbitmq", "backend"])
def test_the_service_has_a_healthcheck(service):
    healthcheck = services()[service]["healthcheck"]

    assert healthcheck["test"]
    assert healthcheck.get("disable") is not True


def test_services_wait_for_what_they_depend_on_to_be_healthy():
    all_services = services()
    for name, service in all_services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, spec in depends_on.items():
            condition = spec["condition"]
            assert dependency in all_services, f"{name} depends on unknown {dependency}"
            if condition == "service_healthy":
                assert "healthcheck" in all_services[dependency], f"{dependency} has no healthcheck"
            else:
                assert condition == "service_completed_successfully", f"{name} -> {dependency}"
                assert all_services[dependency].get("restart") == "no", f"{dependency} is not one-shot"
    for name in ("backend", "celerybeat", *WORKER_SERVICES):
        conditions = {dep: spec["condition"] for dep, spec in all_services[name]["depends_on"].items()}
        assert conditions["postgres"] == conditions["redis"] == "service_healthy", name
        assert conditions["migrate"] == "service_completed_successfully", name


def test_migrations_run_once_in_a_one_shot_service():
    assert command_of("migrate")[:3] == ["python", "manage.py", "migrate"]
    assert services()["migrate"]["restart"] == "no"


@pytest.mark.parametrize("service", WORKER_SERVICES)
def test_workers_can_be_scaled(service):
    # A fixed container name or host port would stop `--scale celeryworker=3` at the second replica.
    assert "container_name" not in services()[service]
    assert "ports" not in services()[service]
    # Each replica names itself after its container, so Flower and `inspect` tell them apart.
    assert option(command_of(service), "-n", "--hostname").endswith("@%h")


def test_flower_is_a_monitoring_extra_behind_basic_auth():
    flower = services()["flower"]

    assert flower["profiles"] == ["monitoring"]
    assert command_of("flower")[0] == "bin/flower"
    assert os.access(ROOT / "bin" / "flower", os.X_OK)
    assert "FLOWER_BASIC_AUTH" in flower["environment"]
    assert "FLOWER_UNAUTHENTICATED" not in flower["environment"]


def test_prometheus_is_a_monitoring_extra_scraping_the_backend_with_the_metrics_token():
    prometheus = services()["prometheus"]
    config_mount = next(v for v in prometheus["volumes"] if v.endswith(":/etc/prometheus/prometheus.yml:ro"))
    config = yaml.safe_load((ROOT / config_mount.split(":")[0]).read_text())
    (job,) = config["scrape_configs"]

    assert prometheus["profiles"] == ["monitoring"]
    assert prometheus["image"].startswith("prom/prometheus:v")  # pinned, not :latest
    assert option(prometheus["command"], "--config.file") == "/etc/prometheus/prometheus.yml"
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["backend:3200"]
    assert job["authorization"]["type"] == "Bearer"
    # The token reaches Prometheus as a secret file, from the variable the backend checks.
    assert prometheus["secrets"] == ["metrics_token"]
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert compose()["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    # Django must answer the Host header the scraper sends.
    hosts = resolve(services()["backend"]["environment"]["DJANGO_ALLOWED_HOSTS"]).split(",")
    assert "backend" in hosts and "127.0.0.1" in hosts


def test_every_app_process_writes_its_metrics_to_the_shared_directory():
    # The backend's /metrics merges what the workers' processes wrote: same volume, same root.
    for name in ("backend", "celerybeat", *WORKER_SERVICES):
        assert services()[name]["environment"]["METRICS_DIRECTORY"] == "/app/var/metrics", name
        assert "media:/app/var" in services()[name]["volumes"], name


def test_beat_reads_its_schedule_from_the_database():
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
    args = command_of("celerybeat")
    # A -S or --schedule file on the command line would override or mislead.
    assert not {"-S", "--scheduler", "-s", "--schedule"} & set(args)


def test_only_one_beat_runs():
    beats = [name for name in services() if "beat" in command_of(name)[:4]]

    assert beats == ["celerybeat"]


def test_app_services_share_the_export_volume():
    # The exports worker writes the CSV, the backend serves it, beat's cleanup job (on the
    # interactive worker) deletes it: all must see the same directory.
    for name in ("backend", "celerybeat", *WORKER_SERVICES):
        assert "media:/app/var" in services()[name]["volumes"], name
        assert services()[name]["environment"]["MEDIA_ROOT"] == "/app/var", name


# --- Compose: the commands run things that exist ------------------------------------------------------


def test_redis_can_evict_only_cached_results():
    args = [resolve(arg) for arg in command_of("redis")]
    raw = command_of("redis")

    assert option(args, "--maxmemory-policy") == "volatile-lru"
    assert option(raw, "--maxmemory").startswith("${REDIS_MAX_MEMORY")
    assert option(args, "--maxmemory") == "512mb"


def test_celery_commands_use_the_project_celery_app():
    for name in ("celerybeat", *WORKER_SERVICES):
        args = command_of(name)
        assert args[0] == "celery", name
        module = option(args, "-A", "--app")
        assert isinstance(importlib.import_module(module).celery_app, Celery), name


def test_the_workers_run_with_the_options_make_run_gives_its_own():
    # No gossip, no mingle: bin/run-stack says why, and the fault tests show what it spares.
    options = set(make_run_worker_options())
    for name in WORKER_SERVICES:
        assert options <= set(command_of(name)), name


def test_the_workers_consume_exactly_the_queues_tasks_are_routed_to():
    consumed: set[str] = set()
    for name in WORKER_SERVICES:
        queues = set(option(command_of(name), "-Q", "--queues").split(","))
        assert queues <= known_queues(), f"{name} consumes a queue no task is routed to: {queues}"
        consumed |= queues

    assert consumed == known_queues(), "every routed queue needs a worker service"
    assert option(command_of("celeryworker"), "-Q", "--queues") == settings.CELERY_TASK_DEFAULT_QUEUE
    assert option(command_of("celeryworker"), "-c", "--concurrency").startswith("${CELERY_WORKER_CONCURRENCY")


@pytest.mark.parametrize("service", ["celerybeat", *WORKER_SERVICES])
def test_the_celery_command_line_parses(service):
    # Click rejects an unknown option before it acts on --help, so this checks every option.
    args = [resolve(arg) for arg in command_of(service)]
    result = subprocess.run(
        [sys.executable, "-m", *args, "--help"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr[-2000:]


def test_the_backend_serves_the_asgi_app_with_gunicorn_and_uvicorn_workers():
    args = command_of("backend")
    module_name, _, attribute = args[1].partition(":")

    assert args[0] == "gunicorn"
    assert (module_name, attribute) == ("config.asgi", "application")
    assert callable(getattr(importlib.import_module(module_name), attribute))
    worker_module, _, worker_class = option(args, "-k", "--worker-class").rpartition(".")
    assert hasattr(importlib.import_module(worker_module), worker_class)
    assert option(args, "-b", "--bind") == "0.0.0.0:3200"
    assert option(args, "-w", "--workers").startswith("${WEB_CONCURRENCY")
    assert any(str(port).endswith(":3200") for port in services()["backend"]["ports"])


@pytest.mark.integration
def test_the_backend_command_really_serves_the_health_endpoint():
    port = _free_port()
    args = [resolve(arg, {"WEB_CONCURRENCY": "1"}) for arg in command_of("backend")]
    args[args.index(option(args, "-b", "--bind"))] = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_REDIS_URL": settings.REDIS_URL,
        "TEST_CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body, status = None, None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health/", timeout=5) as response:
                    status, body = response.status, json.load(response)
                break
            except urllib.error.HTTPError as error:
                status, body = error.code, json.load(error)
                break
            except OSError:
                time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")

    # 503 is a fine answer here: no worker listens; the server itself is what is under test.
    assert status in (200, 503), output[-3000:]
    assert set(body["checks"]) == {"database", "redis", "broker", "workers"}


# --- Dockerfile -------------------------------------------------------------------------------------


def test_the_image_is_python_311_slim_running_as_a_non_root_user():
    instructions = dockerfile_instructions()
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]

    assert [a for k, a in instructions if k == "FROM"] == ["python:3.11-slim"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_everything_the_dockerfile_copies_exists_and_is_not_dockerignored():
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    for source in copied_paths():
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        assert source.split("/")[0] not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_the_image_holds_every_app_template_dir_and_requirement_it_needs():
    local_apps = [app for app in settings.INSTALLED_APPS if (ROOT / app.split(".")[0]).is_dir()]
    template_dirs = [
        Path(directory).relative_to(ROOT).as_posix()
        for engine in settings.TEMPLATES
        for directory in engine["DIRS"]
        if Path(directory).is_dir()
    ]
    for path in ["manage.py", "config", *local_apps, *template_dirs]:
        assert is_copied(path), f"the image lacks {path}: COPY it in the Dockerfile"

    installs = [a for k, a in dockerfile_instructions() if k == "RUN" and "pip install" in a]
    assert any("-r requirements/production.txt" in run for run in installs)
    pending, seen = ["requirements/production.txt"], set()
    while pending:
        requirement = pending.pop()
        seen.add(requirement)
        assert is_copied(requirement), f"the image lacks {requirement}"
        for line in (ROOT / requirement).read_text().splitlines():
            if line.startswith("-r "):
                included = f"requirements/{line.split()[1]}"
                if included not in seen:
                    pending.append(included)


def test_the_image_collects_static_files_and_keeps_secrets_out():
    runs = " ".join(a for k, a in dockerfile_instructions() if k == "RUN")
    ignored = DOCKERIGNORE.read_text().splitlines()

    assert "manage.py collectstatic --noinput" in runs
    assert {".env", ".git", ".venv"} <= set(ignored)


def test_collectstatic_works_with_the_production_settings_as_in_the_build():
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "REDIS_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY="collectstatic-only")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
