"""Lambda handler for the simple API, behind an API Gateway HTTP API (payload 2.0).

Routes (after the stage or the custom domain's base path, if any):

- ``/`` and ``/simple``: redirect to ``/simple/``
- ``/simple/``: every project (PEP 503 HTML or PEP 691 JSON)
- ``/simple/<project>/``: one project's files
- ``/simple/<project>/[<folder>/]<filename>``: a temporary redirect to a
  presigned S3 URL for the file (for ``HEAD``, one presigned for HEAD)
- ``/simple/<project>/[<folder>/]<filename>.metadata``: its core metadata (PEP 658)

Redirect locations are relative, so the index works under any stage or base path.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from . import manifest as manifests
from . import negotiate, rootindex, simple
from .apigw import BadRequest, Request, Response, answer
from .config import ApiSettings, ConfigError, log_level
from .layout import ROOT_JSON, manifest_key, metadata_key
from .logs import get_logger
from .names import TooManyFolders, is_valid_name, normalize, parse_filename, spelled_folders
from .objects import Blob, NotModified, Reader
from .s3http import S3Reader

if TYPE_CHECKING:
    from .proxy import Proxy
    from .upstream import Cached

logger = get_logger(__name__)

ALLOW = "GET, HEAD"
MAX_PATH = 1024
RETRY_AFTER = 2  # seconds a client waits for a project that is being indexed (503)
_VARIANTS = {negotiate.TEXT_HTML: "h", negotiate.HTML_V1: "v", negotiate.JSON_V1: "j"}
# Which page stored with a manifest answers each media type.
_STORED: dict[str, manifests.Variant] = {
    negotiate.TEXT_HTML: "html",
    negotiate.HTML_V1: "html",
    negotiate.JSON_V1: "json",
}
_CONTENT_TYPES = {
    negotiate.TEXT_HTML: "text/html; charset=utf-8",
    negotiate.HTML_V1: negotiate.HTML_V1,
    negotiate.JSON_V1: negotiate.JSON_V1,
}
_NO_STORE = "no-store"
# A stage name or base path segment that can be repeated in a relative redirect.
_SEGMENT = re.compile(r"(?!\.\.?$)[A-Za-z0-9._~-]{1,128}")
# An S3 ETag without its quotes: an MD5 in hex, "-<parts>" after a multipart upload.
_S3_ETAG = re.compile(r"[0-9a-f]{32}(?:-[0-9]{1,5})?", re.ASCII)


@dataclass(frozen=True, slots=True)
class App:
    """The simple API as a Lambda handler, made from its settings and an S3 reader.

    Lambda (through ``handler``), ``serverless-pypi serve`` and the tests all
    build one; nothing here reads the environment.
    """

    settings: ApiSettings
    storage: Reader
    # The proxy mode's upstream (``proxy.py``); None: a name the bucket never held
    # is redirected to the fallback index.
    proxy: Proxy | None = None

    @classmethod
    def from_env(cls) -> App:
        settings = ApiSettings.from_env()
        reader = S3Reader.from_env(settings.bucket)
        proxy = None
        if settings.proxy:
            from .keeper import LambdaKeeper
            from .proxy import Proxy

            keeper = LambdaKeeper(settings.keeper_function) if settings.keeper_function else None
            proxy = Proxy(settings, reader, keeper)
        return cls(settings, reader, proxy)

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        return answer(
            event, lambda request: route(request, self.settings, self.storage, self.proxy), logger
        )


@functools.cache
def default_app() -> App:
    """The App of this container, made once from Lambda's environment."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    return App.from_env()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point."""
    try:
        app = default_app()
    except ConfigError as error:
        logger.error("configuration: %s", error)
        return Response.text(500, "The index is misconfigured; its log says how.").to_event(None)
    return app(event, context)


class _NotFound(Exception):
    pass


def _segments(path: str) -> list[str]:
    """The decoded path segments; anything that could step outside the index is refused."""
    if not path.startswith("/"):
        raise _NotFound
    segments = []
    for raw in path[1:].split("/"):
        try:
            segment = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            raise BadRequest("the path is not UTF-8") from None
        if segment in (".", "..") or "/" in segment or "\\" in segment or not segment.isprintable():
            raise _NotFound
        segments.append(segment)
    return segments


