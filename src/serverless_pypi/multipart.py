"""``multipart/form-data`` bodies (RFC 7578), as publishing tools send them.

A small parser on the standard library: the body is at hand whole (API Gateway
hands it to Lambda at once), so the parts are slices of it. Field names may
repeat (``classifiers``), and at most ``MAX_PARTS`` parts are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

MAX_PARTS = 256
_MAX_HEADERS = 8192


class FormError(ValueError):
    """The body is not the multipart form it says it is."""


@dataclass(frozen=True, slots=True)
class Part:
    name: str
    filename: str | None
    data: bytes

    @property
    def text(self) -> str:
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise FormError(f"field {self.name!r} is not UTF-8") from None


def boundary(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type."""
    message = Message()
    message["content-type"] = content_type or ""
    if message.get_content_type() != "multipart/form-data":
        raise FormError("the body must be multipart/form-data")
    value = message.get_param("boundary")
    if not isinstance(value, str) or not 1 <= len(value) <= 200:
        raise FormError("the multipart/form-data Content-Type has no usable boundary")
    return value.encode("latin-1")


def parse(body: bytes, content_type: str | None) -> dict[str, list[Part]]:
    """The form's fields by name, each with its parts in the order sent."""
    delimiter = b"--" + boundary(content_type)
    if not body.startswith(delimiter):
        raise FormError("the body does not start with its boundary")
    fields: dict[str, list[Part]] = {}
    position = len(delimiter)
    for _ in range(MAX_PARTS + 1):
        if body.startswith(b"--", position):
            return fields  # the closing delimiter
        if not body.startswith(b"\r\n", position):
            raise FormError("a boundary is not followed by a line break")
        start = position + 2
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise FormError("the body ends before its closing boundary")
        part = _part(body[start:end])
        fields.setdefault(part.name, []).append(part)
        position = end + 2 + len(delimiter)
    raise FormError(f"more than {MAX_PARTS} parts")


def _part(raw: bytes) -> Part:
    head, separator, data = raw.partition(b"\r\n\r\n")
    if not separator or len(head) > _MAX_HEADERS:
        raise FormError("a part has no header block")
    message = Message()
    for line in head.decode("utf-8", errors="replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            message[name.strip()] = value.strip()
    if message.get("content-disposition") is None:
        raise FormError("a part has no Content-Disposition")
    field = message.get_param("name", header="content-disposition")
    filename = message.get_param("filename", header="content-disposition")
    if not isinstance(field, str) or not field:
        raise FormError("a part has no field name")
    return Part(field, filename if isinstance(filename, str) else None, data)
