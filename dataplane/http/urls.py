"""URL routes of a deployment; each feature module contributes its own `urlpatterns`."""

from django.urls import URLPattern, URLResolver

from . import health

urlpatterns: list[URLPattern | URLResolver] = [
    *health.urlpatterns,
]

from . import storage as _storage  # noqa: E402 - file upload and serving

urlpatterns += _storage.urlpatterns

from . import admin as _admin  # noqa: E402 - env vars, logs, key checks
from . import deploy as _deploy  # noqa: E402 - /api/get_config_hashes, /api/deploy2/*
from . import functions as _functions  # noqa: E402 - /api/query|mutation|action|..., /http/*

urlpatterns += _deploy.urlpatterns + _admin.urlpatterns + _functions.urlpatterns

from . import exports as _exports  # noqa: E402 - snapshot export/import

urlpatterns += _exports.urlpatterns

from . import jwks as _jwks  # noqa: E402 - keys verifying ctx.auth.signJwt tokens

urlpatterns += _jwks.urlpatterns

from . import replication as _replication  # noqa: E402 - committer endpoints for read replicas

urlpatterns += _replication.urlpatterns

from . import streaming as _streaming  # noqa: E402 - streaming export for data pipelines

urlpatterns += _streaming.urlpatterns

from . import activity as _activity  # noqa: E402 - idleness, for scale to zero

urlpatterns += _activity.urlpatterns
