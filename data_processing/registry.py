"""The job-kind registry: a kind is declared once here and everything else derives from it.

A declaration (:class:`JobKindSpec`) names the kind, its label, the serializer that
validates a request, the runner that computes the answer, the Celery queue it runs on, its
cache-key prefix and whether its results belong to one user. From it come the submit
routes and their OpenAPI operations (``urls.py``), the queue a job is sent to
(``services.job_enqueue``), the one Celery task that runs any job (``tasks.py``), the list
the dashboard reads (``GET kinds/``) and the beat job that keeps default answers warm.

This module imports nothing of the app, so models, services and tasks can all use it.
The built-in kinds are declared in ``kinds.py``; settings may list more
(``EXTRA_JOB_KINDS``, dotted paths to declarations), which the tests use to prove that a
new kind needs nothing but its declaration and its selector.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from config.validation import validated_data

ProgressCallback = Callable[[int, int, str], None]


@dataclass
class RunContext:
    """What a runner may know of the job it computes for.

    ``job_id`` is None when beat warms the cache (no job exists); a runner that needs one
    (it writes a file named after the job) is not warmed. A runner that leaves a file
    behind says so with :meth:`keep_file`; the services record it on the job row.
    ``attempt`` tells this run from another of the same job (the job's attempts counted
    by its claim), so that two runs never write the same temporary file.
    """

    job_id: str | None
    on_progress: ProgressCallback
    attempt: int = 0
    result_file: str = ""

    def keep_file(self, name: str) -> None:
        self.result_file = name

    def owning_job_id(self) -> str:
        """The job a file-writing runner names its file after; warming has none to give."""
        if self.job_id is None:
            raise ValueError("A runner that writes a file needs its job; it cannot run without one.")
        return self.job_id


Runner = Callable[[dict[str, Any], RunContext], Any]


def selector_runner(selector: Callable[..., Any]) -> Runner:
    """A runner that calls ``selector`` with the validated request and the job's progress."""

    def run(params: dict[str, Any], context: RunContext) -> Any:
        return selector(**params, on_progress=context.on_progress)

    return run


def _ignore_progress(done: int, total: int, message: str) -> None:
    return None


@dataclass(frozen=True)
class JobKindSpec:
    """One kind of asynchronous job."""

    name: str  # stored on the job row and reported as ``kind``
    label: str  # what a person reads ("Entity table")
    slug: str  # the submit URL is ``tasks/<slug>/``
    request_serializer: type[serializers.Serializer]
    runner: Runner
    summary: str  # the submit operation's one-line OpenAPI summary
    queue: str = "interactive"
    cache_prefix: str = ""  # defaults to the name
    # Results that belong to one user (an export file) are cached per user.
    per_user: bool = False
    # Jobs of this kind leave a file to download (``tasks/<id>/download/``).
    writes_file: bool = False
    # Requests beat keeps computed in the cache: what the dashboard asks for first.
    warm_payloads: tuple[dict[str, Any], ...] = ()
    # Older names still accepted from clients: URL slugs and ``kind`` values.
    slug_aliases: tuple[str, ...] = ()
    name_aliases: tuple[str, ...] = ()
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prefix", self.cache_prefix or self.name)

    def parse(self, payload: Any) -> dict[str, Any]:
        """Validated arguments for the runner; raises a DRF ValidationError (a 400) on bad input."""
        return validated_data(self.request_serializer, payload)

    def run(self, params: dict[str, Any], context: RunContext | None = None) -> Any:
        return self.runner(params, context or RunContext(job_id=None, on_progress=_ignore_progress))


_KINDS: dict[str, JobKindSpec] = {}
_ALIASES: dict[str, str] = {}
# Fixed routes under tasks/ that no kind's slug may take.
_RESERVED_SLUGS = frozenset({"status", "result"})


def register(spec: JobKindSpec) -> JobKindSpec:
    """Add a kind; its name, aliases and slugs must not clash with another kind's or a route."""
    taken = {*_KINDS, *_ALIASES} & {spec.name, *spec.name_aliases}
    slugs = {s for other in _KINDS.values() for s in (other.slug, *other.slug_aliases)} | _RESERVED_SLUGS
    if taken or slugs & {spec.slug, *spec.slug_aliases}:
        raise ValueError(f"Job kind {spec.name!r} clashes with a registered kind.")
    _KINDS[spec.name] = spec
    _ALIASES.update(dict.fromkeys(spec.name_aliases, spec.name))
    return spec


def job_kinds() -> tuple[JobKindSpec, ...]:
    return tuple(_KINDS.values())


def kind_names() -> list[str]:
    """Every name a kind answers to: each registered name, then its old aliases."""
    return [name for spec in _KINDS.values() for name in (spec.name, *spec.name_aliases)]


def canonical_kind(name: str) -> str | None:
    """The registered name for ``name`` or one of its old aliases; None if unknown."""
    name = _ALIASES.get(name, name)
    return name if name in _KINDS else None


def job_kind(name: str) -> JobKindSpec:
    canonical = canonical_kind(name)
    if canonical is None:
        raise KeyError(f"Unknown job kind {name!r}")
    return _KINDS[canonical]


def validate_job_kind(value: str) -> None:
    """Model-field validator: the stored kind must be a registered name."""
    if value not in _KINDS:
        raise DjangoValidationError(f"{value!r} is not a registered job kind.")
