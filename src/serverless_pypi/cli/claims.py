"""``serverless-pypi claim`` and ``serverless-pypi release``: who owns a project name,
this index or its fallback index (CodeArtifact's package origin controls, for one
index and its upstream).

A name the bucket has never held goes to the fallback index, and the upload route
refuses it when the fallback index has it. ``claim`` writes the name's manifest,
empty, as the reindexer leaves it once a project's last file is removed: the name
then never falls back and may be uploaded. ``release`` deletes the manifest of a
name that has no file in any spelling of its folder, which hands it back (not while
it has a status: ``activate`` it first).

When the module sends the index's events (its ``event_bus_name``), it tags the
bucket with the bus (``eventbus.BUS_TAG``): each command that changes a name then
puts a "Project Name Claimed" or "Project Name Released" event on that bus, with
the operator's credentials, after the change.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import eventbus, manifeststore
from .. import manifest as manifests
from ..changeevents import IndexChange
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


def claim(storage: Storage, project: str, recorded: list[IndexChange] | None = None) -> str:
    """Write ``project``'s empty manifest unless the bucket holds the name already;
    what happened, in words (and in ``recorded``, the change when there was one)."""
    if manifeststore.exists(storage, project):
        return f"{project} is this index's already"
    folders = held_folders(storage, project)
    if folders:
        return f"{project} is this index's already: it has files in {', '.join(folders)}/"
    try:
        # As the reindexer writes a manifest: only if none is there yet.
        writer = Writer(storage, Stored(None, None), None)
        writer.write(manifests.new(project, [], []))
    except PreconditionFailed:
        return f"{project} is this index's already"
    if recorded is not None:
        recorded.append(IndexChange("claimed", project, etag=writer.etag or ""))
    return f"claimed {project}: it no longer falls back, and uploads of it are accepted"


def release(storage: Storage, project: str, recorded: list[IndexChange] | None = None) -> str:
    """Delete ``project``'s manifest when the name has no file; what happened, in
    words (and in ``recorded``, the change when there was one)."""
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
    # An upload may have come between the checks and the delete (its file makes the
    # name this index's again, and the reindexer writes a new manifest): say so.
    folders = held_folders(storage, project)
    if folders or manifeststore.exists(storage, project):
        where = f"it has files in {', '.join(folders)}/" if folders else "its manifest is back"
        raise CommandError(
            f"{project} was not released: an upload came while releasing it ({where}), "
            f"so the name is this index's again; remove its files and release it again"
        )
    if recorded is not None:
        recorded.append(IndexChange("released", project, etag=stored.blob.etag))
    return f"released {project}: it goes to the fallback index again"


def claims_command(args: argparse.Namespace) -> int:
    project = project_name(args.name)
    storage = bucket_storage(args.bucket)
    act = claim if args.action == "claim" else release
    recorded: list[IndexChange] = []
    try:
        print(act(storage, project, recorded))
    except AwsError as error:
        raise CommandError(str(error)) from None
    if recorded:
        announce(storage, recorded)
    return EXIT_OK


def announce(storage: Storage, changes: list[IndexChange]) -> None:
    """Put ``changes`` on the bus the bucket's tags name, if they name one."""
    try:
        bus = eventbus.tagged_bus(storage.client, storage.bucket)
    except AwsError as error:
        print(f"serverless-pypi: note: no event sent: {error}", file=sys.stderr)
        return
    if bus is None:
        return
    if eventbus.EventBus(eventbus.make_client(bus), bus, storage.bucket).emit(changes):
        raise CommandError(f"the change is made, but its event could not be put on {bus}")
    print(f"event sent to {bus}")
