"""A small typed view of API Gateway HTTP API (payload 2.0) events and responses.

Specific to API Gateway: what any code may need about Lambda's response size is
in ``payload.py``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import payload
from .negotiate import accepts_gzip

_GZIP_MIN = 512  # smaller bodies are not worth compressing
_MAX_HEADER_VALUE = 8192
_MAX_ROUTED_PATH = 4096  # longer paths are refused (414) without looking for a route


class BadRequest(Exception):
    """The event cannot be a request that a client sent: answer 400."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # the raw (percent-encoded) path, relative to the API's routes
    headers: Mapping[str, str]  # lower-case names
    query: str = ""
    leaf: str = ""  # the raw path's last segment ("" when it ends with a slash)

    def header(self, name: str) -> str | None:
        value = self.headers.get(name)
        if value is None or len(value) > _MAX_HEADER_VALUE:
            return None
        return value

    @classmethod
    def from_event(cls, event: Any) -> Request:
        """Read the fields the index uses from a payload 2.0 event."""
        if not isinstance(event, Mapping):
            raise BadRequest("event is not an object")
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, Mapping) else None
        method = http.get("method") if isinstance(http, Mapping) else None
        raw_path = event.get("rawPath")
        if not isinstance(method, str) or not isinstance(raw_path, str):
            raise BadRequest("event has no method or path")
        stage = context.get("stage") if isinstance(context, Mapping) else None
        raw_headers = event.get("headers") or {}
        if not isinstance(raw_headers, Mapping):
            raise BadRequest("event headers are not an object")
        headers = {
            str(name).lower(): value
            for name, value in raw_headers.items()
            if isinstance(value, str)
        }
        body = event.get("body")
        if isinstance(body, str) and event.get("isBase64Encoded"):
            try:
                base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as error:
                raise BadRequest("body is not valid base64") from error
        query = event.get("rawQueryString")
        path = _route_path(raw_path, event.get("routeKey"), event.get("pathParameters"))
        return cls(
            method=method.upper(),
            path=path or _strip_stage(raw_path, stage if isinstance(stage, str) else None),
            headers=headers,
            query=query if isinstance(query, str) else "",
            leaf=raw_path.rpartition("/")[2],
        )


_GREEDY = re.compile(r"\{([A-Za-z0-9_]+)\+\}$")


def _route_path(raw_path: str, route_key: Any, parameters: Any) -> str | None:
    """The part of the raw path that the route matched, without whatever comes
    before it: a named stage, or the base path of a custom domain's API mapping
    (``/pypi/simple/x/`` on ``example.com/pypi``), which API Gateway leaves in.

    ``GET /simple/{proxy+}`` matched ``<base>/simple/<proxy>``: the route starts
    where the rest of the path is the greedy parameter (sent encoded or not); the
    older module's routes name it ``{package+}``. None when the event does not say
    (a ``$default`` route, a local server).
    """
    if not isinstance(route_key, str) or " " not in route_key or len(raw_path) > _MAX_ROUTED_PATH:
        return None
    route = route_key.partition(" ")[2]
    greedy = _GREEDY.search(route)
    if greedy is None:
        if not route.startswith("/") or "{" in route:
            return None
        # "/simple/" may match the route "/simple": keep the slash it was sent with.
        return route + "/" if raw_path.endswith("/") and not route.endswith("/") else route
    literal = route[: greedy.start()]
    if "{" in literal:
        return None
    proxy = parameters.get(greedy[1]) if isinstance(parameters, Mapping) else None
    if not proxy:  # "/simple/" itself: HTTP APIs match it to "/simple/{proxy+}"
        return literal if raw_path.endswith(literal) else None
    if not isinstance(proxy, str):
        return None
    start = raw_path.find(literal)
    while start >= 0:
        rest = raw_path[start + len(literal) :]
        if rest == proxy or unquote(rest) == proxy:
            return raw_path[start:]
        start = raw_path.find(literal, start + 1)
    return None


def _strip_stage(raw_path: str, stage: str | None) -> str:
    # On a named stage the raw path starts with it: /prod/simple/ -> /simple/.
    if stage and stage != "$default":
        prefix = "/" + stage
        if raw_path == prefix:
            return "/"
        if raw_path.startswith(prefix + "/"):
            return raw_path[len(prefix) :]
    return raw_path


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, message: str, **headers: str) -> Response:
        return cls(
            status,
            (message + "\n").encode(),
            {"Content-Type": "text/plain; charset=utf-8", **headers},
        )

    @classmethod
    def redirect(cls, status: int, location: str, cache_control: str) -> Response:
        response = cls.text(status, f"Redirecting to {location}")
        response.headers.update({"Location": location, "Cache-Control": cache_control})
        return response

    def to_event(self, request: Request | None) -> dict[str, Any]:
        """The payload 2.0 result: gzip when the client takes it, no body for HEAD."""
        body = self.body
        headers = dict(self.headers)
        if (
            request is not None
            and len(body) >= _GZIP_MIN
            and self.status == 200
            and accepts_gzip(request.header("accept-encoding"))
        ):
            body = payload.gzipped(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(len(body))
        if request is not None and request.method == "HEAD":
            body = b""
        text: str | None = None
        if "Content-Encoding" not in headers:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        encoded = text if text is not None else base64.b64encode(body).decode("ascii")
        if payload.json_size(encoded) > payload.MAX_RESPONSE_PAYLOAD:
            too_large = Response.text(
                406,
                f"This page is {len(self.body)} bytes, more than Lambda can return; "
                "ask for it with Accept-Encoding: gzip.",
            )
            return too_large.to_event(request)
        return {
            "statusCode": self.status,
            "headers": headers,
            "body": encoded,
            "isBase64Encoded": text is None,
        }
