"""The users file: every user's record in one S3 object of the index's bucket, so
that a cold authorizer reads the users with one GET instead of a
GetParametersByPath call per 10 users, which count against Parameter Store's 40
calls a second per account and region.

``serverless-pypi user`` writes it after each change to the users' SSM parameters,
which stay the record it reads and writes first (``cli/userstore.py``); ``user
sync`` writes it whole from them. It sits at the bucket's root
(``layout.USERS_FILE``), which only the authorizer's role may read and no function's
role may write (iam.tf). This module is its contract, which the authorizer imports:

    {"v": 1, "path": "/serverless-pypi/users/", "users": {"alice": {<record>}, ...}}

Each record is what the user's parameter holds (``auth.record``), decoded. ``path``
is the users path whose parameters the file mirrors: an authorizer of another
path does not use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from .layout import USERS_FILE

__all__ = ["USERS_FILE", "VERSION", "UnusableFile", "parse", "render"]

VERSION = 1


class UnusableFile(ValueError):
    """Bytes that are not a users file of this version, or of another path."""


def render(path: str, records: Mapping[str, str]) -> bytes:
    """The file of the users under ``path``: their records (name -> the JSON text
    their parameter holds), by name."""
    users = {name: json.loads(records[name]) for name in sorted(records)}
    document = {"v": VERSION, "path": path, "users": users}
    return json.dumps(document, separators=(",", ":")).encode()


def parse(body: bytes, path: str) -> dict[str, object]:
    """The records of a users file (name -> the decoded record, which
    ``auth.parse_record`` reads), if it is one of ``path``'s."""
    try:
        document = json.loads(body)
    except ValueError:
        raise UnusableFile("the users file is not JSON") from None
    if not isinstance(document, dict) or document.get("v") != VERSION:
        raise UnusableFile(f"the users file is not a version {VERSION} users file")
    if document.get("path") != path:
        raise UnusableFile(
            f"the users file holds the users of {str(document.get('path'))[:100]!r}, not {path!r}"
        )
    users = document.get("users")
    if not isinstance(users, dict):
        raise UnusableFile("the users file has no users")
    return {str(name): record for name, record in users.items()}
