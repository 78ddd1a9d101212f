"""Every function's settings, from its Lambda environment, validated once per
container (``from_env``); ``serve`` and the tests build them directly.

- ``ApiSettings``: the api's (the simple API);
- ``ReindexSettings``: the reindexer's;
- ``UploadSettings``: the upload function's;
- ``AuthSettings``: the authorizer's;
- ``MintSettings``: the trusted publishing routes' (``mint.py``).
- ``UiSettings``: the pages for people's (the api's and, with a login, the authorizer's).

main.tf's ``environment`` blocks set the variables read here; a test ties the two.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

LINK_MODES = ("redirect", "presigned")
# Where the index is on the API: under /simple/, or at its root as the older module
# serves it (/ the root page, /<project>/ the project pages).
INDEX_PATHS = ("/simple/", "/")
MAX_PRESIGN_TTL = 604_800  # SigV4 presigned URLs live at most 7 days
# Where the users are in SSM Parameter Store: the module's users_ssm_path, whose
# default is "/<name>/users/" (name defaults to "serverless-pypi"). The rule is
# variables.tf's validation of it (tests/unit/test_config.py ties them).
DEFAULT_USERS_PATH = "/serverless-pypi/users/"
USERS_PATH_PATTERN = r"^/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/$"
MAX_USERS_PATH = 900
MAX_USERS_PATH_LEVELS = 14  # SSM allows 15 levels in a name; the user's name is the last
UPLOAD_RIGHTS = ("required", "authorizer")
# What a name the bucket never held gets: a redirect to the fallback index (today's
# behaviour), or the fallback's page, filtered and linked to this API (``proxy.py``).
UPSTREAM_MODES = ("redirect", "proxy")
DEFAULT_COOLDOWN = "7d"
# A cooldown: "0", or a whole number of days, hours or minutes (variables.tf's rule).
DURATION_PATTERN = r"^(0|[1-9][0-9]{0,4}[dhm])$"
_DURATION_UNITS = {"d": 86_400, "h": 3600, "m": 60}
MAX_PAGE_TTL = 86_400
LOCAL_VERSIONS = ("accept", "refuse")  # whether the upload route takes `1.0+cpu`
# An EventBridge bus: its name, or its ARN (variables.tf's validation of
# event_bus_name; tests/unit/test_config.py ties them).
EVENT_BUS_PATTERN = (
    r"[A-Za-z0-9._\-/]{1,256}"
    r"|arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._\-/]{1,256}"
)


class ConfigError(ValueError):
    """The environment does not describe a usable index."""


def log_level(env: Mapping[str, str] | None = None) -> int:
    """``LOG_LEVEL`` as a logging level; INFO when unset or not a level name."""
    env = os.environ if env is None else env
    level = logging.getLevelName(env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO")
    return level if isinstance(level, int) else logging.INFO


@dataclass(frozen=True, slots=True)
class ApiSettings:
    bucket: str
    fallback_index_url: str | None = None
    presigned_url_ttl: int = 900
    link_mode: str = "redirect"
    page_max_age: int = 60
    index_path: str = "/simple/"
    upstream_mode: str = "redirect"
    upstream_cooldown: int = 7 * 86_400  # seconds
    upstream_page_ttl: int = 300  # seconds a fetched upstream page is reused
    upstream_allow_only: bool = False
    keeper_function: str | None = None  # the Lambda that keeps upstream files (proxy)

    @property
    def proxy(self) -> bool:
        return self.upstream_mode == "proxy" and self.fallback_index_url is not None

    @property
    def index_prefix(self) -> str:
        """The path segment before project names: "simple", or "" at the API root."""
        return self.index_path.strip("/")

    @property
    def page_cache_seconds(self) -> int:
        """How long a client may reuse a page.

        In-page presigned links must outlive the cached page, so then the
        page lives at most half as long as its links.
        """
        if self.link_mode == "presigned":
            return min(self.page_max_age, self.presigned_url_ttl // 2)
        return self.page_max_age

    @classmethod
    def from_options(
        cls,
        bucket: str,
        fallback_index_url: str | None = None,
        link_mode: str | None = None,
        presigned_url_ttl: int | None = None,
        page_max_age: int | None = None,
        index_path: str | None = None,
        upstream_mode: str | None = None,
        upstream_cooldown: str | None = None,
    ) -> ApiSettings:
        """The settings from command-line options, checked as the environment is."""
        given = {
            "S3_BUCKET": bucket,
            "FALLBACK_INDEX_URL": fallback_index_url,
            "LINK_MODE": link_mode,
            "S3_PRESIGNED_URL_TTL": presigned_url_ttl,
            "PAGE_MAX_AGE": page_max_age,
            "INDEX_PATH": index_path,
            "UPSTREAM_MODE": upstream_mode,
            "UPSTREAM_COOLDOWN": upstream_cooldown,
        }
        return cls.from_env({name: str(value) for name, value in given.items() if value})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if env is None else env
        bucket = required_bucket(env)
        link_mode = _choice(env, "LINK_MODE", LINK_MODES)
        index_path = _choice(env, "INDEX_PATH", INDEX_PATHS)
        return cls(
            index_path=index_path,
            bucket=bucket,
            fallback_index_url=_fallback(env.get("FALLBACK_INDEX_URL", "")),
            presigned_url_ttl=_integer(env, "S3_PRESIGNED_URL_TTL", 900, 1, MAX_PRESIGN_TTL),
            link_mode=link_mode,
            page_max_age=_integer(env, "PAGE_MAX_AGE", 60, 0, 86_400),
            upstream_mode=_choice(env, "UPSTREAM_MODE", UPSTREAM_MODES),
            upstream_cooldown=duration(env.get("UPSTREAM_COOLDOWN", "") or DEFAULT_COOLDOWN),
            upstream_page_ttl=_integer(env, "UPSTREAM_PAGE_TTL", 300, 0, MAX_PAGE_TTL),
            upstream_allow_only=env.get("UPSTREAM_ALLOW_ONLY", "").strip() == "true",
            keeper_function=env.get("KEEPER_FUNCTION", "").strip() or None,
        )


def duration(raw: str) -> int:
    """A cooldown ("7d", "36h", "90m", or "0") in seconds."""
    value = raw.strip()
    if not re.match(DURATION_PATTERN, value):
        raise ConfigError(
            f'a cooldown is "0" or a whole number of days, hours or minutes ("7d", "36h", '
            f'"90m"), not {value!r}'
        )
    return 0 if value == "0" else int(value[:-1]) * _DURATION_UNITS[value[-1]]


@dataclass(frozen=True, slots=True)
class ReindexSettings:
    bucket: str
    # The EventBridge bus (a name or an ARN) that hears of each change the
    # reindexer makes visible; None: no events.
    event_bus: str | None = None
    # Whether each event also updates the catalog the pages for people list
    # (``catalog.py``): one GET and one conditional PUT more, so only with the pages.
    catalog: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReindexSettings:
        env = os.environ if env is None else env
        bus = event_bus(env.get("EVENT_BUS", ""))
        return cls(required_bucket(env), bus, env.get("UI_CATALOG", "") == "true")


def event_bus(raw: str | None) -> str | None:
    """An event bus name or ARN, checked as variables.tf checks event_bus_name;
    None when none is given."""
    bus = (raw or "").strip()
    if not bus:
        return None
    if not re.fullmatch(EVENT_BUS_PATTERN, bus):
        raise ConfigError(
            f"the event bus must be a bus name (letters, digits and '._-/', at most 256 "
            f"characters) or an event-bus ARN, not {bus!r}"
        )
    return bus


@dataclass(frozen=True, slots=True)
class UploadSettings:
    bucket: str
    # Whether the function checks the "upload" right in the authorizer's context
    # (the module's own authorizer), or leaves the decision to a caller's authorizer.
    require_upload_right: bool = True
    # The api's fallback index: a name that the bucket never held and that this
    # index has is not uploaded until it is claimed (``serverless-pypi claim``).
    fallback_index_url: str | None = None
    # Whether a local version (``1.0+cpu``) is refused, as PyPI refuses it: beside
    # an owner's ``1.0``, ``pip install X==1.0`` would take it.
    refuse_local_versions: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UploadSettings:
        env = os.environ if env is None else env
        right = _choice(env, "UPLOAD_RIGHT", UPLOAD_RIGHTS)
        fallback = _fallback(env.get("FALLBACK_INDEX_URL", ""))
        local = _choice(env, "LOCAL_VERSIONS", LOCAL_VERSIONS)
        return cls(required_bucket(env), right == "required", fallback, local == "refuse")


@dataclass(frozen=True, slots=True)
class AuthSettings:
    users_path: str = DEFAULT_USERS_PATH
    cache_seconds: int = 60  # how long a warm authorizer keeps a user record
    # The bucket of the users file (``userfile.py``); without it, only the users'
    # SSM parameters are read.
    bucket: str | None = None
    # Whether minted upload tokens open the upload routes (trusted publishing,
    # mint.py): their keys are in the trust file of the bucket.
    trusted_publishing: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        env = os.environ if env is None else env
        return cls(
            users_path(env.get("USERS_PATH", "")),
            _integer(env, "USER_CACHE_SECONDS", 60, 0, 3600),
            env.get("S3_BUCKET", "").strip() or None,
            env.get("TRUSTED_PUBLISHING", "").strip() == "true",
        )


UI_LOGINS = ("basic", "none")  # whether the pages for people ask for a login
_REALM = re.compile(r"[A-Za-z0-9 ._:/()-]{1,64}")


@dataclass(frozen=True, slots=True)
class UiSettings:
    """The pages for people: where the index is (the api's settings) and, when
    ``auth`` is set, the users who may read it (the authorizer's settings), asked
    for with HTTP Basic in ``realm``."""

    api: ApiSettings
    auth: AuthSettings | None = None
    realm: str = "serverless-pypi"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UiSettings:
        env = os.environ if env is None else env
        login = _choice(env, "UI_LOGIN", UI_LOGINS)
        realm = env.get("UI_REALM", "").strip() or "serverless-pypi"
        if not _REALM.fullmatch(realm):
            raise ConfigError(
                "UI_REALM must be 1 to 64 letters, digits, spaces and '._:/()-', "
                f"not {realm[:100]!r}"
            )
        auth = AuthSettings.from_env(env) if login == "basic" else None
        return cls(ApiSettings.from_env(env), auth, realm)


def users_path(raw: str | None) -> str:
    """A users path, checked as variables.tf checks users_ssm_path; the default
    when none is given."""
    path = (raw or "").strip() or DEFAULT_USERS_PATH
    if (
        not re.match(USERS_PATH_PATTERN, path)
        or len(path) > MAX_USERS_PATH
        or path.count("/") - 1 > MAX_USERS_PATH_LEVELS
    ):
        raise ConfigError(
            f"the users path must start and end with '/', hold only letters, digits and "
            f"'_.-/' with no empty level, at most {MAX_USERS_PATH_LEVELS} levels and "
            f"{MAX_USERS_PATH} characters, not {path!r}"
        )
    return path


def required_bucket(env: Mapping[str, str]) -> str:
    """``S3_BUCKET``, which every handler needs."""
    bucket = env.get("S3_BUCKET", "").strip()
    if not bucket:
        raise ConfigError("S3_BUCKET is not set")
    return bucket


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of ``choices`` (the first when unset or empty)."""
    value = env.get(name, "").strip() or choices[0]
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number of seconds from ``low`` to ``high`` (``default`` when unset):
    ASCII digits only, so that "٣" or "1_000" is an error, not a number."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ConfigError(f"{name} must be a whole number of seconds, not {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _fallback(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"FALLBACK_INDEX_URL must be an http(s) URL without query, not {raw!r}")
    return raw if raw.endswith("/") else raw + "/"


# Trusted publishing (mint.py): an upload token lives 15 minutes by default, 5
# minutes to 6 hours (variables.tf's trusted_publishing_token_ttl).
TOKEN_TTL_DEFAULT, TOKEN_TTL_MIN, TOKEN_TTL_MAX = 900, 300, 21_600


@dataclass(frozen=True, slots=True)
class MintSettings:
    """The mint function's: the audience its OIDC tokens must name, the issuers it
    trusts beyond GitHub's and gitlab.com's, how long a minted token lives."""

    bucket: str
    audience: str
    issuers: tuple[str, ...] = ()
    token_ttl: int = TOKEN_TTL_DEFAULT
    cache_seconds: int = 60  # how long the trust file is kept before a conditional GET

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MintSettings:
        env = os.environ if env is None else env
        audience = env.get("TRUSTED_PUBLISHING_AUDIENCE", "").strip()
        if not audience or len(audience) > 255 or not audience.isprintable():
            raise ConfigError("TRUSTED_PUBLISHING_AUDIENCE must be 1 to 255 printable characters")
        issuers = tuple(
            issuer.strip()
            for issuer in env.get("TRUSTED_PUBLISHING_ISSUERS", "").split(",")
            if issuer.strip()
        )
        ttl = _integer(
            env, "TRUSTED_PUBLISHING_TOKEN_TTL", TOKEN_TTL_DEFAULT, TOKEN_TTL_MIN, TOKEN_TTL_MAX
        )
        cache = _integer(env, "USER_CACHE_SECONDS", 60, 0, 3600)
        return cls(required_bucket(env), audience, issuers, ttl, cache)
