"""``serverless-pypi user add|list|remove|rotate|rights|sync``: the users of an index,
in SSM Parameter Store and in the users file of its bucket (``userstore.UserStore``),
through the standard AWS environment."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from ..auth import EVERY_PROJECT, AuthError, Right, parse_record, project_patterns
from ..config import DEFAULT_USERS_PATH
from ..objects import Blob
from ..storage import Storage
from ..userfile import USERS_FILE
from .common import EXIT_OK, CommandError, bucket_storage, require_credentials

# The authorizer reads the users whole once per cache period, not name by name.
NOT_AT_ONCE = (
    "the authorizer lets a new user in once it reads the users again: within "
    "authorizer_user_cache_seconds (60 s by default)"
)
# A verdict API Gateway cached carries the rights it was given with it.
RIGHTS_LATER = (
    "the api applies them once the authorizer reads the users again (within "
    "authorizer_user_cache_seconds, 60 s by default) and the verdicts API Gateway cached "
    "expire (authorizer_result_ttl_in_seconds)"
)


def add_parsers(commands: Any) -> None:
    user = commands.add_parser(
        "user",
        help="add, list, remove or rotate the users of an index, or change their rights",
        description="Users live in SSM Parameter Store (standard AWS environment; "
        "AWS_ENDPOINT_URL points at another endpoint), one SecureString each, as a hash; "
        "every change is then made to the users file in the index's bucket (--bucket), "
        "which the authorizer reads.",
    )
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--path",
        default=None,
        help=f"SSM path of the users: the module's users_ssm_path (default {DEFAULT_USERS_PATH})",
    )
    changes = argparse.ArgumentParser(add_help=False, parents=[where])
    changes.add_argument(
        "--bucket",
        required=True,
        help="the index's bucket (the module's bucket_name), whose users file the authorizer reads",
    )
    actions = user.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", parents=[changes], help="create a user; prints the new token on the last line"
    )
    add.add_argument("name")
    _upload_option(add)
    add.add_argument(
        "--password", action="store_true", help="choose a password (asked for, or read from stdin)"
    )
    add.add_argument("--kms-key-id", help="KMS key of the SecureString (default: aws/ssm)")
    _expires_option(add)
    add.set_defaults(run=user_command, action="add")
    listing = actions.add_parser(
        "list",
        parents=[where],
        help="names, rights, kinds of secret, upload patterns and expiry",
    )
    listing.set_defaults(run=user_command, action="list")
    remove = actions.add_parser("remove", parents=[changes], help="delete a user")
    remove.add_argument("name")
    remove.set_defaults(run=user_command, action="remove")
    rotate = actions.add_parser(
        "rotate", parents=[changes], help="a new token (or password) for a user"
    )
    rotate.add_argument("name")
    rotate.add_argument("--password", action="store_true", help="choose a password instead")
    _expires_option(rotate)
    rotate.set_defaults(run=user_command, action="rotate")
    rights = actions.add_parser(
        "rights",
        parents=[changes],
        help="replace a user's rights (read only, or upload to PATTERNs); the secret stays",
    )
    rights.add_argument("name")
    choice = rights.add_mutually_exclusive_group(required=True)
    _upload_option(choice)
    choice.add_argument(
        "--read-only", action="store_true", help="may read, and upload to no project"
    )
    rights.set_defaults(run=user_command, action="rights")
    sync = actions.add_parser(
        "sync",
        parents=[changes],
        help="write the users file whole from the users' parameters (after an upgrade, or "
        "when a change did not reach it)",
    )
    sync.set_defaults(run=user_command, action="sync")


def _upload_option(parser: Any) -> None:
    parser.add_argument(
        "--upload",
        nargs="?",
        const=EVERY_PROJECT,
        action="append",
        metavar="PATTERN",
        help="may also upload to the projects whose normalized names match PATTERN, a glob "
        "('team-*'; repeat the option for more); alone, to every project (default: read only)",
    )


def _expires_option(parser: Any) -> None:
    parser.add_argument(
        "--expires",
        type=duration,
        metavar="DURATION",
        help="the user stops working after DURATION: 90d, 36h, 90m (days, hours, minutes); "
        "rotate without it keeps the expiry the user has",
    )


_DURATION = re.compile(r"([1-9][0-9]{0,5})([dhm])", re.ASCII)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60}
MAX_EXPIRY_DAYS = 3650


def duration(text: str) -> int:
    """Seconds of a duration written as the upstream cooldown's: ``90d``, ``36h``,
    ``90m`` (``1m`` is one minute); at most MAX_EXPIRY_DAYS days."""
    found = _DURATION.fullmatch(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"{text[:20]!r}: a number and d, h or m, e.g. 90d")
    seconds = int(found[1]) * _UNIT_SECONDS[found[2]]
    if seconds > MAX_EXPIRY_DAYS * 86400:
        raise argparse.ArgumentTypeError(f"{text}: at most {MAX_EXPIRY_DAYS} days")
    return seconds


def expiry_text(expires: int | None, now: float | None = None) -> str:
    """``-`` for never, else the UTC time and how far it is (or ``expired``)."""
    if expires is None:
        return "-"
    now = time.time() if now is None else now
    when = time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(expires))
    if expires <= now:
        return f"{when} (expired)"
    left = expires - now
    span = f"{left / 86400:.0f}d" if left >= 2 * 86400 else f"{left / 3600:.0f}h"
    return f"{when} (in {span})"


EXPIRY_WARNING_DAYS = 7


def expiring_users(
    storage: Storage, now: float | None = None, within: int = EXPIRY_WARNING_DAYS * 86400
) -> list[tuple[str, int]]:
    """The users of the bucket's users file who expire within ``within`` seconds
    (or have expired), by expiry: what ``status`` warns about. None without a file."""
    found = storage.get(USERS_FILE)
    if not isinstance(found, Blob):
        return []
    try:
        users = json.loads(found.body).get("users", {})
    except (ValueError, AttributeError):
        return []
    now = time.time() if now is None else now
    soon = []
    for name, record in users.items() if isinstance(users, dict) else ():
        try:
            user = parse_record(str(name), record)
        except AuthError:
            continue
        if user.expires is not None and user.expires <= now + within:
            soon.append((user.name, user.expires))
    return sorted(soon, key=lambda pair: pair[1])


def read_password() -> str:
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ")
    if len(password) < 12:
        raise CommandError("a password needs at least 12 characters")
    return password


def user_command(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from .userstore import UserError, UserStore

    require_credentials()
    bucket = bucket_storage(args.bucket) if getattr(args, "bucket", None) else None
    try:
        store = UserStore(boto3.client("ssm"), args.path, getattr(args, "kms_key_id", None), bucket)
        if args.action == "add":
            rights = _rights(args)
            projects = tuple(args.upload or ())
            password = read_password() if args.password else None
            expires = int(time.time()) + args.expires if args.expires else None
            token = store.add(args.name, rights, password, projects, expires)
            print(f"added user {args.name} ({_rights_text(rights, projects)}) under {store.path}")
            if expires is not None:
                print(f"it expires at {expiry_text(expires)}")
            print(NOT_AT_ONCE)
            if token:
                print(token)
        elif args.action == "rotate":
            expires = int(time.time()) + args.expires if args.expires else None
            token = store.rotate(args.name, read_password() if args.password else None, expires)
            print(f"new secret for user {args.name}")
            if expires is not None:
                print(f"it expires at {expiry_text(expires)}")
            if token:
                print(token)
        elif args.action == "rights":
            rights = _rights(args)
            projects = store.change_rights(args.name, rights, tuple(args.upload or ()))
            print(f"user {args.name} may now {_rights_text(rights, projects)}; the secret is kept")
            print(RIGHTS_LATER)
        elif args.action == "remove":
            store.remove(args.name)
            print(f"removed user {args.name}")
        elif args.action == "sync":
            count, unusable = store.sync()
            for name in unusable:
                print(f"left out {name}: its parameter holds no usable user record")
            print(f"wrote s3://{args.bucket}/{USERS_FILE}: the {count} users under {store.path}")
        else:
            for listed in store.list():
                rights_text = ",".join(sorted(listed.rights)) or "-"
                patterns = ",".join(listed.projects) or "-"
                # A fifth column, the expiry, for a user who expires.
                expiry = f"\texpires {expiry_text(listed.expires)}" if listed.expires else ""
                print(f"{listed.name}\t{rights_text}\t{listed.kind}\t{patterns}{expiry}")
    except UserError as error:
        raise CommandError(str(error)) from None
    except (ClientError, BotoCoreError) as error:
        raise CommandError(f"SSM: {error}") from None
    return EXIT_OK


def _rights(args: argparse.Namespace) -> frozenset[Right]:
    """Read, and upload with ``--upload``: what ``add`` and ``rights`` give."""
    return frozenset({"read", "upload"} if args.upload else {"read"})


def _rights_text(rights: frozenset[Right], projects: tuple[str, ...]) -> str:
    """``read``, or ``read, upload to team-*, lib-*`` (``to every project`` for ``*``),
    as stored (the patterns normalized)."""
    if "upload" not in rights:
        return "read"
    patterns = project_patterns(projects)
    where = "every project" if patterns == (EVERY_PROJECT,) else ", ".join(patterns)
    return f"read, upload to {where}"
