"""Lambda handler: the HTTP API's REQUEST authorizer (payload 2.0, simple responses).

API Gateway calls it with the ``Authorization`` header and the route key (both
identity sources, so its result cache is per header *and* route: a reader's
cached "allow" never opens the upload route). It answers
``{"isAuthorized": bool, "context": {...}}``. No credentials at all never reach
it (API Gateway answers 401 itself); wrong ones are a 403. No log line and no
answer ever holds a secret, a hash or the header.

What a request can cost, whoever sends it (docs/security.md, "Access control in
detail", says why each number is what it is):

- Reads: the users are read whole at most once per ``USER_CACHE_SECONDS`` (and at
  most once a second): the users file (``userfile.py``), one S3 GET (conditional:
  a 304 when unchanged), or while there is none the users' SSM parameters
  (GetParametersByPath, 10 a call, within Parameter Store's 40 calls a second per
  account). A name that is not among them is refused without any call. When a
  read fails (after retries with jittered backoff), the last list read stays in
  use for STALE_SECONDS more and the read is tried again every RETRY_SECONDS.
  Without a list that recent (a cold container, a long outage) the function
  fails: API Gateway answers 500, which it does not cache and pip and uv retry,
  rather than a cached 403.
- Memory: the list (at most MAX_USERS users) and VERIFIED_SIZE remembered
  secrets (digests); nothing per unknown name or per wrong secret.
- CPU: every failed check costs one scrypt, whether the name is a user's or not,
  a token's or a password's, on any route (the secret is checked before the
  right), however many came before: no budget, because a check that a budget
  skips would refuse the right secret too, and API Gateway would keep that
  refusal for the TTL. What bounds guessing is the scrypt per guess times the
  function's concurrency (``lambda_authorizer_reserved_concurrent_executions``).
  A secret verified once is remembered: it costs nothing more on this container.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from . import auth, publishers, uploadtoken, userfile
from .bounded import Clock, Lru
from .config import AuthSettings, ConfigError, log_level
from .headers import Headers, mapping
from .logs import get_logger
from .objects import AccessDenied, AwsError, Blob, NotModified

logger = get_logger(__name__)

MAX_USERS = 1000  # one users file; or 100 GetParametersByPath calls
MIN_REFRESH_SECONDS = 1  # USER_CACHE_SECONDS=0 reads the users at most once a second
STALE_SECONDS = 900  # how long the last list read outlives its cache period when reads fail
RETRY_SECONDS = 5  # between two failed reads of the list
VERIFIED_SIZE = 1024  # secrets verified, remembered as 32-byte digests


class UsersUnavailable(RuntimeError):
    """No list of users recent enough to decide with."""


# The users' records by name: what a parameter holds (JSON text), or that decoded.
Records = Mapping[str, object]


class ParameterLister(Protocol):
    def list(self, path: str, limit: int) -> tuple[dict[str, str], bool]: ...


class ObjectGetter(Protocol):
    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None: ...


class UserSource(Protocol):
    def read(self) -> tuple[Records, bool]:
        """The users' records, and whether that is all of them (at most MAX_USERS are);
        AwsError when they cannot be read."""
        ...


class ParameterSource:
    """The users' SSM parameters under the path: GetParametersByPath, 10 a call."""

    def __init__(self, path: str, lister: ParameterLister) -> None:
        self.path, self.lister = path, lister

    def read(self) -> tuple[Records, bool]:
        return self.lister.list(self.path, MAX_USERS)


class FileSource:
    """The users file of the path, one GET (a 304 when it is unchanged); while there
    is none, or it cannot be used, the users' parameters (``fallback``), which the
    file mirrors. S3 answers 403 for a missing key to a role that may not list the
    bucket (the authorizer's may not), so a 403 counts as no file."""

    def __init__(self, objects: ObjectGetter, path: str, fallback: UserSource) -> None:
        self.objects, self.path, self.fallback = objects, path, fallback
        self._last: tuple[str, Records, bool] | None = None  # the ETag, what it held
        self._missing_said = False

    def read(self) -> tuple[Records, bool]:
        why = "no users file in the bucket"
        try:
            found = self.objects.get(userfile.USERS_FILE, self._last[0] if self._last else None)
        except AccessDenied as error:  # S3's answer for a missing key, to this role
            found, why = None, f"no users file ({error})"
        if isinstance(found, NotModified) and self._last is not None:
            return self._last[1], self._last[2]
        self._last = None
        if not isinstance(found, Blob):
            if not self._missing_said:  # once per container: it is a state, not an event
                logger.warning(
                    "%s: the users' SSM parameters are read instead, 10 a call; "
                    "`serverless-pypi user sync` writes the file",
                    why,
                )
                self._missing_said = True
            return self.fallback.read()
        try:
            records = userfile.parse(found.body, self.path)
        except userfile.UnusableFile as error:
            logger.error("%s: the users' SSM parameters are read instead", error)
            return self.fallback.read()
        complete = len(records) <= MAX_USERS
        if not complete:
            records = dict(sorted(records.items())[:MAX_USERS])
        self._last = (found.etag, records, complete)
        return records, complete


