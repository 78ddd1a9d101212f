"""``serverless-pypi archive``, ``deprecate``, ``quarantine`` and ``activate``: a
project's status (PEP 792), which its pages announce to pip and uv.

- archived: uploads are refused; its files are still offered;
- quarantined: uploads are refused and no file is offered (its pages list none, a
  file URL answers 404), and the root index leaves it off; it never falls back;
- deprecated: as active, with the marker;
- active: the default (``activate`` clears any other status).

The status is written twice: a small status object under the derived area (what a
rebuild reads back for a project whose manifest is gone) and the project's
manifest, through the same conditional write as every other writer (the reindexer
carries it over from there). Only a project the index holds (its manifest: files,
or a claimed name) gets a status.
"""

from __future__ import annotations

import argparse
from typing import Any

from .. import manifest as manifests
from .. import manifeststore, retry
from ..catalog import card_of
from ..catalogwriter import update_catalog
from ..changeevents import IndexChange
from ..logs import printable
from ..manifest import Status
from ..manifeststore import Writer
from ..objects import AwsError, PreconditionFailed
from ..rootwriter import update_root
from ..storage import Storage
from .claims import announce, held_folders, project_name
from .common import EXIT_OK, CommandError, bucket_storage

CONFLICTS = retry.racing(16)  # rounds lost to the reindexer writing the same manifest

_COMMANDS = {
    "archive": (
        manifests.ARCHIVED,
        "refuse new uploads of a project; its files stay installable",
        "Mark the project archived (PEP 792): uploads of it are refused, its files are "
        "still offered, and its pages tell pip and uv that it is archived.",
    ),
    "deprecate": (
        manifests.DEPRECATED,
        "mark a project deprecated; it works as before",
        "Mark the project deprecated (PEP 792): it works as an active project, and its "
        "pages tell pip and uv that it is deprecated.",
    ),
    "quarantine": (
        manifests.QUARANTINED,
        "offer no file of a project and refuse its uploads",
        "Quarantine the project (PEP 792): its pages list no file, every file URL of it "
        "answers 404 (a lock file's too), the list of projects leaves it off, uploads of it "
        "are refused, and the name never falls back to the fallback index.",
    ),
    "activate": (
        manifests.ACTIVE,
        "make a project active again (clear its status)",
        "Clear the project's status (PEP 792): uploads are accepted and its files offered.",
    ),
}


def add_parsers(commands: Any) -> None:
    for command, (status, summary, description) in _COMMANDS.items():
        parser = commands.add_parser(
            command,
            help=summary,
            description=f"{description} The project must be this index's (files, or a "
            "claimed name). Uses the standard AWS environment.",
        )
        parser.add_argument("name", help="the project name (any spelling)")
        parser.add_argument(
            "--reason",
            default="",
            help=f"why (shown by pip and uv; at most {manifests.MAX_STATUS_REASON} characters)",
        )
        parser.add_argument("--bucket", required=True, help="the index bucket")
        parser.set_defaults(run=lifecycle_command, status=status)


def status_for(status: str, reason: str) -> Status | None:
    """The status to store (None for active), or a CommandError for a reason that
    pip and uv could not show as it was given."""
    line = " ".join(reason.split())
    if manifests.yank_reason(line) != line:
        bad = "".join(dict.fromkeys(char for char in line if not char.isprintable()))
        raise CommandError(
            f"the reason holds control or format characters ({printable(bad)}), which "
            "pip and uv would show to whoever installs the project: remove them"
        )
    if len(line) > manifests.MAX_STATUS_REASON:
        raise CommandError(
            f"the reason is {len(line)} characters; at most {manifests.MAX_STATUS_REASON}"
        )
    if status == manifests.ACTIVE:
        if line:
            raise CommandError("an active project has no reason: leave out --reason")
        return None
    found: Status = {"status": status}
    if line:
        found["reason"] = line
    return found


def set_status(
    storage: Storage,
    project: str,
    status: Status | None,
    recorded: list[IndexChange] | None = None,
) -> str:
    """Give ``project`` its ``status`` (None: active); what happened, in words (and
    in ``recorded``, the change when there was one)."""
    name = status["status"] if status else manifests.ACTIVE
    if manifeststore.read(storage, project).blob is None:
        folders = held_folders(storage, project)
        if folders:
            raise CommandError(
                f"{project} has files in {', '.join(folders)}/ but is not indexed yet: wait for "
                f"the reindexer, or run serverless-pypi reindex --bucket {storage.bucket}"
            )
        raise CommandError(
            f"no project {project} in s3://{storage.bucket}: only a project of this index "
            f"(files, or a claimed name) gets a status; to keep the name from the fallback "
            f"index first: serverless-pypi claim {project} --bucket {storage.bucket}"
        )
    # The status object first: a rebuild that finds no manifest reads it back.
    manifeststore.write_status(storage, project, status)
    changed = False
    for _ in retry.conflicts(CONFLICTS, project):
        stored = manifeststore.read(storage, project)
        if stored.manifest is None:
            raise CommandError(
                f"{project}'s manifest is gone or unreadable: run serverless-pypi reindex "
                f"--bucket {storage.bucket} (it keeps the status just stored)"
            )
        manifest = manifests.new(
            stored.manifest["name"],
            list(stored.manifest["folders"]),
            stored.manifest["files"],
            skipped=stored.manifest.get("skipped", 0),
            pending=stored.manifest.get("pending", 0),
            status=status,
        )
        try:
            changed = Writer(storage, stored, None, recorded).write(manifest)
        except PreconditionFailed:
            continue  # the reindexer wrote first: apply the status to what it wrote
        break
    # The root index lists a project with files unless it is quarantined.
    update_root(storage, {project: manifeststore.has_files(storage, project)})
    # So does the list of projects for people.
    update_catalog(storage, {project: card_of(manifeststore.read(storage, project).manifest)})
    if not changed:
        return f"{project} is {name} already"
    return f"{project} is {name}: {_EFFECTS[name]}"


_EFFECTS = {
    manifests.ACTIVE: "uploads are accepted and its files offered",
    manifests.ARCHIVED: "uploads are refused; its files are still offered",
    manifests.DEPRECATED: "its pages say so; nothing else changes",
    manifests.QUARANTINED: "no file of it is offered and uploads are refused",
}


def lifecycle_command(args: argparse.Namespace) -> int:
    project = project_name(args.name)
    status = status_for(args.status, args.reason)
    storage = bucket_storage(args.bucket)
    recorded: list[IndexChange] = []
    try:
        print(set_status(storage, project, status, recorded))
    except (AwsError, retry.ConflictError) as error:
        raise CommandError(str(error)) from None
    if recorded:
        announce(storage, recorded)
    return EXIT_OK
