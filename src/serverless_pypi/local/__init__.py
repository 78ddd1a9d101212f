"""Everything that stands in for AWS on this machine; nothing here runs in Lambda.

- ``events``: the events API Gateway builds (a request's, an authorizer's) and the
  form twine sends;
- ``gateway``: API Gateway's routing, its own 401/403/404, the authorizer's cache;
- ``server``: an HTTP server that turns requests into those events;
- ``embedded``: moto's S3, SNS, SQS and SSM on loopback, wired like the module.

``stand_in`` assembles them once, for ``serverless-pypi serve`` and the tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from http.server import ThreadingHTTPServer
from typing import Any

from ..layout import OIDC_ROUTE_KEYS, ROUTE_KEYS, UI_ROUTE_KEYS, UPLOAD_ROUTE_KEYS
from .apigw_events import Handler
from .embedded import EmbeddedS3, MissingMoto
from .gateway import MAX_REQUEST, routes
from .server import make_server

__all__ = ["Deferred", "EmbeddedS3", "Handler", "MissingMoto", "stand_in"]


class Deferred:
    """A handler that is set once it is ready: the server listens first, so that a
    busy port fails before an embedded S3 starts. Until then: 503."""

    handler: Handler | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.handler is None:
            return {"statusCode": 503, "headers": {}, "body": "starting\n"}
        return self.handler(event, context)


def stand_in(
    api: Handler,
    *,
    upload: Handler | None = None,
    authorizer: Handler | None = None,
    ttl: int = 300,
    route_keys: Sequence[str] = ROUTE_KEYS,
    upload_route_keys: Sequence[str] = UPLOAD_ROUTE_KEYS,
    ui: Handler | None = None,
    ui_route_keys: Sequence[str] = UI_ROUTE_KEYS,
    base: str = "",
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.monotonic,
    mint: Handler | None = None,
) -> ThreadingHTTPServer:
    """An HTTP server on ``host:port`` that stands in for the caller's HTTP API with
    the module's routes: ``route_keys`` to the api, ``upload_route_keys`` to the
    upload function (API Gateway's 404 without one), all behind the authorizer
    (with API Gateway's result cache of ``ttl`` seconds) when there is one, under a
    custom domain's ``base`` path when one is given, and the pages for people
    (``ui``, on ``ui_route_keys``, without the authorizer) when there are. ``clock``
    is the result cache's (tests move it on). ``mint``: trusted publishing's routes,
    at the root, without the authorizer. OSError when the port is busy.
    """
    handler = routes(
        api,
        upload,
        frozenset(upload_route_keys),
        authorizer,
        ttl,
        clock,
        ui=ui,
        ui_routes=frozenset(ui_route_keys),
        mint=mint,
    )
    oidc = OIDC_ROUTE_KEYS if mint is not None else ()
    keys = [*route_keys, *upload_route_keys, *(ui_route_keys if ui is not None else ()), *oidc]
    return make_server(
        host,
        port,
        handler,
        route_keys=keys,
        base=base,
        max_body=MAX_REQUEST,
    )
