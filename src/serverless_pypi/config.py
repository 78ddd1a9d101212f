"""Settings from the Lambda environment, validated once per container."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

LINK_MODES = ("redirect", "presigned")
# Where the index is on the API: under /simple/, or at its root as the older module
# serves it (/ the root page, /<project>/ the project pages).
INDEX_PATHS = ("/simple/", "/")
MAX_PRESIGN_TTL = 604_800  # SigV4 presigned URLs live at most 7 days


class ConfigError(ValueError):
    """The environment does not describe a usable index."""


def log_level(env: Mapping[str, str] | None = None) -> int:
    """``LOG_LEVEL`` as a logging level; INFO when unset or not a level name."""
    env = os.environ if env is None else env
    level = logging.getLevelName(env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO")
    return level if isinstance(level, int) else logging.INFO


@dataclass(frozen=True, slots=True)
class Settings:
    bucket: str
    fallback_index_url: str | None = None
    presigned_url_ttl: int = 900
    link_mode: str = "redirect"
    page_max_age: int = 60
    index_path: str = "/simple/"

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
    ) -> Settings:
        """Settings from command-line options, checked as the environment is."""
        given = {
            "S3_BUCKET": bucket,
            "FALLBACK_INDEX_URL": fallback_index_url,
            "LINK_MODE": link_mode,
            "S3_PRESIGNED_URL_TTL": presigned_url_ttl,
            "PAGE_MAX_AGE": page_max_age,
            "INDEX_PATH": index_path,
        }
        return cls.from_env({name: str(value) for name, value in given.items() if value})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        bucket = required_bucket(env)
        link_mode = env.get("LINK_MODE", "redirect").strip() or "redirect"
        if link_mode not in LINK_MODES:
            choices = ", ".join(LINK_MODES)
            raise ConfigError(f"LINK_MODE must be one of {choices}, not {link_mode!r}")
        index_path = env.get("INDEX_PATH", "/simple/").strip() or "/simple/"
        if index_path not in INDEX_PATHS:
            choices = ", ".join(INDEX_PATHS)
            raise ConfigError(f"INDEX_PATH must be one of {choices}, not {index_path!r}")
        return cls(
            index_path=index_path,
            bucket=bucket,
            fallback_index_url=_fallback(env.get("FALLBACK_INDEX_URL", "")),
            presigned_url_ttl=_integer(env, "S3_PRESIGNED_URL_TTL", 900, 1, MAX_PRESIGN_TTL),
            link_mode=link_mode,
            page_max_age=_integer(env, "PAGE_MAX_AGE", 60, 0, 86_400),
        )


def required_bucket(env: Mapping[str, str]) -> str:
    """``S3_BUCKET``, which every handler needs."""
    bucket = env.get("S3_BUCKET", "").strip()
    if not bucket:
        raise ConfigError("S3_BUCKET is not set")
    return bucket


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, not {raw!r}") from None
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
