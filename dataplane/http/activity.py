"""The activity endpoint the supervisor polls to suspend an idle deployment (scale to zero).

Its shape is the contract's (contract/activity.py); it needs an admin key, since it reveals
when the deployment's scheduled work is due.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from contract.activity import ACTIVITY_PATH, ActivityReport
from dataplane.http.web import api_view, app_of, check_admin, in_thread, json_response


@api_view("GET")
async def activity(request: HttpRequest) -> HttpResponse:
    check_admin(request)
    app = app_of(request)
    next_due = await in_thread(request, app.scheduler.next_due_ms)
    report = ActivityReport(
        idle_seconds=app.activity.idle_seconds(),
        open_sockets=app.activity.open_sockets,
        inflight_requests=app.activity.inflight_requests,
        running_jobs=app.scheduler.running_jobs(),
        next_due_ms=next_due,
    )
    return json_response(report.to_json())


urlpatterns = [path(ACTIVITY_PATH.lstrip("/"), activity)]
