"""Run localstripe (PyPI: a stateful fake Stripe server) for the billing tests.

    python -m tests.billing.localstripe_server

listens on 127.0.0.1 on a free port and prints `port=<n>` once it serves. The fixture in
conftest.py starts it as a subprocess and stops it after the test.

Everything Stripe-shaped that localstripe implements is localstripe's own: customers, plans
(Stripe answers plan ids as price ids, so `price_…` ids are plans here), subscriptions,
invoices and their payment, events, and webhook delivery signed with the endpoint's secret
(`POST /_config/webhooks/<id>` registers an endpoint). What billing calls and localstripe 1.15.10
lacks is added below, as small as the tests need, on localstripe's own store and webhook
machinery so state and events stay in one place:

* `Idempotency-Key` replay (localstripe ignores the header; Stripe answers a repeated key with
  the first response).
* Checkout sessions: `POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/<id>`, and
  `POST /_shim/checkout/sessions/<id>/complete`, which plays the customer on the hosted page:
  attaches a test card, creates the subscription through localstripe (its invoice is paid and
  its `customer.subscription.created` event sent) and sends `checkout.session.completed`.
  localstripe subscriptions hold one item only, so the session's metered line items are kept on
  the session but not added to the subscription.
* Customer-portal sessions: `POST /v1/billing_portal/sessions`.
* Billing meters: `POST|GET /v1/billing/meters`, `POST /v1/billing/meter_events` (an
  `identifier` seen before is not counted again) and
  `GET /v1/billing/meters/<id>/event_summaries` to read the totals back.
* `POST /_shim/fail_next` `{path, status}`: the next request to that path fails with that
  status, to test how billing answers Stripe errors.

localstripe also pickles its store to /tmp/localstripe.pickle after each write; that is turned
off so concurrent runs do not share a file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from localstripe import resources as ls
from localstripe.errors import UserError
from localstripe.server import app, get_api_key, get_post_data, unflatten_data
from localstripe.webhooks import schedule_webhook

ls.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_idempotent: dict[tuple[str, str, str], tuple[int, bytes]] = {}
_fail_next: dict[str, int] = {}
_meter_events: dict[str, dict[str, Any]] = {}  # identifier -> event


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status)


def _error(status: int, message: str) -> web.Response:
    return _json({"error": {"type": "invalid_request_error", "message": message}}, status)


@web.middleware
async def shim_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    status = _fail_next.pop(request.path, None)
    if status is not None:
        return _error(status, f"Injected failure of {request.path}")
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    cache_key = (str(get_api_key(request)), request.path, key)
    if cache_key in _idempotent:
        status, body = _idempotent[cache_key]
        return web.Response(status=status, body=body, content_type="application/json")
    response = await handler(request)
    if isinstance(response, web.Response) and 200 <= response.status < 300 and response.body:
        _idempotent[cache_key] = (response.status, bytes(response.body))  # type: ignore[arg-type]
    return response


class CheckoutSession(ls.StripeObject):  # type: ignore[misc]
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, **params: Any) -> None:
        mode = params.get("mode")
        customer = params.get("customer")
        items = params.get("line_items")
        if mode != "subscription":
            raise UserError(400, "Only mode=subscription is emulated")
        if not isinstance(items, list) or not items:
            raise UserError(400, "Missing required param: line_items")
        if not params.get("success_url"):
            raise UserError(400, "Missing required param: success_url")
        ls.Customer._api_retrieve(customer)  # 404 if unknown
        for i, item in enumerate(items):
            plan = ls.Plan._api_retrieve(item.get("price"))  # 404 if unknown
            if plan.usage_type == "metered" and item.get("quantity") is not None:
                raise UserError(400, f"line_items[{i}][quantity]: not allowed for metered prices")
            if plan.usage_type == "licensed" and item.get("quantity") is None:
                raise UserError(400, f"Missing required param: line_items[{i}][quantity]")
        super().__init__()
        self.mode = mode
        self.customer = customer
        self.client_reference_id = params.get("client_reference_id")
        self.line_items = items
        self.success_url = params["success_url"]
        self.cancel_url = params.get("cancel_url")
        self.metadata = params.get("metadata") or {}
        self.subscription_data = params.get("subscription_data") or {}
        self.status = "open"
        self.payment_status = "unpaid"
        self.subscription = None
        self.url = f"https://checkout.localstripe.test/c/pay/{self.id}"

    def _complete(self) -> None:
        if self.status != "open":
            raise UserError(400, "This Checkout Session is no longer open")
        pm = ls.PaymentMethod(
            type="card",
            card={
                "number": "4242424242424242",
                "exp_month": "12",
                "exp_year": "2040",
                "cvc": "123",
            },
        )
        ls.PaymentMethod._api_attach(pm.id, customer=self.customer)
        ls.Customer._api_update(self.customer, invoice_settings={"default_payment_method": pm.id})
        licensed = [
            {"plan": item["price"], "quantity": item["quantity"]}
            for item in self.line_items
            if ls.Plan._api_retrieve(item["price"]).usage_type == "licensed"
        ]
        sub = ls.Subscription(
            customer=self.customer,
            items=licensed,
            metadata=self.subscription_data.get("metadata") or {},
        )
        self.subscription = sub.id
        self.status = "complete"
        self.payment_status = "paid"
        schedule_webhook(ls.Event("checkout.session.completed", self))


async def create_checkout_session(request: web.Request) -> web.Response:
    return _json(CheckoutSession(**(await get_post_data(request) or {}))._export())


async def retrieve_checkout_session(request: web.Request) -> web.Response:
    return _json(CheckoutSession._api_retrieve(request.match_info["id"])._export())


async def complete_checkout_session(request: web.Request) -> web.Response:
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    session._complete()
    return _json(session._export())


async def create_portal_session(request: web.Request) -> web.Response:
    data = await get_post_data(request) or {}
    ls.Customer._api_retrieve(data.get("customer"))  # 404 if unknown
    sid = "bps_" + ls.random_id(14)
    return _json(
        {
            "id": sid,
            "object": "billing_portal.session",
            "customer": data["customer"],
            "return_url": data.get("return_url"),
            "created": int(time.time()),
            "livemode": False,
            "url": f"https://billing.localstripe.test/p/session/{sid}",
        }
    )


class Meter(ls.StripeObject):  # type: ignore[misc]
    object = "billing.meter"
    _id_prefix = "mtr_"

    def __init__(self, **params: Any) -> None:
        if not params.get("event_name") or not params.get("display_name"):
            raise UserError(400, "Missing required param: event_name or display_name")
        formula = (params.get("default_aggregation") or {}).get("formula")
        if formula not in ("sum", "count"):
            raise UserError(400, "default_aggregation[formula] must be sum or count")
        super().__init__()
        self.event_name = params["event_name"]
        self.display_name = params["display_name"]
        self.default_aggregation = {"formula": formula}
        self.status = "active"


async def create_meter(request: web.Request) -> web.Response:
    return _json(Meter(**(await get_post_data(request) or {}))._export())


async def list_meters(request: web.Request) -> web.Response:
    meters = [o._export() for k, o in ls.store.items() if k.startswith("billing.meter:")]
    return _json({"object": "list", "url": "/v1/billing/meters", "has_more": False, "data": meters})


async def create_meter_event(request: web.Request) -> web.Response:
    data = await get_post_data(request) or {}
    payload = data.get("payload") or {}
    if not data.get("event_name"):
        raise UserError(400, "Missing required param: event_name")
    if not payload.get("stripe_customer_id"):
        raise UserError(400, "Missing required param: payload[stripe_customer_id]")
    try:
        int(payload.get("value"))
    except (TypeError, ValueError):
        raise UserError(400, "payload[value] must be a whole number") from None
    identifier = str(data.get("identifier") or "mev_" + ls.random_id(20))
    event = {
        "object": "billing.meter_event",
        "event_name": data["event_name"],
        "identifier": identifier,
        "payload": payload,
        "timestamp": int(data.get("timestamp") or time.time()),
        "created": int(time.time()),
        "livemode": False,
    }
    return _json(_meter_events.setdefault(identifier, event))


async def meter_event_summaries(request: web.Request) -> web.Response:
    meter = Meter._api_retrieve(request.match_info["id"])
    query = unflatten_data(request.query)
    try:
        customer = str(query["customer"])
        start, end = int(query["start_time"]), int(query["end_time"])
    except (KeyError, ValueError):
        raise UserError(400, "customer, start_time and end_time are required") from None
    events = [
        e
        for e in _meter_events.values()
        if e["event_name"] == meter.event_name
        and e["payload"]["stripe_customer_id"] == customer
        and start <= e["timestamp"] < end
    ]
    if meter.default_aggregation["formula"] == "sum":
        value = float(sum(int(e["payload"]["value"]) for e in events))
    else:
        value = float(len(events))
    summary = {
        "id": "mtrusg_" + ls.random_id(14),
        "object": "billing.meter_event_summary",
        "aggregated_value": value,
        "start_time": start,
        "end_time": end,
        "livemode": False,
        "meter": meter.id,
    }
    url = f"/v1/billing/meters/{meter.id}/event_summaries"
    return _json({"object": "list", "url": url, "has_more": False, "data": [summary]})


async def fail_next(request: web.Request) -> web.Response:
    data = await get_post_data(request) or {}
    _fail_next[str(data["path"])] = int(data["status"])
    return web.Response()


def add_shim(application: web.Application) -> None:
    application.middlewares.append(shim_middleware)
    router = application.router
    router.add_post("/v1/checkout/sessions", create_checkout_session)
    router.add_get("/v1/checkout/sessions/{id}", retrieve_checkout_session)
    router.add_post("/_shim/checkout/sessions/{id}/complete", complete_checkout_session)
    router.add_post("/v1/billing_portal/sessions", create_portal_session)
    router.add_post("/v1/billing/meters", create_meter)
    router.add_get("/v1/billing/meters", list_meters)
    router.add_post("/v1/billing/meter_events", create_meter_event)
    router.add_get("/v1/billing/meters/{id}/event_summaries", meter_event_summaries)
    router.add_post("/_shim/fail_next", fail_next)


async def serve() -> None:
    add_shim(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    print(f"port={server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve())
