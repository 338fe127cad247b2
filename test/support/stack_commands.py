"""The command lines `make run` starts, read from bin/run-stack itself, for tests that start
the same processes on their own ports and brokers."""

from __future__ import annotations

import functools
import importlib.util
import shlex
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_script(path: Path, name: str) -> ModuleType:
    """A Python file run afresh as a module (``bin/run-stack`` has no .py to import by)."""
    spec = importlib.util.spec_from_loader(name, SourceFileLoader(name, str(path)))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def run_stack() -> ModuleType:
    """bin/run-stack, loaded once: its commands read the environment when called, not here."""
    return load_script(ROOT / "bin" / "run-stack", "run_stack")


def make_run_web_command(port: int) -> list[str]:
    """The web process of bin/run-stack's Procfile."""
    return shlex.split(run_stack().web_command(str(port)))


def make_run_worker_command(queue: str, concurrency: int = 1) -> list[str]:
    """A worker process of bin/run-stack's Procfile."""
    return shlex.split(run_stack().worker_command(queue, str(concurrency)))


def make_run_worker_options() -> list[str]:
    """What bin/run-stack starts every worker with besides its queue, concurrency and name."""
    return shlex.split(run_stack().WORKER_OPTIONS)
