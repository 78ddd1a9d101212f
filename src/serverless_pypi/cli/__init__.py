"""The ``serverless-pypi`` command: serve, reindex, upload, user, claim and release,
and the day-two commands status, yank, unyank, remove and prune.

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

from ..names import TooManyFolders
from ..objects import ObjectMissing, PreconditionFailed, StorageError
from . import files, names, ops, serve, status, user, version
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
        print(f"serverless-pypi: {error}", file=sys.stderr)
        return EXIT_ERROR
    except (StorageError, TooManyFolders, ObjectMissing, PreconditionFailed) as error:
        # What S3 answered that no command turned into its own words: one line.
        print(f"serverless-pypi: {type(error).__name__}: {error}", file=sys.stderr)
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
    for group in (serve, files, user, names, status, ops):
        group.add_parsers(commands)
    version.add_ignore_option(commands)
    return top
