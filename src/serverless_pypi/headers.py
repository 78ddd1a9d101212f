"""An API Gateway event's headers, looked up in any case: all the authorizer
function needs of API Gateway's events, without the request and response
machinery of ``apigw.py`` (gzip, content negotiation), which it would load at
every cold start.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MAX_HEADER_VALUE = 8192


class Headers:
    """An event's headers, looked up by name in any case (API Gateway sends them
    lower-cased; a local caller may not). A value longer than the index ever
    needs reads as missing."""

    __slots__ = ("_values",)

    def __init__(self, raw: Any) -> None:
        values: dict[str, str] = {}
        if isinstance(raw, Mapping):
            for name, value in raw.items():
                if isinstance(name, str) and isinstance(value, str):
                    values[name.lower()] = value
        self._values = values

    def get(self, name: str) -> str | None:
        value = self._values.get(name.lower())
        if value is None or len(value) > _MAX_HEADER_VALUE:
            return None
        return value

    def items(self) -> list[tuple[str, str]]:
        return list(self._values.items())


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (events are untrusted JSON)."""
    return value if isinstance(value, Mapping) else {}
