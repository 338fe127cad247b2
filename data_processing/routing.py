from django.urls import path

from .consumers import JobStatusConsumer

websocket_urlpatterns = [
    path("ws/tasks/status/", JobStatusConsumer.as_asgi()),
]
