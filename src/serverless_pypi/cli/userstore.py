"""The users of an index, in SSM Parameter Store and in the users file: add, list,
remove, rotate, change a user's rights, and write the users file whole.

One standard-tier SecureString parameter per user under the users path (the
module's ``users_ssm_path``, ``/<name>/users/``), holding ``auth.record``: the
user's rights (with the upload right's project patterns) and the hash of their
secret. The parameters are the record: every change is made there first, then
to the users file (``userfile.py``) in the index's bucket, which the authorizer
reads in one GET; ``sync`` writes the file whole from the parameters (the
migration, and the repair when the file missed a change). Used by
``serverless-pypi user`` with the standard AWS environment; only the command line
loads this module, no function does.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .. import auth, userfile
from ..config import ConfigError, users_path
from ..objects import AwsError, Blob, ObjectMissing, PreconditionFailed
from ..storage import Storage

# A write of the users file that lost a race to another command's is done again
# from a fresh read, this many times at most.
FILE_ATTEMPTS = 5


class UserError(Exception):
    """Something the caller can fix; the message says what."""


@dataclass(frozen=True, slots=True)
class Listed:
    name: str
    rights: frozenset[auth.Right]
    kind: str  # "token" or "password"
    projects: tuple[str, ...] = ()  # the upload right's patterns
    expires: int | None = None  # Unix time; None: never


class UserFileWriter:
    """The users file of ``path`` in the index's bucket. A change is applied to the
    file as read and written back only if it is still that version (If-Match, or
    If-None-Match for a new file); a write that lost that race starts again from a
    fresh read."""

    def __init__(self, bucket: Storage, path: str) -> None:
        self.bucket, self.path = bucket, path

    @property
    def url(self) -> str:
        return f"s3://{self.bucket.bucket}/{userfile.USERS_FILE}"

    def update(
        self, change: Callable[[dict[str, str]], object], listing: Callable[[], dict[str, str]]
    ) -> None:
        """Apply ``change`` to the records the file holds (name -> the JSON text of
        their parameter); without a file, to those ``listing`` gives."""

        def changed(found: tuple[dict[str, str], str] | None) -> dict[str, str]:
            records = listing() if found is None else found[0]
            change(records)
            return records

        self._write(changed)

    def replace(self, listing: Callable[[], dict[str, str]]) -> None:
        """Write the file with the records ``listing`` gives, whatever it held."""
        self._write(lambda found: listing(), check_path=False)

    def _write(
        self,
        records_for: Callable[[tuple[dict[str, str], str] | None], dict[str, str]],
        check_path: bool = True,
    ) -> None:
        for _ in range(FILE_ATTEMPTS):
            found = self._read(check_path)
            body = userfile.render(self.path, records_for(found))
            etag = found[1] if found else None
            try:
                self.bucket.put(
                    userfile.USERS_FILE,
                    body,
                    "application/json",
                    if_match=etag,
                    if_absent=etag is None,
                )
            except (PreconditionFailed, ObjectMissing):
                continue  # another command wrote it in between, or removed it
            return
        raise UserError(
            f"{self.url} changed {FILE_ATTEMPTS} times while this command tried to write it: "
            "try again"
        )

    def _read(self, check_path: bool) -> tuple[dict[str, str], str] | None:
        """The file's records and ETag; None without a file."""
        found = self.bucket.get(userfile.USERS_FILE)
        if not isinstance(found, Blob):  # None: no file (an unconditional GET has no 304)
            return None
        try:
            records = userfile.parse(found.body, self.path)
        except userfile.UnusableFile as error:
            if not check_path:
                return {}, found.etag
            raise UserError(
                f"{self.url}: {error}; `serverless-pypi user sync --path {self.path}` "
                "writes it from the parameters of this path"
            ) from None
        texts = {
            name: json.dumps(record, separators=(",", ":")) for name, record in records.items()
        }
        return texts, found.etag