@dataclass(frozen=True, slots=True)
class AuthorizerEvent:
    """What API Gateway asks a REQUEST authorizer (payload 2.0) about: the route key
    and the request's headers (powertools' ``APIGatewayAuthorizerEventV2``)."""

    route_key: str | None
    headers: Headers

    @classmethod
    def from_event(cls, event: Any) -> AuthorizerEvent:
        event = mapping(event)
        route = event.get("routeKey")
        return cls(route if isinstance(route, str) else None, Headers(event.get("headers")))


def users_of(records: Records) -> dict[str, auth.User]:
    """The users of their records by name; a record that cannot be used is logged."""
    users = {}
    for name, value in records.items():
        if not auth.valid_name(name):
            continue
        try:
            users[name] = auth.parse_record(name, value)
        except auth.AuthError as error:
            logger.error("%s", error)
    return users


class UserList:
    """The users of a source, read whole when the last read is ``seconds`` old, and
    kept STALE_SECONDS longer while reads fail."""

    def __init__(self, source: UserSource, seconds: int, clock: Clock = time.monotonic) -> None:
        self.source, self.clock = source, clock
        self.seconds = max(seconds, MIN_REFRESH_SECONDS)
        self._read: tuple[float, dict[str, auth.User]] | None = None  # when, and what
        self._records: Records | None = None  # what the last read parsed
        self._retry_at = float("-inf")
        self._reading = threading.Lock()

    def current(self) -> Mapping[str, auth.User] | None:
        """The users, read again first when due; None without a list recent enough."""
        # One thread reads; the others keep using the list they have (or, with none,
        # wait for that read).
        if self._due() and self._reading.acquire(blocking=self._read is None):
            try:
                if self._due():
                    self._refresh()
            finally:
                self._reading.release()
        read = self._read
        if read is None or self.clock() - read[0] >= self.seconds + STALE_SECONDS:
            return None
        return read[1]

    def __len__(self) -> int:
        """How many users the last read found."""
        return len(self._read[1]) if self._read else 0

    def _due(self) -> bool:
        now, read = self.clock(), self._read
        return now >= self._retry_at and (read is None or now - read[0] >= self.seconds)

    def _refresh(self) -> None:
        started = self.clock()
        try:
            records, complete = self.source.read()
        except AwsError as error:
            self._retry_at = started + RETRY_SECONDS
            kept = f"{started - self._read[0]:.0f} s old" if self._read else "none"
            logger.error("users could not be read: %s; the list kept: %s", error, kept)
            return
        if not complete:
            logger.error("more than %d users: the rest are refused", MAX_USERS)
        if self._read is not None and records is self._records:
            self._read = (started, self._read[1])  # unchanged (a 304): not parsed again
        else:
            self._read, self._records = (started, users_of(records)), records


class Secrets:
    """Checks secrets against the users' hashes, at a cost that tells no name, kind
    of secret or right apart: every check that fails costs one scrypt (see the
    module's docstring); a secret that matched is remembered."""

    def __init__(self) -> None:
        self.verified: Lru[bytes, bool] = Lru(VERIFIED_SIZE)
        self._lock = threading.Lock()

    def check(self, user: auth.User | None, secret: str) -> bool:
        """Whether ``secret`` is ``user``'s (never when there is no such user, nor
        once the user has expired: refused as a wrong secret is, at its cost)."""
        if user is None or auth.expired(user):
            auth.decoy(secret)
            return False
        key = _fingerprint(user, secret)
        with self._lock:
            if self.verified.get(key):
                return True
        if auth.verify(secret, user.hash):
            with self._lock:
                self.verified.put(key, True)
            return True
        if not user.password:
            auth.decoy(secret)  # a wrong token's SHA-256 alone would tell it apart
        return False


def _fingerprint(user: auth.User, secret: str) -> bytes:
    """What a verified secret is remembered by: a digest of the user, their stored
    hash (a new secret or record is checked afresh) and the secret."""
    return hashlib.sha256("\0".join((user.name, user.hash, secret)).encode()).digest()


