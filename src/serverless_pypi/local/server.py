"""A local HTTP server that hands each request to a handler as API Gateway would.

Each request becomes an HTTP API payload 2.0 event, built the way AWS builds
it (``events.build_event``), and goes to the same handlers that Lambda runs
(through ``gateway.routes``): what works here works deployed.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .apigw_events import Handler, build_event

_MAX_BODY = 1024 * 1024


def body_length(
    values: list[str], transfer_encoding: str | None, max_body: int = _MAX_BODY
) -> int | tuple[int, str]:
    """The request body's length from its Content-Length header(s), or the error to
    answer without reading the body: a negative, non-numeric, ambiguous or too
    large length, or a chunked body (API Gateway needs the length up front)."""
    if transfer_encoding:
        return 411, "Send the body with a Content-Length, not chunked"
    if not values:
        return 0
    if len(set(values)) > 1:
        return 400, "Conflicting Content-Length headers"
    value = values[0].strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return 400, "Content-Length must be a non-negative whole number"
    if int(value) > max_body:
        return 413, f"Request body too large (at most {max_body} bytes)"
    return int(value)


def _request_handler(
    handler: Handler, route_keys: Sequence[str] | None, base: str, max_body: int
) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        server_version = "serverless-pypi"
        sys_version = ""
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = body_length(
                self.headers.get_all("Content-Length") or [],
                self.headers.get("Transfer-Encoding"),
                max_body,
            )
            if isinstance(length, tuple):
                # The body is never read: the connection closes after the answer.
                self.send_error(*length)
                return
            body = self.rfile.read(length) if length else b""
            event = build_event(
                self.command,
                self.path,
                self.headers.items(),
                body,
                self.client_address[0],
                route_keys=route_keys,
                base=base,
            )
            result = handler(event, None)
            payload = result.get("body") or ""
            data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            self.send_response(int(result["statusCode"]))
            headers = result.get("headers") or {}
            for name, value in headers.items():
                self.send_header(name, str(value))
            if not any(name.lower() == "content-length" for name in headers):
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

        def log_message(self, format: str, *args: Any) -> None:
            # The api handler logs one line per request; this would be a second.
            return

    return RequestHandler


def make_server(
    host: str,
    port: int,
    handler: Handler,
    *,
    route_keys: Sequence[str] | None = None,
    base: str = "",
    max_body: int = _MAX_BODY,
) -> ThreadingHTTPServer:
    """A threaded server on ``host:port`` (raises OSError when the port is busy).

    Every request goes to the ``$default`` route, unless ``route_keys`` (and a
    custom domain's ``base`` path) say how to route it: see ``events.build_event``.
    """
    server = ThreadingHTTPServer(
        (host, port), _request_handler(handler, route_keys, base, max_body)
    )
    server.daemon_threads = True
    return server
