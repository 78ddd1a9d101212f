"""``serverless-pypi publisher add|list|remove|rotate``: the trusted publishers
of an index and the key that signs their upload tokens, in the trust file at its
bucket's root (``publishers.py``), changed with conditional writes (If-Match, or
If-None-Match: * for the first), retried when another change came first."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from .. import publishers
from ..objects import Blob, PreconditionFailed
from ..publishers import PublisherError, Trust
from ..storage import Storage
from .common import EXIT_OK, CommandError, bucket_storage

ATTEMPTS = 5
LATER = (
    "the mint function and the authorizer read it again within authorizer_user_cache_seconds "
    "(60 s by default)"
)


def add_parsers(commands: Any) -> None:
    group = commands.add_parser(
        "publisher",
        help="trusted publishers: CI jobs that may publish a project without a secret",
        description="Trusted publishers live in the trust file of the index's bucket, with the "
        "key that signs the upload tokens minted for them (rotate creates it).",
    )
    bucket = argparse.ArgumentParser(add_help=False)
    bucket.add_argument("--bucket", required=True, help="the index's bucket (bucket_name)")
    actions = group.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        parents=[bucket],
        help="let a CI identity publish PROJECT (which may not exist yet)",
        description="--github OWNER/REPO --workflow FILE, or --gitlab NAMESPACE/PROJECT "
        "--workflow PATH, or --issuer URL --claim NAME=VALUE...; every claim is matched exactly.",
    )
    add.add_argument("project")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--github", metavar="OWNER/REPO", help="a GitHub Actions repository")
    source.add_argument("--gitlab", metavar="NAMESPACE/PROJECT", help="a GitLab CI project")
    source.add_argument(
        "--issuer", metavar="URL", help="another OIDC issuer (with --claim; or --gitlab's instance)"
    )
    add.add_argument(
        "--gitlab-issuer",
        metavar="URL",
        default=publishers.GITLAB_ISSUER,
        help="a self-hosted GitLab's URL, with --gitlab (default https://gitlab.com)",
    )
    add.add_argument(
        "--workflow", help="the workflow file (release.yml) or GitLab CI file (.gitlab-ci.yml)"
    )
    add.add_argument("--environment", help="the CI environment the job must run in")
    add.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a claim the token must carry with exactly this value (repeatable)",
    )
    add.set_defaults(run=publisher_command, action="add")
    listing = actions.add_parser("list", parents=[bucket], help="the publishers, by project")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(run=publisher_command, action="list")
    remove = actions.add_parser(
        "remove", parents=[bucket], help="remove every publisher of these projects"
    )
    remove.add_argument("projects", nargs="+", metavar="PROJECT")
    remove.set_defaults(run=publisher_command, action="remove")
    rotate = actions.add_parser(
        "rotate",
        parents=[bucket],
        help="a new key signs upload tokens; the one before still verifies, older ones are gone",
    )
    rotate.set_defaults(run=publisher_command, action="rotate")


def publisher_from(args: argparse.Namespace) -> publishers.Publisher:
    """The publisher that ``add``'s options describe."""
    if (args.github or args.gitlab) and not args.workflow:
        raise CommandError("--github and --gitlab need --workflow")
    if args.github:
        return publishers.github(args.project, args.github, args.workflow, args.environment)
    if args.gitlab:
        return publishers.gitlab(
            args.project, args.gitlab, args.workflow, args.environment, args.gitlab_issuer
        )
    claims: dict[str, str] = {}
    for item in args.claim:
        name, equals, value = item.partition("=")
        if not equals:
            raise CommandError(f"--claim {item[:100]!r}: NAME=VALUE")
        claims[name] = value
    if args.environment:
        claims["environment"] = args.environment
    if not claims:
        raise CommandError("--issuer needs at least one --claim NAME=VALUE")
    return publishers.publisher(args.project, args.issuer, claims)


class TrustStore:
    """The trust file of a bucket, read and written whole."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def read(self) -> tuple[Trust, str | None]:
        found = self.storage.get(publishers.TRUST_FILE)
        if not isinstance(found, Blob):
            return Trust(), None
        return publishers.parse(found.body), found.etag

    def change(self, how: Callable[[Trust], Trust]) -> Trust:
        """Apply ``how`` to the trust file, retried when another change came first."""
        for _ in range(ATTEMPTS):
            trust, etag = self.read()
            changed = how(trust)
            try:
                self.storage.put(
                    publishers.TRUST_FILE,
                    publishers.render(changed),
                    "application/json",
                    if_match=etag,
                    if_absent=etag is None,
                )
            except PreconditionFailed:
                continue
            return changed
        raise CommandError("the trust file kept changing under this command: try again")


def publisher_command(args: argparse.Namespace) -> int:
    store = TrustStore(bucket_storage(args.bucket))
    try:
        return _run(args, store)
    except PublisherError as error:
        raise CommandError(str(error)) from None


def _run(args: argparse.Namespace, store: TrustStore) -> int:
    if args.action == "list":
        trust, _ = store.read()
        if args.json:
            document: dict[str, Any] = {"publishers": [p.to_json() for p in trust.publishers]}
            document["signing_key"] = trust.keys[0].kid if trust.keys else None
            print(json.dumps(document, indent=2))
            return EXIT_OK
        for found in sorted(trust.publishers, key=lambda p: p.project):
            print(found.describe())
        if not trust.keys:
            print("no signing key yet: `serverless-pypi publisher rotate` creates it")
        return EXIT_OK
    if args.action == "add":
        new = publisher_from(args)
        trust = store.change(lambda current: publishers.added(current, new))
        print(f"added {new.describe()}; {LATER}")
        if not trust.keys:
            print(
                f"no signing key yet: run `serverless-pypi publisher rotate --bucket {args.bucket}`"
            )
        return EXIT_OK
    if args.action == "remove":
        before, _ = store.read()
        trust = store.change(lambda current: publishers.removed(current, args.projects))
        print(f"removed {len(before.publishers) - len(trust.publishers)} publishers; {LATER}")
        return EXIT_OK
    trust = store.change(publishers.rotated)
    print(
        f"signing key {trust.keys[0].kid}; {LATER}; "
        "the tokens signed before stay good until they expire"
    )
    return EXIT_OK
