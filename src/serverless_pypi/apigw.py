"""A small typed view of API Gateway HTTP API (payload 2.0) events and responses.

Specific to API Gateway: what any code may need about Lambda's response size is
in ``payload.py``; headers are in ``headers.py``, the one part of API Gateway's
events that the authorizer (``authorizer.AuthorizerEvent``) imports.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import payload
from .headers import Headers, mapping
from .logs import printable
from .negotiate import accepts_gzip
from .objects import AwsError

_GZIP_MIN = 512  # smaller bodies are not worth compressing
_MAX_ROUTED_PATH = 4096  # longer paths are refused (414) without looking for a route


class BadRequest(Exception):
    """The event cannot be a request that a client sent: answer 400."""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, read once from a payload 2.0 event (powertools'
    ``APIGatewayProxyEventV2``, without the dependency)."""

    method: str
    path: str  # the raw (percent-encoded) path, relative to the API's routes
    headers: Headers
    query: str = ""
    leaf: str = ""  # the raw path's last segment ("" when it ends with a slash)
    body: bytes = b""  # decoded from base64 when API Gateway sent it so
    authorizer: Mapping[str, Any] = field(default_factory=dict)  # a Lambda authorizer's context

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def user(self) -> str | None:
        """The user a Lambda authorizer let in (``context.user``), if any."""
        user = self.authorizer.get("user")
        return user if isinstance(user, str) else None

    @property
    def rights(self) -> frozenset[str]:
        """The rights a Lambda authorizer granted (``context.rights``, comma-separated)."""
        rights = self.authorizer.get("rights")
        return frozenset(rights.split(",")) if isinstance(rights, str) and rights else frozenset()

    @property
    def projects(self) -> tuple[str, ...] | None:
        """The upload right's project patterns (``context.projects``, comma-separated);
        None when the authorizer sent none."""
        projects = self.authorizer.get("projects")
        if not isinstance(projects, str):
            return None
        return tuple(pattern for pattern in projects.split(",") if pattern)

    @classmethod
    def from_event(cls, event: Any) -> Request:
        """Read the fields the index uses from a payload 2.0 event."""
        if not isinstance(event, Mapping):
            raise BadRequest("event is not an object")
        context = mapping(event.get("requestContext"))
        method = mapping(context.get("http")).get("method")
        raw_path = event.get("rawPath")
        if not isinstance(method, str) or not isinstance(raw_path, str):
            raise BadRequest("event has no method or path")
        stage = context.get("stage")
        raw_headers = event.get("headers") or {}
        if not isinstance(raw_headers, Mapping):
            raise BadRequest("event headers are not an object")
        query = event.get("rawQueryString")
        path = _route_path(raw_path, event.get("routeKey"), event.get("pathParameters"))
        return cls(
            method=method.upper(),
            path=path or _strip_stage(raw_path, stage if isinstance(stage, str) else None),
            headers=Headers(raw_headers),
            query=query if isinstance(query, str) else "",
            leaf=raw_path.rpartition("/")[2],
            body=_body(event),
            authorizer=mapping(mapping(context.get("authorizer")).get("lambda")),
        )


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body")
    if not isinstance(body, str) or not body:
        return b""
    if not event.get("isBase64Encoded"):
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadRequest("body is not valid base64") from error


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
    # "gzip": ``body`` is already one gzip member (a page the reindexer stored),
    # sent as it is to a client that takes gzip and unpacked for one that does not.
    encoding: str | None = None

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
        """The payload 2.0 result: gzip when the client takes it, no body for HEAD.

        Every answer says ``nosniff``: a core-metadata file is an uploader's text
        served as text/plain, and a refused upload echoes its name and filename,
        which a browser that sniffed could take for a page of the index's origin."""
        headers = {**self.headers, "X-Content-Type-Options": "nosniff"}
        size = payload.gunzipped_size(self.body) if self.encoding == "gzip" else len(self.body)
        zipped = (
            request is not None
            and size >= _GZIP_MIN
            and self.status == 200
            and accepts_gzip(request.header("accept-encoding"))
        )
        if self.encoding == "gzip":
            body = self.body if zipped else gzip.decompress(self.body)
        else:
            body = payload.gzipped(self.body) if zipped else self.body
        if zipped:
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
                f"This page is {size} bytes, more than Lambda can return; "
                "ask for it with Accept-Encoding: gzip.",
            )
            return too_large.to_event(request)
        return {
            "statusCode": self.status,
            "headers": headers,
            "body": encoded,
            "isBase64Encoded": text is None,
        }


def answer(
    event: Any, respond: Callable[[Request], Response], log: logging.Logger
) -> dict[str, Any]:
    """The Lambda result of ``respond`` to the request in ``event``, and the one log
    line of it (method, path, status, time): a malformed event is a 400, storage
    that did not answer a 502, anything else unexpected a 500 with its traceback in
    the log. The api and the pages for people answer through it."""
    started = time.perf_counter()
    request: Request | None = None
    try:
        request = Request.from_event(event)
        response = respond(request)
    except BadRequest as error:
        response = Response.text(400, f"Bad request: {error}")
    except AwsError as error:
        log.error("storage error: %s", error)
        response = Response.text(502, "The index storage did not answer; try again.")
    except Exception:
        log.exception("unexpected error")
        response = Response.text(500, "Internal error; the index log has the details.")
    result = response.to_event(request)
    log.info(
        "%s %s %d %.1fms",
        request.method if request else "-",
        printable(request.path, limit=200) if request else "-",
        result["statusCode"],
        (time.perf_counter() - started) * 1000,
    )
    return result
