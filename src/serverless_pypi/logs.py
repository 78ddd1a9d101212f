"""Loggers whose lines cannot be forged by what users upload or send.

Object keys, archive member names, metadata fields and request paths are
text an uploader or a client chose: a key holding ``%0A`` decodes to a
newline, which would start a forged line in the log. Every module logs
through ``get_logger``, whose filter escapes each argument of a record
(newlines, control characters, non-ASCII) and shortens long ones, so a
record is one line whatever its arguments hold. What the command line prints of
the bucket (keys, names, versions, problems) goes through ``shown``, the same
escaping, so that no key can act on the operator's terminal.
"""

from __future__ import annotations

import logging

MAX_ARGUMENT = 300  # characters of one argument kept in a log line


def printable(value: object, limit: int = MAX_ARGUMENT) -> str:
    """``value`` as one line of printable ASCII, at most ``limit`` characters (plus "...")."""
    text = value if isinstance(value, str) else str(value)
    escaped = text[:limit].encode("unicode_escape").decode("ascii")
    return escaped + ("..." if len(text) > limit else "")


def shown(value: object) -> str:
    """``value`` as text that cannot act on a terminal: itself when every character
    is printable (``str.isprintable``: no C0 or C1 control, DEL, bidi override or
    line separator), otherwise all of it escaped by ``printable``, without a limit."""
    text = value if isinstance(value, str) else str(value)
    return text if text.isprintable() else printable(text, limit=len(text))


def _escaped(value: object) -> object:
    if isinstance(value, bool | int | float) or value is None:
        return value
    return printable(value)


class EscapeArguments(logging.Filter):
    """Escapes every argument of a record (and a message logged without arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {name: _escaped(value) for name, value in record.args.items()}
        elif not record.args and isinstance(record.msg, str):
            record.msg = shown(record.msg)
        return True


_FILTER = EscapeArguments()


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` with the escaping filter attached."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
