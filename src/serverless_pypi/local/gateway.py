"""What API Gateway (an HTTP API, payload 2.0) does around the module's functions,
for the local server (``serverless-pypi serve``) and the tests' stand-in.

- A request that no route takes is API Gateway's own 404 (the upload routes exist
  only with an upload handler: never anonymous).
- With a Lambda REQUEST authorizer (simple responses): a request without an
  ``Authorization`` header is a 401 and never reaches the authorizer; its answer is
  cached for ``ttl`` seconds under its identity sources (the header and the route
  key); ``isAuthorized: false`` is a 403; an authorizer that fails is a 500, not
  cached; an allowed request reaches the handler with the authorizer's context in
  ``requestContext.authorizer.lambda``.
- The upload routes go to the upload function, the pages for people's to their
  function without the authorizer (it answers the login itself), every other
  route to the api; trusted publishing's routes (``layout.OIDC_ROUTE_KEYS``) go to
  the mint function without the authorizer, when there is one.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from ..headers import Headers
from ..layout import OIDC_ROUTE_KEYS
from .apigw_events import DEFAULT, Handler, authorizer_event

# The largest request an HTTP API takes (10 MB); the upload route checks its own limit.
MAX_REQUEST = 10 * 1024 * 1024


def gateway_error(status: int, message: str) -> dict[str, Any]:
    """An answer of API Gateway's own (401, 403, 404), as an HTTP API writes it."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message}, separators=(",", ":")),
        "isBase64Encoded": False,
    }


NOT_FOUND = (404, "Not Found")
UNAUTHORIZED = (401, "Unauthorized")
FORBIDDEN = (403, "Forbidden")
FAILED = (500, "Internal Server Error")


class Authorized:
    """A handler behind a Lambda REQUEST authorizer with API Gateway's result cache."""

    def __init__(
        self,
        handler: Handler,
        authorizer: Handler,
        ttl: int = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.handler = handler
        self.authorizer = authorizer
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.authorizer_calls = 0

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        header = Headers(event.get("headers")).get("authorization")
        if not header:
            return gateway_error(*UNAUTHORIZED)
        route_key = str(event.get("routeKey", DEFAULT))
        answer = self._answer(event, header, route_key)
        if answer is None:
            return gateway_error(*FAILED)
        if answer.get("isAuthorized") is not True:
            return gateway_error(*FORBIDDEN)
        allowed = copy.deepcopy(event)
        allowed.setdefault("requestContext", {})["authorizer"] = {
            "lambda": answer.get("context") or {}
        }
        return self.handler(allowed, context)

    def _answer(self, event: dict[str, Any], header: str, route_key: str) -> dict[str, Any] | None:
        """The authorizer's answer, cached; None when it failed (never cached)."""
        key = (header, route_key)
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now < cached[0]:
                return cached[1]
        self.authorizer_calls += 1
        try:
            answer = self.authorizer(authorizer_event(event, [header, route_key]), None)
        except Exception:  # noqa: BLE001 - API Gateway answers 500 when the authorizer fails
            return None
        if not isinstance(answer, dict):
            return None
        if self.ttl > 0:
            with self._lock:
                self._cache[key] = (now + self.ttl, answer)
        return answer


def routes(
    api: Handler,
    upload: Handler | None = None,
    upload_routes: frozenset[str] = frozenset(),
    authorizer: Handler | None = None,
    ttl: int = 300,
    clock: Callable[[], float] = time.monotonic,
    *,
    ui: Handler | None = None,
    ui_routes: frozenset[str] = frozenset(),
    mint: Handler | None = None,
) -> Handler:
    """The module's routes as API Gateway dispatches them: its 404 for a request no
    route takes, the pages for people (``ui``, on ``ui_routes``) without the
    authorizer, then the authorizer (with its cache), then the upload handler or
    the api."""

    def dispatch(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if upload is not None and event.get("routeKey") in upload_routes:
            return upload(event, context)
        return api(event, context)

    guarded: Handler = (
        dispatch if authorizer is None else Authorized(dispatch, authorizer, ttl, clock)
    )

    def route(event: dict[str, Any], context: Any) -> dict[str, Any]:
        key = event.get("routeKey")
        if mint is not None and key in OIDC_ROUTE_KEYS:
            return mint(event, context)
        if key == DEFAULT or (upload is None and key in upload_routes):
            return gateway_error(*NOT_FOUND)
        if key in ui_routes:
            return ui(event, context) if ui is not None else gateway_error(*NOT_FOUND)
        return guarded(event, context)

    return route
