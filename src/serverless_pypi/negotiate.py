"""Content negotiation for the simple API (PEP 691), as pure functions."""

from __future__ import annotations

from collections.abc import Iterator

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"

# What the index serves, in order of preference when a client rates several
# the same: plain HTML first, so no header, ``*/*`` and browsers get HTML.
OFFERED = (TEXT_HTML, HTML_V1, JSON_V1)
_ALIASES = {
    "application/vnd.pypi.simple.latest+json": JSON_V1,
    "application/vnd.pypi.simple.latest+html": HTML_V1,
}
_MAX_ITEMS = 32  # a longer header is hostile or broken: the rest is ignored


def _weighted(header: str) -> Iterator[tuple[str, float]]:
    """The lower-cased tokens of a comma-separated header with their q-values."""
    for raw in header.split(",")[:_MAX_ITEMS]:
        token, *params = raw.split(";")
        token = token.strip().lower()
        if not token:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # NaN fails both comparisons
                    quality = 0.0
        yield token, quality


def _specificity(media_range: str, offered: str) -> int:
    """How closely a range matches an offered type: -1 not at all, 2 exactly."""
    if media_range == offered:
        return 2
    kind, _, subtype = media_range.partition("/")
    if subtype == "*" and (kind == "*" or offered.startswith(kind + "/")):
        return 0 if kind == "*" else 1
    return -1


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None when nothing offered is acceptable.

    Each offered type takes the quality of the most specific range that
    matches it (RFC 9110 12.5.1); the highest quality wins.
    """
    if accept is None or not accept.strip():
        return TEXT_HTML
    ranges = [(_ALIASES.get(media, media), q) for media, q in _weighted(accept)]
    best: str | None = None
    best_quality = 0.0
    for offered in OFFERED:
        quality = _quality(ranges, offered)
        if quality > best_quality:
            best, best_quality = offered, quality
    return best


def _quality(ranges: list[tuple[str, float]], offered: str) -> float:
    best_specificity, quality = -1, 0.0
    for media_range, range_quality in ranges:
        specificity = _specificity(media_range, offered)
        if specificity > best_specificity:
            best_specificity, quality = specificity, range_quality
    return quality


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether the client takes a gzip-encoded body (``gzip`` or ``*``, q > 0)."""
    if not accept_encoding:
        return False
    verdict: bool | None = None
    wildcard = False
    for coding, quality in _weighted(accept_encoding):
        if coding in ("gzip", "x-gzip"):
            verdict = quality > 0
        elif coding == "*":
            wildcard = quality > 0
    return wildcard if verdict is None else verdict
