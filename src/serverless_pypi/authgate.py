"""What API Gateway does in front of the api when a Lambda authorizer guards the
routes, for the local server (``serve --auth``) and the tests' stand-in.

As an HTTP API does it (payload 2.0, simple responses): a request without an
``Authorization`` header is a 401 and never reaches the authorizer; the
authorizer's answer is cached for ``ttl`` seconds under its identity sources
(the header and the route key); ``isAuthorized: false`` is a 403; an allowed
request reaches the handler with the authorizer's context in
``requestContext.authorizer.lambda``.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _gateway_error(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


class Gateway:
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
        headers = event.get("headers") or {}
        header = next(
            (value for name, value in headers.items() if name.lower() == "authorization"), ""
        )
        if not header:
            return _gateway_error(401, "Unauthorized")
        route_key = str(event.get("routeKey", "$default"))
        answer = self._answer(event, header, route_key)
        if answer.get("isAuthorized") is not True:
            return _gateway_error(403, "Forbidden")
        allowed = copy.deepcopy(event)
        allowed.setdefault("requestContext", {})["authorizer"] = {
            "lambda": answer.get("context") or {}
        }
        return self.handler(allowed, context)

    def _answer(self, event: dict[str, Any], header: str, route_key: str) -> dict[str, Any]:
        key = (header, route_key)
        now = self.clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now < cached[0]:
                return cached[1]
        request = {
            **copy.deepcopy(event),
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:local:000000000000:local/$default/{route_key}",
            "identitySource": [header, route_key],
        }
        self.authorizer_calls += 1
        try:
            answer = self.authorizer(request, None)
        except Exception:  # noqa: BLE001 - API Gateway answers 500 when the authorizer fails
            return {"isAuthorized": False}
        if self.ttl > 0 and isinstance(answer, dict):
            with self._lock:
                self._cache[key] = (now + self.ttl, answer)
        return answer if isinstance(answer, dict) else {"isAuthorized": False}
