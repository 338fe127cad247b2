from django.urls import path, re_path

from .consumers import JobStatusConsumer, UnknownSocketPath

websocket_urlpatterns = [
    path("ws/tasks/status/", JobStatusConsumer.as_asgi()),
    # Last: any other path is refused at the handshake; without it Channels' router raises,
    # and the server answers 500 and logs a traceback for what is only a wrong URL.
    re_path(r"", UnknownSocketPath.as_asgi()),
]
