"""Instance identity endpoints the Convex CLI and supervisors probe.

`/healthz` answers while the process runs (liveness); `/readyz` answers 200 only when this
process can serve queries: its database answers and, on a read replica, it has applied every
commit the committer had persisted when asked (readiness: Kubernetes routes traffic by it).
"""

import asyncio

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from dataplane.http.web import app_of, in_thread
from dataplane.transactions import Database

log = structlog.get_logger(__name__)


def version(request: HttpRequest) -> HttpResponse:
    """Convex clients probe `/version` to check reachability."""
    return HttpResponse("strata", content_type="text/plain")


def instance_name(request: HttpRequest) -> HttpResponse:
    return HttpResponse(app_of(request).config.name, content_type="text/plain")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "deployment": app_of(request).config.name})


#: A database that does not answer within this long is "unavailable" (a dropped or hung
#: connection must not hold the probe, or a thread, for the pool's whole timeout).
READY_TIMEOUT_S = 5.0


def _readiness(db: Database) -> str | None:
    """None when this process can serve queries, else why not."""
    if not db.replica:
        db.retention_ts()  # one cheap round trip: the database answers
        return None
    durable = db.durable_ts()  # the committer's newest commit (indexed ts)
    db.follow()  # catch up now instead of waiting for the next poll
    if db.latest_ts() < durable:
        return "replica behind the committer's log"
    if not db.committer_url():
        return "no committer"
    return None


async def readyz(request: HttpRequest) -> JsonResponse:
    app = app_of(request)
    db = app.db
    try:
        reason = await asyncio.wait_for(in_thread(request, _readiness, db), READY_TIMEOUT_S)
    except Exception as exc:  # the database is down, unreachable or hangs
        log.warning("readiness check failed", error=str(exc) or type(exc).__name__)
        reason = "database unavailable"
    if reason is not None:
        return _unready(app.config.name, reason)
    return JsonResponse(
        {
            "status": "ready",
            "deployment": app.config.name,
            "role": "replica" if db.replica else "committer",
            "latest_ts": db.latest_ts(),
        }
    )


def _unready(name: str, reason: str) -> JsonResponse:
    return JsonResponse({"status": "unavailable", "deployment": name, "reason": reason}, status=503)


urlpatterns = [
    path("version", version),
    path("instance_name", instance_name),
    path("healthz", healthz),
    path("readyz", readyz),
]
