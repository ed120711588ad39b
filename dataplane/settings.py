"""Django settings of a data-plane process: no ORM apps, only the HTTP and WebSocket surface.

Deployment settings are not here: they are read by dataplane/config.py, one DeploymentApp
each (a process may serve several). Nothing in the data plane signs with Django's key.
"""

import os
import secrets

SECRET_KEY = secrets.token_hex(32)
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["daphne", "channels", "dataplane"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "dataplane.http.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024 * 1024
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("STRATA_LOG_LEVEL", "INFO")},
}
