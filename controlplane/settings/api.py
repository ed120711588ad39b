"""REST management API: DRF defaults, rate limits, OpenAPI schema, cache for throttling."""

from .env import env, integer, networks

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["controlplane.api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["controlplane.api.throttling.TokenRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "controlplane.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

# Requests per minute per token (or per client address when anonymous).
STRATA_API_RATE_LIMIT = env.int("STRATA_API_RATE_LIMIT", default=600)
STRATA_API_ANON_RATE_LIMIT = env.int("STRATA_API_ANON_RATE_LIMIT", default=60)
STRATA_API_PAGE_SIZE = env.int("STRATA_API_PAGE_SIZE", default=50)

# Reverse proxies (IPs or CIDRs) whose X-Forwarded-For is believed. Empty (the default): the
# client address is the TCP peer, and X-Forwarded-For is ignored, since any client can set it.
STRATA_TRUSTED_PROXIES = networks("STRATA_TRUSTED_PROXIES")
# Per-account login backoff, whatever address the attempts come from: after this many failed
# logins in a row, an account takes one attempt per window; the window starts at
# STRATA_LOGIN_BACKOFF_SECONDS and doubles with each further failure up to
# STRATA_LOGIN_BACKOFF_MAX_SECONDS. A successful login or a password reset clears it.
STRATA_LOGIN_FREE_ATTEMPTS = integer("STRATA_LOGIN_FREE_ATTEMPTS", 5, minimum=1)
STRATA_LOGIN_BACKOFF_SECONDS = integer("STRATA_LOGIN_BACKOFF_SECONDS", 2, minimum=1)
STRATA_LOGIN_BACKOFF_MAX_SECONDS = integer(
    "STRATA_LOGIN_BACKOFF_MAX_SECONDS", 300, minimum=STRATA_LOGIN_BACKOFF_SECONDS
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Strata management API",
    "DESCRIPTION": "Teams, projects, deployments, keys and usage of a Strata control plane.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "controlplane.api.serializers.ROLE_CHOICES",
        "NonOwnerRoleEnum": "controlplane.api.serializers.NON_OWNER_ROLES",
    },
}

_redis = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis}
        if _redis
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