def route(
    request: Request, settings: ApiSettings, storage: Reader, proxy: Proxy | None = None
) -> Response:
    if request.method not in ("GET", "HEAD"):
        return Response.text(405, "Only GET and HEAD are allowed.", Allow=ALLOW)
    if len(request.path) > MAX_PATH:
        return Response.text(414, "The path is too long.")
    try:
        segments = _segments(request.path)
        return _dispatch(request, settings, storage, segments, proxy)
    except _NotFound:
        return _not_found()


def _not_found() -> Response:
    return Response.text(404, "Not found.", **{"Cache-Control": _NO_STORE})


def _dispatch(
    request: Request,
    settings: ApiSettings,
    storage: Reader,
    segments: list[str],
    proxy: Proxy | None = None,
) -> Response:
    prefix = settings.index_prefix  # "simple", or "" for the older module's root layout
    if prefix and segments == [prefix]:
        return Response.redirect(301, f"{prefix}/", "max-age=86400")
    if prefix and segments == [""]:
        # "/prod" or "/pypi" (no slash) is the root too: keep that segment.
        leaf = request.leaf
        location = f"./{leaf}/{prefix}/" if _SEGMENT.fullmatch(leaf) else f"{prefix}/"
        return Response.redirect(301, location, "max-age=86400")
    if prefix:
        if not segments or segments[0] != prefix:
            raise _NotFound
        segments = segments[1:]
    if segments == [""]:
        if not prefix and request.leaf and _SEGMENT.fullmatch(request.leaf):
            # "/prod" at the root layout: the page's relative links need "/prod/".
            return Response.redirect(301, f"./{request.leaf}/", "max-age=86400")
        return _root_page(request, settings, storage)
    if not segments or not is_valid_name(segments[0]):
        raise _NotFound
    name, rest = segments[0], segments[1:]
    project = normalize(name)
    if name != project or not rest:
        # Relative to the requested URL, so any stage or base path is kept.
        up = "../" * len(rest) if rest else ""
        tail = "/".join(quote(part) for part in rest) if rest else ""
        return Response.redirect(301, f"{up}{quote(project)}/{tail}", "max-age=86400")
    if rest == [""]:
        return _project_page(request, settings, storage, project, proxy)
    if len(rest) == 1:
        return _file(request, settings, storage, project, project, rest[0], proxy)
    if len(rest) == 2 and is_valid_name(rest[0]) and normalize(rest[0]) == project:
        return _file(request, settings, storage, project, rest[0], rest[1], proxy)
    raise _NotFound


# -- pages ------------------------------------------------------------------


def _variant(media: str) -> str:
    return f".{_VARIANTS[media]}{simple.RENDER_VERSION}"


def _page_etag(s3_etag: str, media: str) -> str:
    return f'W/"{s3_etag.strip(chr(34))}{_variant(media)}"'


def _cached_s3_etag(if_none_match: str | None, suffix: str = "") -> str | None:
    """The S3 ETag behind an ETag the client holds (pages add a variant ``suffix``).

    The value goes to S3 in a request header: only a well-formed S3 ETag
    (an MD5 in hex, with a part count after multipart uploads) is forwarded.
    """
    if not if_none_match:
        return None
    for tag in if_none_match.split(",")[:16]:
        tag = tag.strip().removeprefix("W/").strip('"')
        if suffix:
            if not tag.endswith(suffix):
                continue
            tag = tag[: -len(suffix)]
        if _S3_ETAG.fullmatch(tag):
            return f'"{tag}"'
    return None


def _negotiated(request: Request) -> str | Response:
    media = negotiate.negotiate(request.header("accept"))
    if media is None:
        offered = ", ".join(negotiate.OFFERED)
        return Response.text(406, f"Not acceptable; this index serves {offered}.", Vary="Accept")
    return media


def _page_headers(media: str, settings: ApiSettings, etag: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": _CONTENT_TYPES[media],
        "Vary": "Accept, Accept-Encoding",
        "Cache-Control": f"max-age={settings.page_cache_seconds}",
    }
    if etag:
        headers["ETag"] = etag
    return headers


