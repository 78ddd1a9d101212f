"""The catalog: every project for people, in one small document the reindexer
writes and the page of every project (``ui.py``) reads with one GET.

``.serverless-pypi/catalog.json`` (``CATALOG``), gzipped, holds one card per
project that the root index lists (a project with files, not quarantined),
sorted by name::

    {"v": 1, "projects": [{"name": "acme-auth", "version": "2.0",
                           "summary": "...", "uploaded": "2026-01-02T03:04:05.000000Z"}]}

A card is about 150 bytes, so 10,000 projects are about 1.5 MB of JSON and a
few hundred kB stored. Pure functions here; ``catalogwriter.py`` writes it.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, cast

from . import details as projectdetails
from .layout import DERIVED_PREFIX
from .manifest import Manifest, offered

CATALOG = DERIVED_PREFIX + "catalog.json"
VERSION = 1
MAX_SUMMARY = 200  # characters of a summary a card keeps


class Card(TypedDict):
    name: str
    version: str
    summary: NotRequired[str]
    uploaded: NotRequired[str]


def card_of(manifest: Manifest | None) -> Card | None:
    """The project's card: its latest version (``details.newest``), the
    summary of its details and its last upload; None when the project is not listed
    (no file offered)."""
    files = offered(manifest) if manifest else []
    latest = projectdetails.newest(files)
    if not manifest or latest is None:
        return None
    card: Card = {"name": manifest["name"], "version": latest["version"]}
    found = projectdetails.valid(manifest.get("details"))
    if found is not None and found.get("summary"):
        card["summary"] = found["summary"][:MAX_SUMMARY]
    times = [entry["upload-time"] for entry in files if entry.get("upload-time")]
    if times:
        card["uploaded"] = max(times)
    return card


def encode(cards: Mapping[str, Card]) -> bytes:
    """The stored catalog of ``cards`` (by name), sorted by name, gzipped."""
    document = {"v": VERSION, "projects": [cards[name] for name in sorted(cards)]}
    data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return gzip.compress(data, compresslevel=6, mtime=0)


def decode(body: bytes) -> dict[str, Card] | None:
    """The cards (by name) of a stored catalog, None when it is not one."""
    try:
        raw = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
        value: Any = json.loads(raw)
    except (ValueError, OSError, EOFError, zlib.error, RecursionError):
        return None
    if not isinstance(value, dict) or value.get("v") != VERSION:
        return None
    projects = value.get("projects")
    if not isinstance(projects, list):
        return None
    cards: dict[str, Card] = {}
    for item in projects:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("version"), str)
            and isinstance(item.get("summary", ""), str)
            and isinstance(item.get("uploaded", ""), str)
        ):
            return None
        cards[item["name"]] = cast(Card, item)
    return cards


def updated(cards: Mapping[str, Card], changes: Mapping[str, Card | None]) -> dict[str, Card]:
    """``cards`` with each changed project's card put in (or taken out: None)."""
    result = dict(cards)
    for name, card in changes.items():
        if card is None:
            result.pop(name, None)
        else:
            result[name] = card
    return result
