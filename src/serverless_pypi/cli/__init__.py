"""The ``serverless-pypi`` command: serve, reindex, upload, user, publisher, claim and release,
a project's status (archive, deprecate, quarantine, activate), and the day-two
commands status, yank, unyank, remove and prune; the proxy mode's upstream lists.

Each group of commands is a module of this package that adds its parsers
(``add_parsers``); the commands that touch AWS use the standard AWS environment.
Before a command reads or writes a bucket, ``version.check_bucket`` compares this
command line with the module deployed to it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ..logs import shown
from ..names import TooManyFolders
from ..objects import AwsError, ObjectMissing, PreconditionFailed
from . import claims, files, lifecycle, ops, publisher, serve, status, upstream, user, version
from .common import EXIT_ERROR, EXIT_OK, CommandError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        if getattr(args, "bucket", None):
            version.check_bucket(args.bucket, ignore=getattr(args, "ignore_version", False))
        return int(args.run(args))
    except CommandError as error:
        # Messages quote what the bucket holds (versions, keys): escaped, as all output,
        # line by line (a message may add an indented hint on a line of its own).
        text = "\n".join(shown(line) for line in str(error).split("\n"))
        print(f"serverless-pypi: {text}", file=sys.stderr)
        return EXIT_ERROR
    except (AwsError, TooManyFolders, ObjectMissing, PreconditionFailed) as error:
        # What S3 answered that no command turned into its own words: one line.
        print(f"serverless-pypi: {type(error).__name__}: {shown(error)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="serverless-pypi", description="A private Python package index on S3."
    )
    top.add_argument(
        "--version",
        action=version.VersionAction,
        help="print the version and where it was installed from, and exit",
    )
    commands = top.add_subparsers(required=True, metavar="COMMAND")
    for group in (serve, files, user, claims, lifecycle, status, ops, publisher, upstream):
        group.add_parsers(commands)
    version.add_ignore_option(commands)
    return top
