"""A local HTTP server that hands each request to a handler as API Gateway would.

Each request becomes an HTTP API payload 2.0 event, built the way AWS builds
it (``events.build_event``), and goes to the same handlers that Lambda runs
(through ``gateway.routes``): what works here works deployed.
"""

from __future__ import annotations

import base64
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .apigw_events import Handler, build_event

_MAX_BODY = 1024 * 1024
# A connection that sends nothing for this many seconds (in a request, or between
# two on a kept-alive connection) is closed: it no longer holds its thread.
IDLE_TIMEOUT = 30.0
# Connections served at once, one thread each; one more is answered 503 at once.
MAX_CONNECTIONS = 64
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\n\r\n"
    b"Too many connections"
)


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
    handler: Handler,
    route_keys: Sequence[str] | None,
    base: str,
    max_body: int,
    idle_timeout: float,
) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        server_version = "serverless-pypi"
        sys_version = ""
        protocol_version = "HTTP/1.1"
        timeout = idle_timeout  # on every read of the socket (StreamRequestHandler)

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
            try:
                body = self.rfile.read(length) if length else b""
            except TimeoutError:
                self.send_error(408, "The request body stopped coming")
                return
            # API Gateway tells the function how the client reached it (https
            # there); this server speaks plain HTTP, and says so.
            sent = [(k, v) for k, v in self.headers.items() if k.lower() != "x-forwarded-proto"]
            event = build_event(
                self.command,
                self.path,
                [*sent, ("X-Forwarded-Proto", "http")],
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


class BoundedServer(ThreadingHTTPServer):
    """A threaded HTTP server that serves at most ``max_connections`` connections at
    once: one more is answered 503 (with Retry-After, which pip and uv honour) and
    closed, without a thread."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()  # no thread was started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away or fell silent is not the server's error.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def make_server(
    host: str,
    port: int,
    handler: Handler,
    *,
    route_keys: Sequence[str] | None = None,
    base: str = "",
    max_body: int = _MAX_BODY,
    idle_timeout: float = IDLE_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingHTTPServer:
    """A threaded server on ``host:port`` (raises OSError when the port is busy),
    serving at most ``max_connections`` connections at once, each closed after
    ``idle_timeout`` seconds without a byte from its client.

    Every request goes to the ``$default`` route, unless ``route_keys`` (and a
    custom domain's ``base`` path) say how to route it: see ``events.build_event``.
    """
    request_handler = _request_handler(handler, route_keys, base, max_body, idle_timeout)
    return BoundedServer((host, port), request_handler, max_connections)
