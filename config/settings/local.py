"""Settings for `make run` and development: debug on, everything else from the environment."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# Static files come straight from the apps (WHITENOISE_USE_FINDERS); nothing is collected,
# so there is no STATIC_ROOT for WhiteNoise to look for (and warn about) at every start.
STATIC_ROOT = None
