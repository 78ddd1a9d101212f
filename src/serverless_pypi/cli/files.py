"""``serverless-pypi upload`` and ``serverless-pypi reindex``: distributions into
the bucket, and the whole index re-derived from it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .. import batch as batches
from .. import manifest as manifests
from .. import manifeststore
from ..logs import get_logger, shown
from ..metadata import project_of
from ..names import DISTRIBUTION_SUFFIXES, is_valid_name
from ..objects import AwsError, PreconditionFailed
from ..storage import MAX_SINGLE_PUT, Storage
from .common import EXIT_ERROR, EXIT_OK, ByteBar, CommandError, ProgressBar, bucket_storage

logger = get_logger(__name__)


def add_parsers(commands: Any) -> None:
    reindex = commands.add_parser(
        "reindex",
        help="rebuild the whole index of a bucket",
        description="Re-derive every project of the bucket (for a bucket filled by another "
        "tool, or after a change of the derived data). Safe beside the Lambda reindexer.",
    )
    reindex.add_argument("--bucket", required=True, help="the index bucket")
    reindex.set_defaults(run=reindex_command)

    upload = commands.add_parser(
        "upload",
        help="upload distributions straight to the bucket, any size",
        description="Put each distribution in its normalized project folder with one "
        "conditional PUT (never replacing a file) and its SHA-256 checksum, for files "
        "larger than the upload route takes. Uses the standard AWS environment.",
    )
    upload.add_argument("dists", nargs="+", type=Path, metavar="DIST", help="wheels and sdists")
    upload.add_argument("--bucket", required=True, help="the index bucket")
    upload.set_defaults(run=upload_command)


def key_for(path: Path) -> str:
    """Where a distribution file goes: its normalized project's folder. ValueError
    with the reason when it cannot go in one PUT with its checksum."""
    if not path.name.endswith(DISTRIBUTION_SUFFIXES):
        raise ValueError("not a wheel or sdist")
    project = project_of(path)
    if project is None or not is_valid_name(project):
        raise ValueError("cannot tell which project it belongs to")
    if path.stat().st_size > MAX_SINGLE_PUT:
        raise ValueError(f"larger than 5 GiB: use `aws s3 cp {path.name} s3://BUCKET/{project}/`")
    return f"{project}/{path.name}"


def seed(storage: Storage, directory: Path) -> list[str]:
    """Put every distribution of ``directory`` in its project's folder, each in one
    PUT with its SHA-256 checksum and never over a file that is there (for
    ``serve --dist``): what cannot go is skipped with a log line. The keys written."""
    keys = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or not path.name.endswith(DISTRIBUTION_SUFFIXES):
            continue
        try:
            key = key_for(path)
            storage.put_file(path, key)
        except ValueError as error:
            logger.warning("skipped %s: %s", path.name, error)
            continue
        except PreconditionFailed:
            logger.warning("skipped %s: it is in the bucket already and is not replaced", path.name)
            continue
        keys.append(key)
    return keys


def caller() -> str | None:
    """Who this command uploads as: the ARN of the AWS identity it runs with (STS
    GetCallerIdentity, which no policy can deny), recorded with each file as the
    upload route records its user; None, with a warning, when STS cannot say."""
    try:
        return str(boto3.client("sts").get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError) as error:
        logger.warning("the files will not record who uploaded them: %s", error)
        return None


def upload_command(args: argparse.Namespace) -> int:
    plan = []
    for path in args.dists:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            plan.append((path, key_for(path)))
        except ValueError as error:
            raise CommandError(f"{path.name}: {error}") from None
    storage = bucket_storage(args.bucket)
    uploader = caller()
    failed = 0
    statuses: dict[str, str] = {}
    for path, key in plan:
        project = key.partition("/")[0]
        try:
            if project not in statuses:
                statuses[project] = manifeststore.status_of(storage, project)
        except AwsError as error:
            raise CommandError(str(error)) from None
        if statuses[project] in (manifests.ARCHIVED, manifests.QUARANTINED):
            # As the upload route: no new file for a project that takes none (PEP 792).
            print(
                f"refused, {shown(project)} is {statuses[project]}: {shown(path.name)} "
                f"(serverless-pypi activate {shown(project)} --bucket {args.bucket} "
                "accepts uploads again)",
                file=sys.stderr,
            )
            failed += 1
            continue
        bar = ByteBar(path.name, path.stat().st_size)
        try:
            storage.put_file(path, key, bar, uploaded_by=uploader)
        except PreconditionFailed:
            bar.finish()
            print(f"exists, not replaced: s3://{args.bucket}/{shown(key)}", file=sys.stderr)
            failed += 1
            continue
        except AwsError as error:
            bar.finish()
            raise CommandError(str(error)) from None
        bar.finish()
        print(f"uploaded s3://{args.bucket}/{shown(key)}")
    return EXIT_ERROR if failed else EXIT_OK


def reindex_command(args: argparse.Namespace) -> int:
    storage = bucket_storage(args.bucket)
    started = time.perf_counter()
    batch = batches.rebuild(storage, progress=ProgressBar())
    seconds = time.perf_counter() - started
    read = sum(result.inspected for result in batch.results)
    print(
        f"reindexed {len(batch.results)} projects, {batch.files} files "
        f"({read} read) in {seconds:.1f} s"
    )
    for project, error in sorted(batch.failures.items()):
        print(f"failed: {project}: {shown(error)}", file=sys.stderr)
    return EXIT_ERROR if batch.failures else EXIT_OK
