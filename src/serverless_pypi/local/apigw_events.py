"""The events API Gateway sends: the route an HTTP API picks for a request, the
payload 2.0 event it hands to Lambda for it, and the REQUEST event it hands to a
Lambda authorizer; and the multipart form that twine and ``uv publish`` send.

``apigw.py`` reads such events in the function; this module writes them, for what
stands in for API Gateway: the local server (``serverless-pypi serve``), the tests
and the benchmark. The functions in Lambda never import it.
"""

from __future__ import annotations

import base64
import copy
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote

DEFAULT = "$default"  # the catch-all route's key, and the stage without a name

# A Lambda handler, as the stand-ins call one: (event, context) -> result.
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def match(route_keys: Sequence[str], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The route API Gateway (HTTP API) picks for a request, and its path parameters:
    an exact route first, else the greedy route (``{proxy+}``, or the older module's
    ``{package+}``) with the longest prefix (which also takes ``/simple/`` itself).
    The module's routes have no other variables."""
    mine = [key.partition(" ")[2] for key in route_keys if key.partition(" ")[0] in (method, "ANY")]
    if path in mine:
        return f"{method} {path}", {}
    greedy = [(route, found) for route in mine if (found := _GREEDY.search(route))]
    for route, found in sorted(greedy, key=lambda pair: len(pair[0]), reverse=True):
        prefix = route[: found.start() + 1]  # through the slash
        if path.startswith(prefix):
            value = unquote(path[len(prefix) :])
            return f"{method} {route}", {found[1]: value} if value else {}
    return None


_GREEDY = re.compile(r"/\{([A-Za-z0-9_]+)\+\}$")


def routes_prefix(stage: str = DEFAULT, base: str = "") -> str:
    """What comes before the routes in a raw path: a custom domain's base path,
    else a named stage (on the execute-api URL), else nothing."""
    return base or ("" if stage == DEFAULT else f"/{stage}")


def build_event(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    source_ip: str = "127.0.0.1",
    *,
    route_keys: Sequence[str] | None = None,
    stage: str = DEFAULT,
    base: str = "",
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway sends for a request of ``target`` (the
    raw path and query the client sent) with these headers and body.

    Without ``route_keys`` the ``$default`` route takes every request (the local
    server). With them, the route is the one :func:`match` picks for the path
    after the stage or base path, with its ``proxy`` parameter; a path that none
    matches gets ``$default``, as a catch-all route would see it.

    ``stage``: a named stage is the raw path's first segment on the execute-api
    URL. ``base``: the base path of a custom domain's API mapping (``/pypi``),
    which API Gateway leaves in the raw path (and the stage out of it).
    """
    raw_path, _, raw_query = target.partition("?")
    raw_path = raw_path or "/"
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[lower] = f"{merged[lower]},{value}" if lower in merged else value
    route_key, parameters = _route(route_keys, method, raw_path, stage, base)
    host = merged.get("host", "localhost")
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": unquote(raw_path),
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": base64.b64encode(os.urandom(10)).decode("ascii"),
            "routeKey": route_key,
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        query: dict[str, str] = {}
        for name, value in parse_qsl(raw_query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        event["queryStringParameters"] = query
    if parameters:
        event["pathParameters"] = parameters
    if body:
        event["body"] = base64.b64encode(body).decode("ascii")
        event["isBase64Encoded"] = True
    return event


def authorizer_event(event: dict[str, Any], identity: list[str]) -> dict[str, Any]:
    """The REQUEST event (payload 2.0) API Gateway sends a Lambda authorizer for the
    request ``event``, with the values of its identity sources."""
    route_key = str(event.get("routeKey", DEFAULT))
    return {
        **copy.deepcopy(event),
        "type": "REQUEST",
        "routeArn": f"arn:aws:execute-api:local:000000000000:local/{DEFAULT}/{route_key}",
        "identitySource": identity,
    }


def multipart_form(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes]] = {}, boundary: str = ""
) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body as twine sends it (the legacy upload API), and
    its Content-Type: text ``fields``, then ``files`` (field name -> filename, bytes)."""
    boundary = boundary or base64.b32encode(os.urandom(15)).decode("ascii")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, data) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _route(
    route_keys: Sequence[str] | None, method: str, raw_path: str, stage: str, base: str
) -> tuple[str, dict[str, str]]:
    """The route key and path parameters of a request for ``raw_path``."""
    if route_keys is None:
        return DEFAULT, {}
    prefix = routes_prefix(stage, base)
    if raw_path != prefix and not raw_path.startswith(prefix + "/"):
        return DEFAULT, {}
    matched = match(route_keys, method, raw_path[len(prefix) :] or "/")
    return matched if matched else (DEFAULT, {})