def _root_page(request: Request, settings: ApiSettings, storage: Reader) -> Response:
    media = _negotiated(request)
    if isinstance(media, Response):
        return media
    cached = _cached_s3_etag(request.header("if-none-match"), _variant(media))
    fetched = storage.get(ROOT_JSON, if_none_match=cached)
    if isinstance(fetched, NotModified) and cached:
        return Response(304, b"", _page_headers(media, settings, _page_etag(cached, media)))
    projects: list[str] = []
    etag = None
    if isinstance(fetched, Blob):
        index = rootindex.decode(fetched.body)
        if index is None:
            # Not an empty list: that would be a cacheable page saying that the index
            # has no projects. The next reindex rewrites it, a rebuild with every project.
            logger.error("malformed root index %s: run serverless-pypi reindex", fetched.etag)
            return Response.text(
                503,
                "The list of projects is unreadable; project pages still work. "
                "If this lasts, run: serverless-pypi reindex --bucket <bucket>",
                **{"Cache-Control": _NO_STORE},
            )
        projects = rootindex.names(index)
        etag = _page_etag(fetched.etag, media)
    render = simple.root_json if media == negotiate.JSON_V1 else simple.root_html
    return Response(200, render(projects).encode(), _page_headers(media, settings, etag))


def _project_page(
    request: Request,
    settings: ApiSettings,
    storage: Reader,
    project: str,
    proxy: Proxy | None = None,
) -> Response:
    media = _negotiated(request)
    if isinstance(media, Response):
        return media
    stable = settings.link_mode == "redirect"  # presigned links differ on every request
    tag = request.header("if-none-match")
    cached = _cached_s3_etag(tag, _variant(media)) if stable else None
    fetched = storage.get(manifest_key(project), if_none_match=cached)
    if isinstance(fetched, NotModified) and cached:
        return Response(304, b"", _page_headers(media, settings, _page_etag(cached, media)))
    if stable and isinstance(fetched, Blob):
        # The page the reindexer stored with the manifest: passed through as it is.
        page = manifests.stored_page(
            fetched.body, fetched.metadata, _STORED[media], simple.RENDER_VERSION
        )
        if page is not None:
            headers = _page_headers(media, settings, _page_etag(fetched.etag, media))
            return Response(200, page, headers, encoding="gzip")
    manifest = manifests.decode(fetched.body) if isinstance(fetched, Blob) else None
    if not manifest:
        return _unknown_project(settings, storage, project, proxy, media)
    if not manifest.get("files") and manifests.project_status(manifest.get("status")) is None:
        if manifest.get("pending"):
            return _being_indexed(project)
        return _emptied_project(project, manifest)
    link: manifests.LinkFor
    if stable:
        link = functools.partial(manifests.relative_url, project)
    else:
        ttl = settings.presigned_url_ttl
        link = lambda entry: storage.presign(entry["key"], "GET", ttl)  # noqa: E731
    render = simple.project_json if media == negotiate.JSON_V1 else simple.project_html
    body = render(manifest, link, manifests.metadata_mode(manifest, presigned=not stable))
    etag = _page_etag(fetched.etag, media) if stable and isinstance(fetched, Blob) else None
    return Response(200, body.encode(), _page_headers(media, settings, etag))


def _unknown_project(
    settings: ApiSettings,
    storage: Reader,
    project: str,
    proxy: Proxy | None = None,
    media: str = negotiate.TEXT_HTML,
) -> Response:
    """No manifest. A name with any object in any spelling of its folder is
    private even so (its first reindex has not finished, or the derived data was
    lost): only a name the bucket has never held goes to the fallback index, with
    a redirect that no client keeps (or, in proxy mode, the upstream's page as
    ``proxy.py`` filters it). Finding the spellings costs one listing for
    a name that starts with a digit, two for a letter (``names.spelled_folders``)."""
    if proxy is not None:
        held, current = _upstream_page(storage, project, proxy)
        return _being_indexed(project) if held else proxy.page(project, media, current)
    if _held(storage, project):
        return _being_indexed(project)
    if settings.fallback_index_url:
        location = f"{settings.fallback_index_url}{quote(project)}/"
        return Response.redirect(302, location, _NO_STORE)
    return _not_found()


def _held(storage: Reader, project: str) -> bool:
    """Whether any spelling of the project's folder holds an object."""
    try:
        return bool(spelled_folders(project, storage.folders, storage.has_objects))
    except TooManyFolders as error:
        logger.warning("%s: treated as private: %s", project, error)
        return True


