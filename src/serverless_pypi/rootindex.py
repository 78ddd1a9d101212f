"""The root index: the list of projects the reindexer writes and the api reads, in one place.

One object, ``.serverless-pypi/index.json`` (``layout.ROOT_JSON``), holds the
normalized names of the projects that have files, sorted. It is stored as the
PEP 691 JSON root page itself, byte for byte what ``simple.root_json`` renders::

    {"meta":{"api-version":"1.1"},"projects":[{"name":"my-pkg"},{"name":"other-pkg"}]}

Everything about its shape is here: the typed document, encoding, decoding with
validation, and the names it lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypedDict, cast

from . import simple

Meta = TypedDict("Meta", {"api-version": str})


class Project(TypedDict):
    name: str


class RootIndex(TypedDict):
    meta: Meta
    projects: list[Project]


def encode(names: Sequence[str]) -> bytes:
    """The root index of ``names`` (normalized, in the order given) as stored."""
    return simple.root_json(names).encode()


def decode(body: bytes) -> RootIndex | None:
    """The root index stored in ``body``, None when it is not one."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return _validate(value)


def _validate(value: Any) -> RootIndex | None:
    """``value`` as a root index, None when it is not one."""
    if not isinstance(value, dict):
        return None
    meta, projects = value.get("meta"), value.get("projects")
    if not isinstance(meta, dict) or not isinstance(meta.get("api-version"), str):
        return None
    if not isinstance(projects, list):
        return None
    if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in projects):
        return None
    return cast(RootIndex, value)


def names(index: RootIndex) -> list[str]:
    """The project names the root index lists, in its order."""
    return [item["name"] for item in index["projects"]]