def context_of(user: auth.User) -> dict[str, str]:
    """The context an allowed request carries to the functions: the user, their
    rights, and the upload right's project patterns (the upload function checks
    the project, which an authorizer cannot see: it is in the body)."""
    context = {"user": user.name, "rights": ",".join(r for r in auth.RIGHTS if r in user.rights)}
    if "upload" in user.rights:
        context["projects"] = ",".join(user.projects)
    return context


class Authorizer:
    """Decides one request from its ``Authorization`` header and route key."""

    def __init__(
        self,
        settings: AuthSettings,
        parameters: ParameterLister,
        clock: Clock = time.monotonic,
        *,
        objects: ObjectGetter | None = None,
        trust: publishers.TrustCache | None = None,
        wall_clock: Clock = time.time,
    ) -> None:
        """The users are read from ``objects`` (the users file in the settings' bucket)
        and, while there is no file or without ``objects``, from ``parameters``.
        With ``trust`` (trusted publishing), an upload token minted by ``mint.py``
        opens the upload routes: checked with the trust file's keys, which ``trust``
        reads on the users' cache period, and ``wall_clock`` for its expiry."""
        self.settings = settings
        self.trust, self.wall_clock = trust, wall_clock
        source: UserSource = ParameterSource(settings.users_path, parameters)
        if objects is not None:
            source = FileSource(objects, settings.users_path, source)
        self.users = UserList(source, settings.cache_seconds, clock)
        self.secrets = Secrets()

    @classmethod
    def from_env(cls) -> Authorizer:
        from .s3http import S3Reader
        from .ssm import SsmReader

        settings = AuthSettings.from_env()
        objects = S3Reader.from_env(settings.bucket) if settings.bucket else None
        trust = None
        if objects is not None and settings.trusted_publishing:
            trust = publishers.TrustCache(objects, settings.cache_seconds)
        return cls(settings, SsmReader.from_env(), objects=objects, trust=trust)

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        started = time.perf_counter()
        request = AuthorizerEvent.from_event(event)
        route_key = request.route_key
        minted = uploadtoken.from_basic(request.headers.get("authorization"))
        if minted is not None:
            return self._minted(minted, route_key, started)
        credentials = auth.parse_basic(request.headers.get("authorization"))
        user, allowed = self._decide(credentials, route_key) if credentials else (None, False)
        logger.info(
            "%s %s %s %.1fms",
            "allow" if allowed else "deny",
            # Only a name that is a user's: an unknown one may be a secret typed
            # in the wrong field.
            user.name if user else "-",
            route_key or "-",
            (time.perf_counter() - started) * 1000,
        )
        if not allowed or user is None:
            return {"isAuthorized": False}
        return {"isAuthorized": True, "context": context_of(user)}

    def _minted(self, token: str, route_key: str | None, started: float) -> dict[str, Any]:
        """The verdict on a trusted publisher's upload token: the upload routes
        only, to its projects (the upload function checks the project, the expiry
        again and whether it was burned); no S3 or SSM call but the trust file's
        periodic read."""
        checked = None
        if self.trust is not None:
            checked = uploadtoken.check(token, self.trust.key, self.wall_clock())
        allowed = checked is not None and route_key in auth.UPLOAD_ROUTES
        logger.info(
            "%s %s %s %.1fms",
            "allow" if allowed else "deny",
            f"token {checked.jti} of {checked.by}" if checked else "an upload token",
            route_key or "-",
            (time.perf_counter() - started) * 1000,
        )
        if not allowed or checked is None:
            return {"isAuthorized": False}
        return {"isAuthorized": True, "context": uploadtoken.context(checked)}

    def _decide(
        self, credentials: auth.BasicCredentials, route_key: str | None
    ) -> tuple[auth.User | None, bool]:
        """The user these credentials name, if any, and whether they open the route."""
        users = self.users.current()
        if users is None:
            raise UsersUnavailable("no list of users read recently enough: see the errors above")
        user = users.get(credentials.user)
        verified = self.secrets.check(user, credentials.secret)
        return user, verified and user is not None and auth.grants(user, route_key)


@functools.cache
def default_authorizer() -> Authorizer:
    """The Authorizer of this container, made once from Lambda's environment."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    return Authorizer.from_env()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point. A failure denies (a 403) and says why in the log,
    except when the users cannot be read: then the invocation fails, and API
    Gateway answers 500, which it does not cache (a 403 would be, for the TTL)."""
    try:
        return default_authorizer()(event, context)
    except UsersUnavailable as error:
        logger.error("%s", error)
        raise
    except ConfigError as error:
        logger.error("configuration: %s", error)
    except Exception:
        logger.exception("unexpected error")
    return {"isAuthorized": False}
