"""``serverless-pypi claim`` and ``serverless-pypi release``: who owns a project name,
this index or its fallback index (CodeArtifact's package origin controls, for one
index and its upstream).

A name the bucket has never held goes to the fallback index, and the upload route
refuses it when the fallback index has it. ``claim`` writes the name's manifest,
empty, as the reindexer leaves it once a project's last file is removed: the name
then never falls back and may be uploaded. ``release`` deletes the manifest of a
name that has no file in any spelling of its folder, which hands it back (not while
it has a status: ``activate`` it first).
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import manifest as manifests
from .. import manifeststore
from ..manifeststore import Stored, Writer
from ..names import TooManyFolders, is_valid_name, normalize
from ..objects import AwsError, PreconditionFailed
from ..storage import Storage
from .common import EXIT_OK, CommandError, bucket_storage


def add_parsers(commands: Any) -> None:
    for command, summary, description in (
        (
            "claim",
            "make a project name this index's, so that it never falls back",
            "Write the project's manifest, empty, so that the name never goes to the fallback "
            "index and the upload route accepts it even when the fallback index has it.",
        ),
        (
            "release",
            "give a project name with no files back to the fallback index",
            "Delete the manifest of a project that has no file in any spelling of its folder: "
            "the name then goes to the fallback index again.",
        ),
    ):
        parser = commands.add_parser(
            command,
            help=summary,
            description=f"{description} Uses the standard AWS environment.",
        )
        parser.add_argument("name", help="the project name (any spelling)")
        parser.add_argument("--bucket", required=True, help="the index bucket")
        parser.set_defaults(run=claims_command, action=command)


def project_name(raw: str) -> str:
    """The normalized name, or a CommandError that says why it is none."""
    if not is_valid_name(raw):
        raise CommandError(f"{raw!r} is not a project name")
    return normalize(raw)


def held_folders(storage: Storage, project: str) -> list[str]:
    """The folders spelled like ``project`` that hold anything."""
    try:
        return storage.spelled_folders(project)
    except TooManyFolders as error:
        raise CommandError(f"{project}: {error}; cannot tell which folders are its") from None


def claim(storage: Storage, project: str) -> str:
    """Write ``project``'s empty manifest unless the bucket holds the name already;
    what happened, in words."""
    if manifeststore.exists(storage, project):
        return f"{project} is this index's already"
    folders = held_folders(storage, project)
    if folders:
        return f"{project} is this index's already: it has files in {', '.join(folders)}/"
    try:
        # As the reindexer writes a manifest: only if none is there yet.
        Writer(storage, Stored(None, None), None).write(manifests.new(project, [], []))
    except PreconditionFailed:
        return f"{project} is this index's already"
    return f"claimed {project}: it no longer falls back, and uploads of it are accepted"


def release(storage: Storage, project: str) -> str:
    """Delete ``project``'s manifest when the name has no file; what happened, in words."""
    stored = manifeststore.read(storage, project)
    folders = held_folders(storage, project)
    if folders:
        raise CommandError(f"{project} has files in {', '.join(folders)}/: remove them first")
    if stored.blob is None:
        return f"{project} is not this index's: it goes to the fallback index already"
    current = stored.manifest
    status = manifests.status_of(current)
    if status != manifests.ACTIVE:
        # A quarantined name must never fall back; any status is undone on purpose first.
        raise CommandError(
            f"{project} is {status}: make it active first "
            f"(serverless-pypi activate {project} --bucket {storage.bucket})"
        )
    if current is not None and current["files"]:
        raise CommandError(
            f"{project}'s manifest still lists files: wait for the reindexer, or run "
            f"serverless-pypi reindex --bucket {storage.bucket}"
        )
    manifeststore.delete(storage, project)
    return f"released {project}: it goes to the fallback index again"


def claims_command(args: argparse.Namespace) -> int:
    project = project_name(args.name)
    storage = bucket_storage(args.bucket)
    act = claim if args.action == "claim" else release
    try:
        print(act(storage, project))
    except AwsError as error:
        raise CommandError(str(error)) from None
    return EXIT_OK
