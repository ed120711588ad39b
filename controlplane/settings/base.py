"""Core Django settings: apps, middleware, security, static files, logging."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .env import BASE_DIR, DATA_DIR, env, integer
from .secret_key import resolve_secret_key

# "production" refuses a missing, default or weak secret key; "development" (the default, what
# scripts/up runs) creates a random key file under the data directory on first start.
STRATA_ENV = env.str("STRATA_ENV", default="development").strip().lower()
if STRATA_ENV not in ("development", "production"):
    raise ImproperlyConfigured(
        f"STRATA_ENV must be 'development' or 'production', not {STRATA_ENV!r}"
    )
STRATA_SECRET_KEY_FILE = Path(
    env.str("STRATA_SECRET_KEY_FILE", default=str(DATA_DIR / "secret_key"))
)
SECRET_KEY = resolve_secret_key(
    env.str("STRATA_SECRET_KEY", default=""),
    STRATA_SECRET_KEY_FILE,
    production=STRATA_ENV == "production",
)
DEBUG = env.bool("STRATA_DEBUG", default=False)
ALLOWED_HOSTS = env.list("STRATA_ALLOWED_HOSTS", default=["*"])
BASE_DOMAIN = env.str("STRATA_BASE_DOMAIN", default="localhost")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "controlplane.provisioning",
    "controlplane.accounts",
    "controlplane.teams",
    "controlplane.projects",
    "controlplane.deployments",
    "controlplane.keys",
    "controlplane.usage",
    "controlplane.audit",
    "controlplane.api",
    "controlplane.console",
    "controlplane.billing",
    "controlplane.backups",
]

MIDDLEWARE = [
    "controlplane.api.limits.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

# Largest request body the control plane reads (bytes); larger ones get a 413.
STRATA_MAX_REQUEST_BYTES = integer("STRATA_MAX_REQUEST_BYTES", 2_621_440, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = STRATA_MAX_REQUEST_BYTES

ROOT_URLCONF = "controlplane.urls"
WSGI_APPLICATION = "controlplane.wsgi.application"
ASGI_APPLICATION = "controlplane.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "controlplane" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
STRATA_REQUIRE_EMAIL_VERIFICATION = env.bool("STRATA_REQUIRE_EMAIL_VERIFICATION", default=True)

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

EMAIL_BACKEND = env.str(
    "STRATA_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("STRATA_FROM_EMAIL", default="Strata <noreply@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("STRATA_LOG_LEVEL", default="INFO")},
}
