"""``ws/tasks/status/``: live updates of the caller's own jobs.

On connect the socket joins its user's group, so every update of that user's jobs reaches
it. ``{"action": "subscribe", "task_id"}`` answers at once with the job's current state, so
a job that finished before the client subscribed is never missed.
"""

from __future__ import annotations

import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .events import job_event, user_group
from .models import Job


class JobStatusConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            # Closing before accepting refuses the handshake (HTTP 403): a close code could
            # never reach the client, so none is given.
            await self.close()
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action == "subscribe":
            await self.subscribe(content.get("task_id"))
        elif action == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json(
                {
                    "type": "error",
                    "code": "unknown_action",
                    "message": 'Send {"action": "subscribe", "task_id"}.',
                }
            )

    async def subscribe(self, task_id: Any) -> None:
        job = await self._own_job(task_id)
        if job is None:
            await self.send_json(
                {
                    "type": "error",
                    "code": "job_not_found",
                    "task_id": str(task_id)[:64],
                    "message": "No job of yours has this task_id.",
                }
            )
            return
        await self.send_json(job_event(job))

    async def task_update(self, event: dict[str, Any]) -> None:
        """Handler of "task.update" events published by data_processing.events."""
        await self.send_json(event)

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