def _upstream_page(storage: Reader, project: str, proxy: Proxy) -> tuple[bool, Cached | None]:
    """Whether a project without a manifest (the caller read none) is held in any
    spelling of its folder, and its upstream page as the bucket keeps it.

    The folders are listed only when no fresh page is kept: a page is fetched, and
    revalidated, only after a listing found no folder, so within its TTL a name the
    bucket comes to hold is told by its manifest, which the reindexer writes within
    seconds of the first upload. A proxied page costs two S3 requests, the manifest's
    and the page's; each revalidation, the listings again."""
    current = proxy.peek(project)
    if proxy.fresh(current):
        return False, current
    return _held(storage, project), current


def _proxied(
    storage: Reader, project: str, proxy: Proxy | None, manifest: dict[str, str] | None
) -> tuple[Proxy, Cached | None] | None:
    """The proxy and the project's upstream page, when ``project`` is not private (no
    ``manifest``, the HEAD of it, and no folder: ``_upstream_page``); None
    otherwise, or without a proxy."""
    if proxy is None or manifest is not None:
        return None
    held, current = _upstream_page(storage, project, proxy)
    return None if held else (proxy, current)


def _being_indexed(project: str) -> Response:
    """A 503 that pip and uv retry after a short wait: the files are being read."""
    return Response.text(
        503,
        f"{project} has files in this index that are not indexed yet; try again shortly. "
        "If this lasts, run: serverless-pypi reindex --bucket <bucket>",
        **{"Cache-Control": _NO_STORE, "Retry-After": str(RETRY_AFTER)},
    )


def _emptied_project(project: str, manifest: manifests.Manifest) -> Response:
    """No file to serve: the name stays private (no fallback), so that a public
    project of the same name cannot take its place in an old requirement."""
    if manifest.get("skipped"):
        why = "its files could not be indexed (the reindex log says why)"
    else:
        # An empty manifest is a claimed name's or one whose files were all removed:
        # the manifest does not tell which.
        why = "it was claimed, or its files were removed"
    return Response.text(
        404,
        f"{project} has no installable file in this index: {why}; "
        "the name is not looked up on the fallback index.",
        **{"Cache-Control": _NO_STORE},
    )


# -- files ------------------------------------------------------------------


def _file(
    request: Request,
    settings: ApiSettings,
    storage: Reader,
    project: str,
    folder: str,
    filename: str,
    proxy: Proxy | None = None,
) -> Response:
    if filename.endswith(".metadata"):
        return _metadata(
            request, settings, storage, project, filename.removesuffix(".metadata"), proxy
        )
    if parse_filename(filename, project) is None:
        raise _NotFound
    manifest = storage.head(manifest_key(project))
    upstream = _proxied(storage, project, proxy, manifest) if folder == project else None
    if upstream is not None:
        return upstream[0].file(request.method, project, filename, upstream[1])
    _check_offered(manifest)
    # The key is built from a folder that is a spelling of the project and a
    # distribution filename of that project: nothing else can be presigned.
    location = storage.presign(f"{folder}/{filename}", request.method, settings.presigned_url_ttl)
    return Response.redirect(302, location, _NO_STORE)


def _metadata(
    request: Request,
    settings: ApiSettings,
    storage: Reader,
    project: str,
    filename: str,
    proxy: Proxy | None = None,
) -> Response:
    if parse_filename(filename, project) is None:
        raise _NotFound
    manifest = storage.head(manifest_key(project))
    upstream = _proxied(storage, project, proxy, manifest)
    if upstream is not None:
        return upstream[0].metadata(project, filename, upstream[1])
    _check_offered(manifest)
    cached = _cached_s3_etag(request.header("if-none-match"))
    fetched = storage.get(metadata_key(project, filename), if_none_match=cached)
    headers = {
        "Content-Type": "text/plain; charset=utf-8",
        "Cache-Control": f"max-age={settings.page_max_age}",
        "Vary": "Accept-Encoding",
    }
    if isinstance(fetched, NotModified) and cached:
        return Response(304, b"", {**headers, "ETag": f"W/{cached}"})
    if not isinstance(fetched, Blob):
        raise _NotFound
    return Response(200, fetched.body, {**headers, "ETag": f"W/{fetched.etag}"})


def _check_offered(metadata: dict[str, str] | None) -> None:
    """404 for any file of a quarantined project (PEP 792: none is offered), a link
    a lock file recorded included: ``metadata`` is the HEAD of its manifest (None:
    none), whose metadata says so."""
    if metadata is not None and manifests.stored_status(metadata) == manifests.QUARANTINED:
        raise _NotFound
