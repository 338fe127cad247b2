"""A Redis mirror of each job's state, so polls are answered without the ORM or a thread hop.

The Job row stays the source of truth. Every transition in services.py (and each progress
write) copies the row's state here after its conditional update succeeded; the async status
and result views read it back in one round trip. Whatever this mirror lacks (Redis restarted
or evicted the key, a job older than the mirror) is read from the database and written back,
so a Redis restart never turns a known job into a 404.

Two writers can race (a cancel and a progress write, a read-through and the worker): the Lua
script keeps a terminal state once written and otherwise keeps the newest ``updated_at``, so
the mirror never goes back in time. A mirror write that fails (Redis down) is logged and
skipped; the views distrust an active job's entry once ``JOB_STATE_STALE_SECONDS`` have passed
since it was last checked against the row (written by a transition, or read back by a view),
and read the row again. Counted from that check, not from the job's last change: a job that
waits long in the queue, or runs long between progress writes, costs its pollers one row read
a period, not one a poll.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.utils import timezone
from redis.client import Pipeline

from . import multiplexed_redis
from .models import ACTIVE_STATES, Job
from .result_cache import redis_client

logger = logging.getLogger(__name__)

# KEYS[1] the job's hash. ARGV: ttl, terminal ("1"/"0"), version (updated_at in µs), the
# snapshot as JSON. A terminal state is final in the database, so it is final here too.
# Sent as EVAL inside the pipeline: redis-py's registered Script adds a SCRIPT EXISTS round
# trip to every pipeline that carries it, and the script is small.
_WRITE_LUA = """
local stored_terminal = redis.call('HGET', KEYS[1], 'terminal')
if stored_terminal == '1' and ARGV[2] == '0' then return 0 end
if stored_terminal == '0' and ARGV[2] == '0' then
  local stored_version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
  if stored_version > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], 'terminal', ARGV[2], 'version', ARGV[3], 'data', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""

_DATETIMES = ("created_at", "started_at", "completed_at", "updated_at", "checked_at")
_FIELDS = ("owner_id", "kind", "state", "message", "progress", "cache_key", "error", "attempts", *_DATETIMES)


def job_key(job_id: str) -> str:
    return f"jobs:state:{job_id}"


def latest_key(owner_id: int, cache_key: str) -> str:
    """The id of the owner's newest job for a cache key: what tasks/result/ answers about."""
    return f"jobs:latest:{owner_id}:{cache_key}"


@dataclass(frozen=True)
class JobSnapshot:
    """The fields of a Job that status documents and result answers need, from either store."""

    id: str
    owner_id: int
    kind: str
    state: str
    message: str
    progress: int
    cache_key: str
    error: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    # When this state was last read from the row or written with it (None in an entry
    # mirrored before the field existed: then ``updated_at``).
    checked_at: datetime | None = None

    @classmethod
    def of(cls, job: Job) -> JobSnapshot:
        return cls(
            id=str(job.id),
            owner_id=job.owner_id,
            kind=job.kind,
            state=job.state,
            message=job.message,
            progress=job.progress,
            cache_key=job.cache_key,
            error=job.error,
            attempts=job.attempts,
            created_at=job.created_at,
            started_at=job.started_at,
            completed_at=job.completed_at,
            updated_at=job.updated_at or timezone.now(),
            checked_at=timezone.now(),
        )

    @classmethod
    def from_json(cls, job_id: str, data: bytes) -> JobSnapshot:
        # Only the fields this code knows: during a rolling deploy, an entry written by the
        # next version of it may carry more; one written by the version before has no
        # ``checked_at``.
        stored = json.loads(data)
        plain = {name: stored[name] for name in _FIELDS if name in stored}
        for name in _DATETIMES:
            plain[name] = datetime.fromisoformat(plain[name]) if plain.get(name) else None
        return cls(id=job_id, **plain)

    def to_json(self) -> str:
        plain = {name: getattr(self, name) for name in _FIELDS}
        for name in _DATETIMES:
            plain[name] = plain[name].isoformat() if plain[name] else None
        return json.dumps(plain, separators=(",", ":"))

    @property
    def is_terminal(self) -> bool:
        return self.state not in ACTIVE_STATES

    def is_stale(self) -> bool:
        """An active job not checked against its row for a while: re-read the row, in case a
        mirror write was lost while Redis was unreachable."""
        age = (timezone.now() - (self.checked_at or self.updated_at)).total_seconds()
        return not self.is_terminal and age > settings.JOB_STATE_STALE_SECONDS


