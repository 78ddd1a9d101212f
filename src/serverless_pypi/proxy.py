"""The proxy mode of the api: a name the bucket never held gets the upstream's page,
kept in the bucket, filtered by the cooldown and the policy, with links to this API.

Per page, within ``upstream_page_ttl``: one GET of the cached page
(``layout.upstream_page_key``) and, at most every POLICY_TTL seconds, one GET of
the policy; no upstream request. After it: one conditional GET upstream
(If-None-Match), and one PUT of the page (or of its new fetch time). When the
upstream fails, the last good page is served, and the failure is kept with it
(``status`` shows it) so that the next request does not wait for it again.

A file link answers with the kept copy (``keeper.py``) once it exists and has the
page's SHA-256; before that, with a redirect to the upstream's URL (the page's hash
protects the client), and the first such request asks the keeper for a copy. A file
that the page does not offer (too young, denied, removed upstream) is a 404.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from . import negotiate, payload, upstream, upstreampolicy
from .apigw import Response
from .config import ApiSettings
from .layout import UPSTREAM_POLICY, upstream_file_key, upstream_page_key
from .logs import get_logger, printable
from .objects import AwsError, Blob, NotModified
from .upstream import Cached, Fetched, UpstreamError, UpstreamFile
from .upstreampolicy import POLICY_TTL, Policy

logger = get_logger(__name__)

_NO_STORE = "no-store"
KEPT_SHA256 = "sha256"  # the kept copy's metadata: the SHA-256 it was verified against
_KEEP_AGAIN = 600.0  # seconds before a container asks again for a copy it asked for
# Pages a warm container keeps: the cached upstream page it read last (GET again with
# If-None-Match: a 304 spares decoding it), and the page it rendered from it.
MEMO_PAGES = 64
POLICY_CHANGE = 60  # seconds within which a change of the policy takes effect


class Store(Protocol):
    """What the proxy needs of the bucket (``s3http.S3Reader`` has it)."""

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None: ...

    def head(self, key: str) -> dict[str, str] | None: ...

    def put(self, key: str, body: bytes, content_type: str = ...) -> str: ...

    def presign(self, key: str, method: str, ttl: int) -> str: ...


@dataclass(frozen=True, slots=True)
class KeepJob:
    """One upstream file to keep: what the keeper is told (and checks again)."""

    project: str
    filename: str
    url: str
    sha256: str
    size: int | None = None
    core_metadata: str | None = None  # the SHA-256 of its PEP 658 metadata, if announced

    def to_event(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "project": self.project,
            "filename": self.filename,
            "url": self.url,
            "sha256": self.sha256,
        }
        if self.size is not None:
            event["size"] = self.size
        if self.core_metadata is not None:
            event["core-metadata"] = self.core_metadata
        return event


class Keeper(Protocol):
    """Starts keeping a copy, outside the request (a thread, an asynchronous Lambda)."""

    def keep(self, job: KeepJob) -> None: ...


class UpstreamUnavailable(Exception):
    """No page of the project could be read, now or before."""


class Proxy:
    def __init__(
        self,
        settings: ApiSettings,
        store: Store,
        keeper: Keeper | None = None,
        fetch: Callable[[str, str, str], upstream.Fetched | upstream.Unchanged] = upstream.fetch,
        clock: Callable[[], float] = time.time,
        policy_ttl: int = POLICY_TTL,
    ) -> None:
        if settings.fallback_index_url is None:
            raise ValueError("the proxy mode needs an upstream (the fallback index URL)")
        self.settings = settings
        self.index_url = settings.fallback_index_url
        self.store = store
        self.keeper = keeper
        self.fetch = fetch
        self.clock = clock
        self.policy_ttl = policy_ttl
        self._policy: tuple[float, Policy, str] | None = None
        self._pages: OrderedDict[str, Cached] = OrderedDict()
        self._rendered: OrderedDict[tuple[str, ...], tuple[bytes, float]] = OrderedDict()
        self._asked: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._logged: set[str] = set()

    # -- the policy and the page -----------------------------------------------

    def policy(self) -> Policy:
        """The policy, read at most every ``policy_ttl`` seconds. Unreadable: ValueError."""
        return self._read_policy()[0]

    def _read_policy(self) -> tuple[Policy, str]:
        """The policy and a tag of its content (what a rendered page depends on)."""
        now = self.clock()
        cached = self._policy
        if cached is not None and 0 <= now - cached[0] < self.policy_ttl:
            return cached[1], cached[2]
        found = self.store.get(UPSTREAM_POLICY)
        body = found.body if isinstance(found, Blob) else None
        policy = upstreampolicy.decode(body, self.settings.upstream_allow_only)
        tag = hashlib.sha256(body).hexdigest() if body is not None else "-"
        self._policy = (now, policy, tag)
        return policy, tag

    def _log_once(self, message: str) -> None:
        if message not in self._logged:
            if len(self._logged) > 10_000:
                self._logged.clear()
            self._logged.add(message)
            logger.warning("%s", printable(message, limit=300))

    def peek(self, project: str) -> Cached | None:
        """The project's upstream page as the bucket keeps it, fresh or not (one GET,
        answered 304 when this container holds it already); None when none is kept."""
        key = upstream_page_key(project)
        held = self._pages.get(project)
        found = self.store.get(key, if_none_match=held.s3_etag if held else None)
        if isinstance(found, NotModified) and held is not None:
            current: Cached | None = held
        elif isinstance(found, Blob):
            current = upstream.decode(found.body, project, found.etag)
        else:
            current = None
        if current is not None and current is not held:
            self._remember(project, current)
        return current

    def fresh(self, current: Cached | None) -> bool:
        """Whether ``current`` is served as it is, without asking the upstream."""
        return current is not None and current.fresh(self.clock(), self.settings.upstream_page_ttl)

    def cached(self, project: str, current: Cached | None) -> Cached:
        """The project's upstream page: ``current`` (what ``peek`` read), revalidated
        upstream when older than the page TTL."""
        key = upstream_page_key(project)
        now = self.clock()
        if current is not None and current.fresh(now, self.settings.upstream_page_ttl):
            return current
        cooldown = self.settings.upstream_cooldown
        etag = current.etag if current is not None and not current.page.missing else ""
        try:
            answer = self.fetch(self.index_url, project, etag)
        except UpstreamError as error:
            self._log_once(str(error))
            if current is None:
                raise UpstreamUnavailable(str(error)) from None
            kept = Cached(current.page, now, current.etag, str(error), cooldown=cooldown)
            self._save(key, kept)
            return kept
        if isinstance(answer, Fetched):
            if answer.page.dropped:
                self._log_once(
                    f"{project}: {answer.page.dropped} upstream files left out as malformed"
                )
            fresh = Cached(answer.page, now, answer.etag, cooldown=cooldown)
        else:
            assert current is not None  # a 304 answers only the ETag we sent
            fresh = Cached(current.page, now, current.etag, cooldown=cooldown)
        self._save(key, fresh)
        return fresh

    def _save(self, key: str, cached: Cached) -> None:
        try:
            etag = self.store.put(key, upstream.encode(cached), "application/gzip")
        except AwsError as error:
            # The page is still served; the next request fetches it again.
            logger.error("could not keep the upstream page %s: %s", key, error)
            return
        if etag:
            self._remember(cached.page.project, replace(cached, s3_etag=etag))

    def _remember(self, project: str, cached: Cached) -> None:
        with self._lock:
            self._pages[project] = cached
            self._pages.move_to_end(project)
            while len(self._pages) > MEMO_PAGES:
                self._pages.popitem(last=False)

    def _offer(
        self, project: str, current: Cached | None
    ) -> tuple[Cached, upstream.Offer, str] | Response:
        try:
            policy, tag = self._read_policy()
        except ValueError as error:
            logger.error("the upstream policy is unreadable: %s", error)
            return Response.text(
                503,
                "The upstream policy of this index is unreadable; nothing is proxied "
                "until it is fixed (serverless-pypi upstream show).",
                **{"Cache-Control": _NO_STORE},
            )
        if not policy.proxies(project):
            return Response.text(
                404,
                f"{project} is not in this index, and the upstream index only serves the "
                "projects an allow names here.",
                **{"Cache-Control": _NO_STORE},
            )
        try:
            cached = self.cached(project, current)
        except UpstreamUnavailable:
            return Response.text(
                502,
                f"The upstream index did not answer for {project}, and no earlier copy of "
                "its page is kept; try again.",
                **{"Cache-Control": _NO_STORE, "Retry-After": "10"},
            )
        if cached.page.missing:
            return Response.text(
                404, f"{project} is not in this index or upstream.", **{"Cache-Control": _NO_STORE}
            )
        offer = upstream.offer(cached.page, policy, self.settings.upstream_cooldown, self.clock())
        return cached, offer, tag

    # -- the routes -------------------------------------------------------------

    def page(self, project: str, media: str, current: Cached | None) -> Response:
        """The project's page (``current``: what ``peek`` read)."""
        found = self._offer(project, current)
        if isinstance(found, Response):
            return found
        cached, offer, tag = found
        if media == negotiate.JSON_V1:
            content_type = negotiate.JSON_V1
        else:
            content_type = (
                negotiate.HTML_V1 if media == negotiate.HTML_V1 else "text/html; charset=utf-8"
            )
        headers = {
            "Content-Type": content_type,
            "Vary": "Accept, Accept-Encoding",
            "Cache-Control": f"max-age={self.max_age}",
        }
        return Response(200, self._render(cached, offer, tag, media), headers, encoding="gzip")

    @property
    def max_age(self) -> int:
        """How long a client may reuse a proxied page: with the policy's own cache, a
        deny reaches every client within POLICY_CHANGE seconds."""
        return max(0, min(self.settings.page_cache_seconds, POLICY_CHANGE - self.policy_ttl))

    def _render(self, cached: Cached, offer: upstream.Offer, tag: str, media: str) -> bytes:
        """The page, gzipped as the api sends it (one gzip member, as the reindexer stores
        a private page), rendered once per kept page, policy and media type while no
        held file comes out of the cooldown (``Offer.until``)."""
        json_page = media == negotiate.JSON_V1
        memo = (cached.page.project, cached.s3_etag, str(cached.fetched), tag, str(json_page))
        found = self._rendered.get(memo) if cached.s3_etag else None
        if found is not None and self.clock() < found[1]:
            return found[0]
        render = upstream.render_json if json_page else upstream.render_html
        body = payload.gzipped(render(cached.page, offer.files).encode())
        if cached.s3_etag:
            with self._lock:
                self._rendered[memo] = (body, offer.until)
                while len(self._rendered) > 2 * MEMO_PAGES:
                    self._rendered.popitem(last=False)
        return body

    def _offered(
        self, project: str, filename: str, current: Cached | None
    ) -> UpstreamFile | Response:
        found = self._offer(project, current)
        if isinstance(found, Response):
            return found
        file = upstream.find(found[1].files, filename)
        if file is None:
            return Response.text(
                404,
                f"{filename} is not offered by this index (held back by the cooldown or "
                "the policy, or not upstream).",
                **{"Cache-Control": _NO_STORE},
            )
        return file

    def file(self, method: str, project: str, filename: str, current: Cached | None) -> Response:
        file = self._offered(project, filename, current)
        if isinstance(file, Response):
            return file
        key = upstream_file_key(project, filename)
        kept = self.store.head(key)
        if kept is not None and kept.get(KEPT_SHA256) == file["sha256"]:
            location = self.store.presign(key, method, self.settings.presigned_url_ttl)
            return Response.redirect(302, location, _NO_STORE)
        self._keep(project, file)
        return Response.redirect(302, file["url"], _NO_STORE)

    def metadata(self, project: str, filename: str, current: Cached | None) -> Response:
        file = self._offered(project, filename, current)
        if isinstance(file, Response):
            return file
        if "core_metadata" not in file:
            return Response.text(404, "Not found.", **{"Cache-Control": _NO_STORE})
        key = upstream_file_key(project, filename) + ".metadata"
        kept = self.store.head(key)
        if kept is not None and kept.get(KEPT_SHA256) == file["core_metadata"]:
            location = self.store.presign(key, "GET", self.settings.presigned_url_ttl)
            return Response.redirect(302, location, _NO_STORE)
        # The page announced its hash: pip and uv check the bytes against it.
        return Response.redirect(302, file["url"] + ".metadata", _NO_STORE)

    def _keep(self, project: str, file: UpstreamFile) -> None:
        if self.keeper is None:
            return
        now = self.clock()
        ask = (project, file["filename"])
        with self._lock:
            if now - self._asked.get(ask, -_KEEP_AGAIN) < _KEEP_AGAIN:
                return
            if len(self._asked) > 10_000:
                self._asked.clear()
            self._asked[ask] = now
        job = KeepJob(
            project,
            file["filename"],
            file["url"],
            file["sha256"],
            file.get("size"),
            file.get("core_metadata"),
        )
        try:
            self.keeper.keep(job)
        except Exception:  # a copy not started is asked for again by a later download
            logger.exception("could not ask for a copy of %s", file["filename"])
