"""gunicorn's settings for the web server of the image and compose (``--config config/gunicorn.py``).

The command lines give the bind address, worker class and worker count; this file holds
what needs its reason beside it.
"""

import os

# How long a kept-alive connection may sit idle. Longer than any wait the API asks for (a
# 429's Retry-After: at most 60 s, from the active-job limit or a per-minute rate): a client
# that waits one out and sends again on its connection must not find the server closing it
# as the request goes out, which loses the request with a reset. Above the usual 60 s idle
# timeout of a load balancer too, so the balancer, not this server, closes idle connections.
# gunicorn's own default is 2 s; make run's uvicorn takes the same variable (bin/run-stack).
keepalive = int(os.environ.get("WEB_KEEP_ALIVE_SECONDS", "65"))
