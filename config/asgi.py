"""ASGI entry point: HTTP through Django, websockets through Channels.

The Django ASGI app is built before anything imports models (websocket routing does); its
handler keeps request threads between requests (config/asgi_handler.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from config.asgi_handler import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.garbage_collection import freeze_startup_objects  # noqa: E402
from data_processing.metrics import CountWebsockets  # noqa: E402
from data_processing.routing import websocket_urlpatterns  # noqa: E402
from data_processing.ws_auth import websocket_auth_stack  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": CountWebsockets(websocket_auth_stack(URLRouter(websocket_urlpatterns))),
    }
)
freeze_startup_objects()
