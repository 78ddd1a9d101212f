"""Lambda handler: the HTTP API's REQUEST authorizer (payload 2.0, simple responses).

API Gateway calls it with the ``Authorization`` header and the route key (both
identity sources, so its result cache is per header *and* route: a reader's
cached "allow" never opens the upload route). It answers
``{"isAuthorized": bool, "context": {...}}``. No credentials at all never reach
it (API Gateway answers 401 itself); wrong ones are a 403.

A warm function keeps user records and verdicts for ``USER_CACHE_SECONDS``, so a
password's scrypt is paid once per user and secret, not per request. No log
line and no answer ever holds a secret, a hash or the header.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import auth
from .apigw import AuthorizerRequest
from .config import AuthSettings, ConfigError, log_level
from .logs import get_logger
from .objects import StorageError

logger = get_logger(__name__)


class ParameterReader(Protocol):
    def get(self, name: str) -> str | None: ...


@dataclass(slots=True)
class _Cache:
    """Users and verdicts of a warm function, each for ``seconds``."""

    seconds: int
    clock: Callable[[], float] = time.monotonic
    users: dict[str, tuple[float, auth.User | None]] = field(default_factory=dict)
    verdicts: dict[tuple[str, str, str], tuple[float, bool]] = field(default_factory=dict)

    def fresh(self, stamp: float) -> bool:
        return self.clock() - stamp < self.seconds


class Authorizer:
    """Decides one request from its ``Authorization`` header and route key."""

    def __init__(self, settings: AuthSettings, parameters: ParameterReader) -> None:
        self.settings = settings
        self.parameters = parameters
        self.cache = _Cache(settings.cache_seconds)

    @classmethod
    def from_env(cls) -> Authorizer:
        from .ssm import SsmReader

        return cls(AuthSettings.from_env(), SsmReader.from_env())

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        started = time.perf_counter()
        request = AuthorizerRequest.from_event(event)
        route_key = request.route_key
        credentials = auth.parse_basic(request.headers.get("authorization"))
        user: auth.User | None = None
        allowed = False
        if credentials is not None:
            user = self._user(credentials.user)
            allowed = self._verdict(user, credentials, route_key)
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
        rights = ",".join(right for right in auth.RIGHTS if right in user.rights)
        return {"isAuthorized": True, "context": {"user": user.name, "rights": rights}}

    def _user(self, name: str) -> auth.User | None:
        cached = self.cache.users.get(name)
        if cached is not None and self.cache.fresh(cached[0]):
            return cached[1]
        value = self.parameters.get(self.settings.users_path + name)
        user = None
        if value is not None:
            try:
                user = auth.parse_record(name, value)
            except auth.AuthError as error:
                logger.error("%s", error)
        self.cache.users[name] = (self.cache.clock(), user)
        return user

    def _verdict(
        self, user: auth.User | None, credentials: auth.Credentials, route_key: str | None
    ) -> bool:
        if user is None:
            return auth.allows(None, credentials, route_key)
        # Keyed by a digest of the secret and the stored hash: a rotated secret or a
        # changed record is decided afresh.
        secret = hashlib.sha256(credentials.secret.encode()).hexdigest()
        key = (user.name + "\0" + user.hash, secret, auth.required_right(route_key))
        cached = self.cache.verdicts.get(key)
        if cached is not None and self.cache.fresh(cached[0]):
            return cached[1]
        verdict = auth.allows(user, credentials, route_key)
        self.cache.verdicts[key] = (self.cache.clock(), verdict)
        return verdict


@functools.cache
def default_authorizer() -> Authorizer:
    """The Authorizer of this container, made once from Lambda's environment."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    return Authorizer.from_env()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point. Any failure denies (a 403), and says why in the log."""
    try:
        return default_authorizer()(event, context)
    except ConfigError as error:
        logger.error("configuration: %s", error)
    except StorageError as error:
        logger.error("users could not be read: %s", error)
    except Exception:
        logger.exception("unexpected error")
    return {"isAuthorized": False}