def _write_args(snapshot: JobSnapshot) -> list[str]:
    version = str(int(snapshot.updated_at.timestamp() * 1_000_000))
    terminal = "1" if snapshot.is_terminal else "0"
    return [str(settings.JOB_STATE_CACHE_SECONDS), terminal, version, snapshot.to_json()]


def mirror_job(job: Job, *, newest: bool = False) -> None:
    """Copy a job's state to Redis after a transition; ``newest`` when the job was just
    created, so tasks/result/ now means this one. Never fails the caller."""
    try:
        with redis_client().pipeline(transaction=False) as pipe:
            mirror_into(pipe, job, newest=newest)
            pipe.execute()
    except redis.RedisError as exc:
        logger.warning("Could not mirror job %s to Redis: %s", job.id, type(exc).__name__)


def mirror_into(pipe: Pipeline, job: Job, *, newest: bool = False) -> None:
    """Add ``mirror_job``'s writes to ``pipe``, for a caller that sends more with them."""
    snapshot = JobSnapshot.of(job)
    pipe.eval(_WRITE_LUA, 1, job_key(snapshot.id), *_write_args(snapshot))
    if newest:
        key = latest_key(snapshot.owner_id, snapshot.cache_key)
        pipe.set(key, snapshot.id, ex=settings.JOB_STATE_CACHE_SECONDS)


# --- The async side: one multiplexed connection per event loop -------------------------------
# Polls read here; redis-py's pooled client cost more CPU per command than the rest of a poll
# (data_processing/multiplexed_redis.py says why and by how much).


def async_client() -> multiplexed_redis.MultiplexedRedis:
    return multiplexed_redis.for_this_loop(settings.REDIS_URL, timeout=5)


async def amirror(snapshot: JobSnapshot, *, newest: bool = False) -> None:
    """Write back what a read found in the database; ``newest`` only if nobody set it since."""
    write = ("EVAL", _WRITE_LUA, 1, job_key(snapshot.id), *_write_args(snapshot))
    commands: list[tuple[str | int, ...]] = [write]
    if newest:
        key = latest_key(snapshot.owner_id, snapshot.cache_key)
        commands.append(("SET", key, snapshot.id, "NX", "EX", settings.JOB_STATE_CACHE_SECONDS))
    try:
        await async_client().execute_many(*commands)
    except redis.RedisError as exc:
        logger.warning("Could not mirror job %s to Redis: %s", snapshot.id, type(exc).__name__)


async def aget(job_id: str) -> JobSnapshot | None:
    """The mirrored job, or None when Redis does not have it (or cannot be reached)."""
    data = await aget_mirrored(job_id)
    return JobSnapshot.from_json(job_id, data) if data else None


async def aget_mirrored(job_id: str) -> bytes | None:
    """The mirrored job as stored (``JobSnapshot.from_json`` reads it), or None when Redis
    does not have it (or cannot be reached). Equal bytes are an equal state."""
    try:
        return await async_client().execute("HGET", job_key(job_id), "data")
    except redis.RedisError as exc:
        logger.warning("Job state mirror unavailable: %s", type(exc).__name__)
        return None


async def alatest_with_result(owner_id: int, cache_key: str) -> tuple[str | None, bytes | None]:
    """The id of the owner's newest job for a cache key (None when not mirrored) and the
    cached result, in one round trip. A Redis fault propagates: without Redis there is no
    result to serve."""
    latest = ("GET", latest_key(owner_id, cache_key))
    job_id, raw = await async_client().execute_many(latest, ("GET", cache_key))
    return (job_id.decode() if job_id else None), raw
