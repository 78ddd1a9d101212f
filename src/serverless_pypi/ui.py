"""Lambda handler for the pages for people, behind the HTTP API without its
authorizer (payload 2.0):

- ``/ui``: redirect to ``/ui/``
- ``/ui/``: every project, with search (``?q=`` without scripts): one GET of the
  catalog (``catalog.py``)
- ``/ui/<project>/``: one project: one GET of its manifest (the reindexer keeps
  the details its page shows in it); other spellings redirect to the normalized name
- ``/ui/<project>/files/<filename>``: a temporary redirect to a presigned S3 URL
  of the file (the same GET of the manifest finds its key)
- ``/ui/style.css``, ``/ui/search.js``: the pages' stylesheet and search script

A browser shows a login prompt only for a 401 with ``WWW-Authenticate: Basic``,
which API Gateway's own 401 never has: so these routes have no authorizer, and
this handler checks the ``Authorization`` header itself, by calling the
authorizer's own code (``authorizer.Authorizer``) with the event API Gateway
would have sent it: the same users, the same secrets check and the same cost
per failed guess (one scrypt), the right to read. Without access control
(``UI_LOGIN=none``) the pages are open, as the index is.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, unquote

from . import catalog, webpage
from . import manifest as manifests
from .apigw import BadRequest, Request, Response, answer
from .config import ConfigError, UiSettings, log_level
from .layout import UI_ROUTE_KEYS, manifest_key
from .logs import get_logger
from .names import is_valid_name, normalize, parse_filename
from .objects import Blob, Reader

logger = get_logger(__name__)

ALLOW = "GET, HEAD"
MAX_PATH = 1024
ROUTE_KEY = UI_ROUTE_KEYS[1]  # "GET /ui/{proxy+}": what a login is checked for
_HTML = "text/html; charset=utf-8"
_NO_STORE = "no-store"
_ASSETS = {
    "style.css": ("text/css; charset=utf-8", webpage.STYLE),
    "search.js": ("text/javascript; charset=utf-8", webpage.SEARCH_SCRIPT),
}

# An authorizer (``authorizer.Authorizer``): a REQUEST event in, a simple response out.
Decide = Callable[[dict[str, Any], Any], dict[str, Any]]


class UsersUnavailable(Exception):
    """The authorizer has no list of users recent enough to decide with."""


@dataclass(frozen=True, slots=True)
class Gate:
    """The login of the pages: an ``Authorization`` header, decided by the authorizer."""

    decide: Decide

    def allows(self, header: str | None) -> bool:
        if not header:
            return False
        from .authorizer import UsersUnavailable as Unavailable

        event = {"routeKey": ROUTE_KEY, "headers": {"authorization": header}}
        try:
            answer = self.decide(event, None)
        except Unavailable as error:
            raise UsersUnavailable(str(error)) from None
        rights = str(answer.get("context", {}).get("rights", "")).split(",")
        return answer.get("isAuthorized") is True and "read" in rights


@dataclass(frozen=True, slots=True)
class UiApp:
    """The pages as a Lambda handler, made from their settings, an S3 reader and,
    with access control, the gate; nothing here reads the environment."""

    settings: UiSettings
    storage: Reader
    gate: Gate | None = None

    @classmethod
    def from_env(cls) -> UiApp:
        from .authorizer import Authorizer
        from .s3http import S3Reader
        from .ssm import SsmReader

        settings = UiSettings.from_env()
        storage = S3Reader.from_env(settings.api.bucket)
        gate = None
        if settings.auth is not None:
            users = S3Reader.from_env(settings.auth.bucket) if settings.auth.bucket else None
            gate = Gate(Authorizer(settings.auth, SsmReader.from_env(), objects=users))
        return cls(settings, storage, gate)

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        def respond(request: Request) -> Response:
            try:
                return self.route(request, _index_url(event, request, self.settings))
            except UsersUnavailable as error:
                logger.error("%s", error)
                return Response.text(503, "The users cannot be read; try again shortly.")

        return answer(event, respond, logger)

    def route(self, request: Request, index_url: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response.text(405, "Only GET and HEAD are allowed.", Allow=ALLOW)
        path = request.path
        if len(path) > MAX_PATH:
            return Response.text(414, "The path is too long.")
        if path == "/ui":
            return Response.redirect(301, "ui/", "max-age=86400")
        if not path.startswith("/ui/"):
            return _not_found()
        rest = path[len("/ui/") :]
        if rest in _ASSETS:
            kind, text = _ASSETS[rest]
            return Response(
                200, text.encode(), {"Content-Type": kind, "Cache-Control": "max-age=300"}
            )
        if self.gate is not None and not self.gate.allows(request.header("authorization")):
            return self._challenge()
        if rest == "":
            return self._project_list(request, index_url)
        parts = _segments(rest)
        name = parts[0]
        if not is_valid_name(name):
            return _not_found()
        project = normalize(name)
        if name != project or len(parts) == 1:
            up = "../" * (len(parts) - 1)
            tail = "/".join(parts[1:])
            return Response.redirect(301, f"{up}{quote(project)}/{tail}", "max-age=86400")
        if parts[1:] == [""]:
            return self._project_page(project, index_url)
        if len(parts) == 3 and parts[1] == "files":
            return self._file(request, project, parts[2])
        return _not_found()

    def _challenge(self) -> Response:
        response = Response.text(401, "Log in with your index user name and token (or password).")
        response.headers.update(
            {
                "WWW-Authenticate": f'Basic realm="{self.settings.realm}", charset="UTF-8"',
                "Cache-Control": _NO_STORE,
            }
        )
        return response

    def _page(self, body: str) -> Response:
        cache = "private, no-cache" if self.gate is not None else "no-cache"
        headers = {"Content-Type": _HTML, "Cache-Control": cache, **webpage.SECURITY_HEADERS}
        return Response(200, body.encode(), headers)

    def _project_list(self, request: Request, index_url: str) -> Response:
        fetched = self.storage.get(catalog.CATALOG)
        cards = catalog.decode(fetched.body) if isinstance(fetched, Blob) else {}
        if cards is None:
            logger.error("malformed catalog: run serverless-pypi reindex")
            cards = {}
        query = parse_qs(request.query).get("q", [""])[0]
        return self._page(webpage.cards_page(cards, index_url, query))

    def _manifest(self, project: str) -> manifests.Manifest | None:
        fetched = self.storage.get(manifest_key(project))
        return manifests.decode(fetched.body) if isinstance(fetched, Blob) else None

    def _project_page(self, project: str, index_url: str) -> Response:
        manifest = self._manifest(project)
        if manifest is None or not (
            manifest["files"] or manifests.project_status(manifest.get("status"))
        ):
            return _not_found()
        return self._page(webpage.project_page(manifest, index_url))

    def _file(self, request: Request, project: str, filename: str) -> Response:
        if parse_filename(filename, project) is None:
            return _not_found()
        manifest = self._manifest(project)
        entries = manifests.offered(manifest) if manifest else []
        for entry in entries:
            if entry["filename"] == filename:
                ttl = self.settings.api.presigned_url_ttl
                location = self.storage.presign(entry["key"], request.method, ttl)
                return Response.redirect(302, location, _NO_STORE)
        return _not_found()


def _segments(rest: str) -> list[str]:
    """The decoded segments of the path after ``/ui/``; BadRequest when not UTF-8."""
    try:
        return [unquote(part, errors="strict") for part in rest.split("/")]
    except UnicodeDecodeError:
        raise BadRequest("the path is not UTF-8") from None


def _not_found() -> Response:
    return Response.text(404, "Not found.", **{"Cache-Control": _NO_STORE})


def _index_url(event: Any, request: Request, settings: UiSettings) -> str:
    """The simple API's URL as the client reached these pages: its scheme and host,
    the stage or base path before the routes, and the index's path."""
    raw = event.get("rawPath") if isinstance(event, dict) else None
    prefix = ""
    if isinstance(raw, str) and raw.endswith(request.path):
        prefix = raw[: len(raw) - len(request.path)]
    context = event.get("requestContext") if isinstance(event, dict) else None
    host = context.get("domainName") if isinstance(context, dict) else None
    host = host if isinstance(host, str) and host else request.header("host") or "localhost"
    scheme = request.header("x-forwarded-proto") or "https"
    scheme = scheme if scheme in ("http", "https") else "https"
    return f"{scheme}://{host}{prefix}{settings.api.index_path}"


@functools.cache
def default_app() -> UiApp:
    """The UiApp of this container, made once from Lambda's environment."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    return UiApp.from_env()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point."""
    try:
        app = default_app()
    except ConfigError as error:
        logger.error("configuration: %s", error)
        return Response.text(500, "The index is misconfigured; its log says how.").to_event(None)
    return app(event, context)
