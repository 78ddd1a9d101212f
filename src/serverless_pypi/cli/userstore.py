"""The users of an index, in SSM Parameter Store: add, list, remove, rotate, and
change a user's rights.

One standard-tier SecureString parameter per user under the users path (the
module's ``users_ssm_path``, ``/<name>/users/``), holding ``auth.record``: the
user's rights (with the upload right's project patterns) and the hash of their
secret. Used by ``serverless-pypi user`` with the standard AWS environment; the
authorizer only reads. Only the command line loads it: no function does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import auth
from ..config import ConfigError, users_path


class UserError(Exception):
    """Something the caller can fix; the message says what."""


@dataclass(frozen=True, slots=True)
class Listed:
    name: str
    rights: frozenset[auth.Right]
    kind: str  # "token" or "password"
    projects: tuple[str, ...] = ()  # the upload right's patterns


class UserStore:
    def __init__(self, client: Any, path: str | None = None, kms_key_id: str | None = None):
        try:
            self.path = users_path(path)
        except ConfigError as error:
            raise UserError(str(error)) from None
        self.client = client
        self.kms_key_id = kms_key_id

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
    ) -> str:
        """Create ``user``, whose upload right (if any) covers the projects that match
        ``projects``; return their new token (or "" when they chose a password)."""
        projects = _patterns(rights, projects)
        shown, stored = _new_secret(password)
        self._put(user, auth.record(rights, stored, projects), overwrite=False)
        return shown

    def rotate(self, user: str, password: str | None = None) -> str:
        """A new secret for ``user``, same rights; the old one stops working at once here,
        and at the api once the authorizer's caches expire."""
        current = self._get(user)
        shown, stored = _new_secret(password)
        self._put(user, auth.record(current.rights, stored, current.projects), overwrite=True)
        return shown

    def change_rights(
        self, user: str, rights: frozenset[auth.Right], projects: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        """Give ``user`` these rights (the upload right over the projects that match
        ``projects``), keeping their secret; return the patterns as stored."""
        projects = _patterns(rights, projects)
        current = self._get(user)
        self._put(user, auth.record(rights, current.hash, projects), overwrite=True)
        return projects if "upload" in rights else ()

    def remove(self, user: str) -> None:
        try:
            self.client.delete_parameter(Name=self._name(user))
        except self.client.exceptions.ParameterNotFound:
            raise UserError(f"no user {user} under {self.path}") from None

    def list(self) -> Iterator[Listed]:
        pages = self.client.get_paginator("get_parameters_by_path").paginate(
            Path=self.path, Recursive=False, WithDecryption=True
        )
        for page in pages:
            for parameter in page.get("Parameters", []):
                name = parameter["Name"][len(self.path) :]
                try:
                    user = auth.parse_record(name, parameter["Value"])
                except auth.AuthError:
                    continue
                kind = "password" if user.password else "token"
                yield Listed(name, user.rights, kind, user.projects)


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