class UserStore:
    """The users under ``path``: their parameters, and with ``bucket`` the users file
    the authorizer reads, changed after them."""

    def __init__(
        self,
        client: Any,
        path: str | None = None,
        kms_key_id: str | None = None,
        bucket: Storage | None = None,
    ) -> None:
        try:
            self.path = users_path(path)
        except ConfigError as error:
            raise UserError(str(error)) from None
        self.client = client
        self.kms_key_id = kms_key_id
        self.file = UserFileWriter(bucket, self.path) if bucket is not None else None

    def _name(self, user: str) -> str:
        if not auth.valid_name(user):
            raise UserError(
                f"{user!r} is not a user name: 1 to 64 letters, digits, '.', '_' or '-', "
                f"starting with a letter or digit, and not with {auth.TOKEN_PREFIX!r} "
                "(the start of every token)"
            )
        return self.path + user

    def _put(self, user: str, value: str, overwrite: bool) -> None:
        kwargs: dict[str, Any] = {
            "Name": self._name(user),
            "Value": value,
            "Type": "SecureString",
            "Tier": "Standard",
            "Overwrite": overwrite,
            "Description": "serverless-pypi user: rights and a hash of the secret",
        }
        key_id = self.kms_key_id or (self._key_of(user) if overwrite else None)
        if key_id:
            kwargs["KeyId"] = key_id
        try:
            self.client.put_parameter(**kwargs)
        except self.client.exceptions.ParameterAlreadyExists:
            raise UserError(f"user {user} exists: use `user rotate` for a new secret") from None

    def _key_of(self, user: str) -> str | None:
        """The KMS key that encrypts ``user``'s parameter now. A rewrite names it: AWS
        documents that a SecureString written without a KeyId is encrypted with the
        account's default key (moto 5 keeps the previous key instead), and a rotation
        must not move a user off the key the module's ssm_kms_key_arn names."""
        found = self.client.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [self._name(user)]}]
        )
        for parameter in found.get("Parameters", []):
            key_id = parameter.get("KeyId")
            return str(key_id) if key_id else None
        return None

    def _get(self, user: str) -> auth.User:
        try:
            found = self.client.get_parameter(Name=self._name(user), WithDecryption=True)
        except self.client.exceptions.ParameterNotFound:
            raise UserError(f"no user {user} under {self.path}") from None
        try:
            return auth.parse_record(user, found["Parameter"]["Value"])
        except auth.AuthError as error:
            raise UserError(str(error)) from None

    def add(
        self,
        user: str,
        rights: frozenset[auth.Right],
        password: str | None = None,
        projects: tuple[str, ...] = (auth.EVERY_PROJECT,),
        expires: int | None = None,
    ) -> str:
        """Create ``user``, whose upload right (if any) covers the projects that match
        ``projects``, until ``expires`` (Unix time) if given; return their new token
        (or "" when they chose a password)."""
        projects = _patterns(rights, projects)
        shown, stored = _new_secret(password)
        self._set(user, auth.record(rights, stored, projects, expires), overwrite=False)
        return shown

    def rotate(self, user: str, password: str | None = None, expires: int | None = None) -> str:
        """A new secret for ``user``, same rights (and expiry, unless ``expires`` sets
        another); the old one stops working at once here, and at the api once the
        authorizer's caches expire."""
        current = self._get(user)
        shown, stored = _new_secret(password)
        until = current.expires if expires is None else expires
        record = auth.record(current.rights, stored, current.projects, until)
        self._set(user, record, overwrite=True)
        return shown

    def change_rights(
        self, user: str, rights: frozenset[auth.Right], projects: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        """Give ``user`` these rights (the upload right over the projects that match
        ``projects``), keeping their secret; return the patterns as stored."""
        projects = _patterns(rights, projects)
        current = self._get(user)
        record = auth.record(rights, current.hash, projects, current.expires)
        self._set(user, record, overwrite=True)
        return projects if "upload" in rights else ()

    def remove(self, user: str) -> None:
        try:
            self.client.delete_parameter(Name=self._name(user))
        except self.client.exceptions.ParameterNotFound:
            raise UserError(f"no user {user} under {self.path}") from None
        self._mirror(f"user {user} is removed", lambda records: records.pop(user, None))

    def sync(self) -> tuple[int, builtins.list[str]]:
        """Write the users file from the parameters; how many users it holds, and the
        names of the parameters that hold no usable record (left out)."""
        if self.file is None:
            raise UserError("the users file needs the index's bucket")
        listed: builtins.list[tuple[dict[str, str], builtins.list[str]]] = []

        def listing() -> dict[str, str]:
            listed.append(self._records())  # again at each attempt: the latest wins
            return listed[-1][0]

        try:
            self.file.replace(listing)
        except AwsError as error:
            raise UserError(f"{self.file.url} could not be written: {error}") from None
        records, unusable = listed[-1]
        return len(records), unusable

    def list(self) -> Iterator[Listed]:
        for parameter in self._parameters():
            name = parameter["Name"][len(self.path) :]
            try:
                user = auth.parse_record(name, parameter["Value"])
            except auth.AuthError:
                continue
            kind = "password" if user.password else "token"
            yield Listed(name, user.rights, kind, user.projects, user.expires)

    def _parameters(self) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("get_parameters_by_path").paginate(
            Path=self.path, Recursive=False, WithDecryption=True
        )
        for page in pages:
            yield from page.get("Parameters", [])

    def _records(self) -> tuple[dict[str, str], builtins.list[str]]:
        """The usable records under the path (name -> the parameter's JSON text), and
        the names of the parameters that are not."""
        records: dict[str, str] = {}
        unusable: builtins.list[str] = []
        for parameter in self._parameters():
            name = parameter["Name"][len(self.path) :]
            try:
                auth.parse_record(name, parameter["Value"])
            except auth.AuthError:
                unusable.append(name)
                continue
            if auth.valid_name(name):
                records[name] = parameter["Value"]
        return records, unusable

    def _set(self, user: str, record: str, overwrite: bool) -> None:
        """Write ``user``'s parameter, then their record in the users file."""
        self._put(user, record, overwrite)
        self._mirror(f"user {user} is changed", lambda records: records.__setitem__(user, record))

    def _mirror(self, done: str, change: Callable[[dict[str, str]], object]) -> None:
        """Make in the users file the change just made to the parameters."""
        if self.file is None:
            return
        try:
            self.file.update(change, lambda: self._records()[0])
        except (AwsError, UserError) as error:
            raise UserError(
                f"{done} in SSM, but {self.file.url} could not be written ({error}), and the "
                "authorizer reads that: `serverless-pypi user sync --bucket "
                f"{self.file.bucket.bucket} --path {self.path}` writes it from SSM"
            ) from None


def _patterns(rights: frozenset[auth.Right], projects: tuple[str, ...]) -> tuple[str, ...]:
    """The upload right's patterns as stored (``projects`` as given without it)."""
    if "upload" not in rights:
        return projects
    try:
        return auth.project_patterns(projects)
    except auth.AuthError as error:
        raise UserError(str(error)) from None


def _new_secret(password: str | None) -> tuple[str, str]:
    """A new secret's hash, and what to show: a generated token, or "" for the
    user's own password (hashed slowly)."""
    secret = password if password is not None else auth.new_token()
    stored = auth.hash_secret(secret, slow=password is not None)
    return ("" if password is not None else secret), stored
