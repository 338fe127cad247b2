"""``ws/tasks/status/``: live updates of the caller's own jobs.

On connect the socket joins its user's group, so every update of that user's jobs reaches
it. ``{"action": "subscribe", "task_id"}`` answers at once with the job's current state, so
a job that finished before the client subscribed is never missed. The live SUCCESS update
of a job that computed its answer carries that answer as "data" when it is small
(``JOB_UPDATE_RESULT_MAX_BYTES``); otherwise, and on a subscribe answer, the client reads it
from tasks/result/.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from config.errors import ApplicationError, count_error, error_body

from . import socket_limits
from .events import ANSWER_FIELD, job_event, user_group
from .exceptions import TooManySockets
from .models import Job
from .ws_auth import TOKEN_SUBPROTOCOL

logger = logging.getLogger(__name__)

# Our messages are a few dozen bytes; a client sending more is confused or hostile.
MAX_FRAME_CHARS = 4096
# The ASGI extension that lets an application refuse a handshake with a response of its own.
_DENIAL_RESPONSE = "websocket.http.response"


class JobStatusConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    counted_for: int | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # However the socket ends (a close frame, a dropped connection, a server shutdown, a
        # bug in a handler), the user's group is left and the socket's place given back: a
        # stale member would be sent every update of that user's jobs for as long as the
        # channel layer remembers it, and a place never given back would lock the user out.
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._let_go()

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Closing before accepting refuses the handshake (HTTP 403): a close code could
            # never reach the client, so none is given.
            await self.close()
            return
        if not socket_limits.claim(user.pk):
            limit = settings.WEBSOCKET_MAX_PER_USER
            await self.refuse(
                TooManySockets(
                    f"You already have {limit} status websockets open here, the most allowed "
                    "(WEBSOCKET_MAX_PER_USER). Close one: a single socket receives every "
                    "update of all your jobs."
                )
            )
            return
        self.counted_for = user.pk
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # A client that sent its token as a subprotocol must get that subprotocol back.
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=TOKEN_SUBPROTOCOL if TOKEN_SUBPROTOCOL in offered else None)

    async def refuse(self, error: ApplicationError) -> None:
        """Refuse the handshake with the error's status and body in the one error shape, where
        the server offers the denial response extension (uvicorn does); elsewhere a plain 403."""
        count_error(error.code)
        if _DENIAL_RESPONSE not in (self.scope.get("extensions") or {}):
            await self.close()
            return
        body = json.dumps(error_body(error.code, error.message)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await self.base_send(
            {"type": "websocket.http.response.start", "status": error.status_code, "headers": headers}
        )
        await self.base_send({"type": "websocket.http.response.body", "body": body})

    async def disconnect(self, code: int) -> None:
        await self._let_go()

    async def _let_go(self) -> None:
        user_id, self.counted_for = self.counted_for, None
        if user_id is not None:
            socket_limits.release(user_id)
        group, self.group = self.group, None
        if group is not None:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Bad frames get an error message and the socket lives on."""
        if text_data is None:
            await self.send_error("invalid_frame", "Send text frames holding JSON, not binary frames.")
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.send_error("invalid_frame", f"Frames are at most {MAX_FRAME_CHARS} characters.")
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):
            await self.send_error("invalid_json", 'Not JSON. Send {"action": "subscribe", "task_id"}.')
            return
        try:
            await self.receive_json(content, **kwargs)
        except Exception:
            logger.exception("Websocket message handler failed")
            await self.send_error("server_error", "Internal server error.")

    async def send_error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action == "subscribe":
            await self.subscribe(content.get("task_id"))
        elif action == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_error("unknown_action", 'Send {"action": "subscribe", "task_id"}.')

    async def subscribe(self, task_id: Any) -> None:
        job = await self._own_job(task_id)
        if job is None:
            message = "No job of yours has this task_id."
            await self.send_error("job_not_found", message, task_id=str(task_id)[:64])
            return
        await self.send_json(job_event(job))

    async def task_update(self, event: dict[str, Any]) -> None:
        """Handler of "task.update" events published by data_processing.events."""
        answer_json = event.get(ANSWER_FIELD)
        if answer_json is None:
            await self.send_json(event)
            return
        fields = {name: value for name, value in event.items() if name != ANSWER_FIELD}
        # The answer is JSON already, as the worker cached it: spliced in as "data" rather
        # than decoded and encoded again (tens of kilobytes, on the event loop).
        head = await self.encode_json(fields)
        await self.send(text_data=f'{head[:-1]},"data":{answer_json}}}')

    async def saved_search_news(self, event: dict[str, Any]) -> None:
        """Handler of "saved_search.news" events: a saved search's run found new contracts."""
        await self.send_json(event)

    @database_sync_to_async
    def _own_job(self, task_id: Any) -> Job | None:
        try:
            job_id = uuid.UUID(str(task_id))
        except ValueError:
            return None
        return Job.objects.filter(id=job_id, owner=self.scope["user"]).first()


class UnknownSocketPath(AsyncJsonWebsocketConsumer):
    """A websocket path nothing serves: refused at the handshake (the server answers 403)."""

    async def connect(self) -> None:
        await self.close()
