"""``serverless-pypi yank``, ``unyank``, ``remove``, ``prune`` and ``restore``:
day-two changes to the distributions of an index, through the standard AWS
environment.

They write or delete distributions and yank markers only, never derived data:
the bucket's notifications bring the index up to date, as for any upload.
Every target is checked before anything is written: a command that refuses its
input changes nothing.

What ``remove`` and ``prune`` delete stays restorable: they delete only from a
bucket that keeps earlier versions (unless ``--permanent``), where a deletion
is a delete marker on top of the file; ``restore`` deletes that marker, which
brings back the file as it was (its bytes, checksum, upload time and uploader).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..batch import WORKERS
from ..indexer import MAX_YANK_REASON as MAX_REASON  # what the reindexer reads of a marker
from ..layout import UPLOADED_BY, YANK_SUFFIX
from ..logs import printable, shown
from ..manifest import Entry, yank_reason
from ..names import (
    DISTRIBUTION_SUFFIXES,
    VersionKey,
    is_prerelease,
    is_valid_name,
    normalize,
    parse_filename,
    version_key,
)
from ..objects import AwsError, ObjectVersion
from ..storage import Storage
from .common import EXIT_OK, CommandError, TerminalBar, bucket_storage
from .index import Index, Target, candidate_projects, parse_target

SETTLING = (
    "the reindexer brings the index up to date from the bucket's notifications within "
    "seconds; `serverless-pypi status --bucket {bucket}` shows when it has"
)


# What each command that takes TARGETs says of itself: (help, description).
_TARGETED = {
    "yank": (
        "yank files (PEP 592): installers skip them unless pinned",
        "Write a yank marker beside each file: for PROJECT==VERSION, beside every file of "
        "that version. The reason shows on the project page.",
    ),
    "unyank": ("remove the yank markers of files", "Delete the yank marker of each file."),
    "remove": (
        "delete files, or every file of a version; the name stays private",
        "Delete the distributions (and their yank markers) after asking, or with --yes. "
        "The project's name never falls back to the public index. Only from a bucket "
        "that keeps earlier versions (restore brings them back), unless --permanent.",
    ),
    "restore": (
        "bring back files that remove or prune deleted",
        "Delete the delete marker on each file (for PROJECT==VERSION, on every deleted file "
        "of that version), so that its newest version is the file again, as it was; a "
        "yank marker deleted with it comes back too. Needs a bucket that keeps versions.",
    ),
}
PERMANENT_HELP = "delete even from a bucket that keeps no earlier versions: for good"


def _targeted(commands: Any, bucket: argparse.ArgumentParser, name: str) -> Any:
    """A command that takes TARGETs (FILE, PROJECT/FILE or PROJECT==VERSION) and --bucket."""
    summary, description = _TARGETED[name]
    command = commands.add_parser(name, parents=[bucket], help=summary, description=description)
    command.add_argument(
        "targets", nargs="+", metavar="TARGET", help="FILE, PROJECT/FILE or PROJECT==VERSION"
    )
    return command


def add_parsers(commands: Any) -> None:
    bucket = argparse.ArgumentParser(add_help=False)
    bucket.add_argument("--bucket", required=True, help="the index bucket")
    yank = _targeted(commands, bucket, "yank")
    yank.add_argument("--reason", default="", help="why (shown to users; at most 1024 bytes)")
    yank.set_defaults(run=yank_command)
    _targeted(commands, bucket, "unyank").set_defaults(run=unyank_command)
    remove = _targeted(commands, bucket, "remove")
    remove.add_argument("--yes", action="store_true", help="do not ask")
    remove.add_argument("--permanent", action="store_true", help=PERMANENT_HELP)
    remove.set_defaults(run=remove_command)
    _targeted(commands, bucket, "restore").set_defaults(run=restore_command)

    prune = commands.add_parser(
        "prune",
        parents=[bucket],
        help="a retention policy: delete all but the newest versions",
        description="Keep the newest KEEP versions of each project (and always its newest "
        "final release), delete the files of the others. Shows each version with who "
        "uploaded it, then asks (off a terminal, only with --yes). Only from a bucket that "
        "keeps earlier versions (restore brings them back), unless --permanent.",
    )
    prune.add_argument("projects", nargs="+", metavar="PROJECT")
    prune.add_argument("--keep", type=int, required=True, help="versions to keep (1 or more)")
    prune.add_argument(
        "--older-than", type=int, metavar="DAYS", help="only versions uploaded DAYS ago or more"
    )
    prune.add_argument(
        "--pre-releases-only",
        action="store_true",
        help="only pre-releases and dev releases are pruned (KEEP counts those)",
    )
    prune.add_argument("--dry-run", action="store_true", help="print what would go; change nothing")
    prune.add_argument("--yes", action="store_true", help="do not ask")
    prune.add_argument("--permanent", action="store_true", help=PERMANENT_HELP)
    prune.set_defaults(run=prune_command)


# -- yank and unyank -----------------------------------------------------------------


def _reason(text: str) -> bytes:
    """The reason as the marker holds it: one line (whitespace collapsed), refused
    when it holds a character that a terminal or a browser would act on."""
    line = " ".join(text.split())
    if yank_reason(line) != line:
        bad = "".join(dict.fromkeys(char for char in line if not char.isprintable()))
        raise CommandError(
            f"the reason holds control or format characters ({printable(bad)}), which pip "
            "would show to whoever installs the file: remove them"
        )
    reason = line.encode()
    if len(reason) > MAX_REASON:
        raise CommandError(f"the reason is {len(reason)} bytes; at most {MAX_REASON}")
    return reason


def _resolved(index: Index, targets: Sequence[str]) -> list[Entry]:
    """Every entry the targets name, all checked before any is touched."""
    parsed = [parse_target(text) for text in targets]
    index.check()
    found: dict[str, Entry] = {}
    for target in parsed:
        for entry in index.entries(target):
            found[entry["key"]] = entry
    return list(found.values())


def yank_command(args: argparse.Namespace) -> int:
    reason = _reason(args.reason)
    index = Index(bucket_storage(args.bucket))
    entries = _resolved(index, args.targets)
    for entry in entries:
        index.storage.put(entry["key"] + YANK_SUFFIX, reason, "text/plain; charset=utf-8")
        print(f"yanked {shown(entry['key'])}")
    print(SETTLING.format(bucket=args.bucket))
    return EXIT_OK


def unyank_command(args: argparse.Namespace) -> int:
    index = Index(bucket_storage(args.bucket))
    entries = _resolved(index, args.targets)
    for entry in entries:
        marker = entry["key"] + YANK_SUFFIX
        if index.storage.head(marker) is None:
            print(f"not yanked: {shown(entry['key'])}")
            continue
        index.storage.delete(marker)
        print(f"unyanked {shown(entry['key'])}")
    print(SETTLING.format(bucket=args.bucket))
    return EXIT_OK


# -- remove ----------------------------------------------------------------------------


def _confirmed(question: str, yes: bool) -> bool:
    if yes:
        return True
    if not sys.stdin.isatty():
        raise CommandError("not on a terminal: pass --yes to remove without being asked")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _keeps_versions(storage: Storage, permanent: bool) -> bool:
    """Whether what is deleted now can be restored (the bucket keeps earlier
    versions). CommandError when it cannot and ``permanent`` does not say to go on."""
    try:
        state = storage.versioning()
    except AwsError as error:
        if permanent:
            return False
        raise CommandError(
            f"cannot tell whether s3://{storage.bucket} keeps what is deleted ({error}; "
            f"the command needs s3:GetBucketVersioning): nothing deleted. Pass --permanent "
            f"to delete without knowing"
        ) from None
    if state == "Enabled" or permanent:
        return state == "Enabled"
    raise CommandError(
        f"s3://{storage.bucket} keeps no earlier versions (versioning is "
        f"{(state or 'off').lower()}): what this deletes could never be restored, so "
        f"nothing was deleted. Turn versioning on (the module's s3_versioning, with "
        f"s3_noncurrent_version_expiration_days), or pass --permanent to delete for good"
    )


def _after_deleting(bucket: str, kept: bool, example: str) -> None:
    print(SETTLING.format(bucket=bucket))
    if kept:
        print(
            f"the bucket keeps their earlier versions: `serverless-pypi restore {example} "
            f"--bucket {bucket}` brings them back while it keeps them"
        )
    else:
        print("deleted for good: the bucket keeps no earlier versions")


def remove_command(args: argparse.Namespace) -> int:
    index = Index(bucket_storage(args.bucket))
    entries = _resolved(index, args.targets)
    kept = _keeps_versions(index.storage, args.permanent)
    for entry in entries:
        print(f"  {shown(entry['key'])}")
    if not _confirmed(f"remove these {len(entries)} files from s3://{args.bucket}?", args.yes):
        print("nothing removed")
        return EXIT_OK
    for key in index.delete(entries):
        print(f"removed {shown(key)}")
    _after_deleting(args.bucket, kept, args.targets[0])
    return EXIT_OK


# -- prune -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Retention:
    """What prune keeps of a project: its ``keep`` newest versions (of the
    pre-releases only, with ``pre_releases_only``), and always its newest final
    release; with ``older_than``, also every version uploaded more recently."""

    keep: int
    older_than: timedelta | None = None
    pre_releases_only: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """What prune does to one version: its files, kept or removed, and why kept."""

    files: list[Entry]
    keep: bool
    why: str = ""

    @property
    def version(self) -> str:
        return self.files[0]["version"]


def plan(files: Sequence[Entry], policy: Retention, now: datetime) -> list[Decision]:
    """What ``policy`` does to each version it may remove (every version, or the
    pre-releases only), newest first."""
    versions: dict[VersionKey, list[Entry]] = {}
    for entry in files:
        versions.setdefault(version_key(entry["version"]), []).append(entry)
    newest_first = sorted(versions, reverse=True)
    finals = [key for key in newest_first if not is_prerelease(versions[key][0]["version"])]
    candidates = [
        key
        for key in newest_first
        if not policy.pre_releases_only or is_prerelease(versions[key][0]["version"])
    ]
    kept = set(candidates[: policy.keep])
    decisions = []
    for key in candidates:
        group = versions[key]
        if key in finals[:1]:  # the newest final release stays, whatever the policy
            decisions.append(Decision(group, True, "the newest release"))
        elif key in kept:
            decisions.append(Decision(group, True))
        elif policy.older_than is not None and any(
            _uploaded(entry) > now - policy.older_than for entry in group
        ):
            decisions.append(Decision(group, True, "uploaded recently"))
        else:
            decisions.append(Decision(group, False))
    return decisions


def _uploaded(entry: Entry) -> datetime:
    text = entry.get("upload-time")
    if not text:
        return datetime.max.replace(tzinfo=UTC)  # unknown: never old enough
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def uploader(head: dict[str, Any] | None) -> str:
    """Who uploaded a file, from its HeadObject answer, as one line of printable ASCII."""
    if head is None:
        return "(gone)"
    found = (head.get("Metadata") or {}).get(UPLOADED_BY)
    if found is None:
        return "(not recorded: put into the bucket directly)"
    if found == "-":
        return "(the upload route's authorizer named no user)"
    return printable(found, limit=64)


def _uploaders(storage: Storage, entries: Sequence[Entry]) -> dict[str, str]:
    """Who uploaded each file, by key: one HEAD each, in parallel."""
    keys = [entry["key"] for entry in entries]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return dict(zip(keys, pool.map(lambda key: uploader(storage.head(key)), keys), strict=True))


def _show(project: str, decisions: Sequence[Decision], uploaders: dict[str, str]) -> None:
    removed = [decision for decision in decisions if not decision.keep]
    files = sum(len(decision.files) for decision in removed)
    print(
        f"{project}: {len(decisions) - len(removed)} versions kept, "
        f"{len(removed)} removed ({files} files)"
    )
    width = max(len(shown(decision.version)) for decision in decisions)
    for decision in decisions:
        who = ", ".join(sorted({uploaders[entry["key"]] for entry in decision.files}))
        count = f"{len(decision.files)} file" + ("s" if len(decision.files) > 1 else "")
        why = f" ({decision.why})" if decision.why else ""
        action = "keep  " if decision.keep else "remove"
        version = shown(decision.version)
        print(f"  {action} {version:<{width}}  {count:<8} uploaded by {who}{why}")


def prune_command(args: argparse.Namespace) -> int:
    if args.keep < 1:
        raise CommandError("--keep must be 1 or more: prune never removes every version")
    if args.older_than is not None and args.older_than < 0:
        raise CommandError("--older-than must be 0 days or more")
    for name in args.projects:
        if not is_valid_name(name):
            raise CommandError(f"{name!r} is not a project name")
    policy = Retention(
        args.keep,
        timedelta(days=args.older_than) if args.older_than is not None else None,
        args.pre_releases_only,
    )
    index = Index(bucket_storage(args.bucket))
    index.check()
    projects = sorted({normalize(name) for name in args.projects})
    plans: list[tuple[str, list[Decision]]] = []
    bar = TerminalBar()
    for project, manifest in index.manifests(projects, lambda d, t, p: bar.draw(d, t, p[:40])):
        if manifest is None:
            bar.finish()
            raise CommandError(f"no project {project} in s3://{args.bucket}")
        plans.append((project, plan(manifest["files"], policy, datetime.now(UTC))))
    bar.finish()
    kept = not args.dry_run and _keeps_versions(index.storage, args.permanent)
    considered = [
        entry for _, decisions in plans for decision in decisions for entry in decision.files
    ]
    uploaders = _uploaders(index.storage, considered)
    for project, decisions in plans:
        if decisions:
            _show(project, decisions, uploaders)
    doomed = [
        (project, decision)
        for project, decisions in plans
        for decision in decisions
        if not decision.keep
    ]
    entries = [entry for _, decision in doomed for entry in decision.files]
    if args.dry_run:
        print(f"dry run: {len(entries)} files would be removed; nothing changed")
        return EXIT_OK
    if not entries:
        print("nothing to remove")
        return EXIT_OK
    if not _confirmed(f"remove these {len(entries)} files from s3://{args.bucket}?", args.yes):
        print("nothing removed")
        return EXIT_OK
    index.delete(entries)
    print(f"removed {len(entries)} files")
    project, decision = doomed[0]
    _after_deleting(args.bucket, kept, f"{project}=={decision.version}")
    return EXIT_OK


# -- restore ---------------------------------------------------------------------------

# Delete markers restore takes off one file at most (each deletion of it adds one).
MAX_MARKERS = 100


@dataclass(frozen=True, slots=True)
class Deleted:
    """A deleted file that restore brings back, and whether its yank marker was
    deleted with it (it then comes back too)."""

    key: str
    marker: bool


def _names(target: Target, key: str) -> bool:
    """Whether ``key`` is a distribution that ``target`` names."""
    folder, _, filename = key.partition("/")
    if "/" in filename or not filename.endswith(DISTRIBUTION_SUFFIXES):
        return False
    if target.filename is not None:
        return filename == target.filename
    dist = parse_filename(filename, normalize(folder))
    return dist is not None and version_key(dist.version) == version_key(target.version or "")


def _history(storage: Storage, target: Target) -> dict[str, list[ObjectVersion]]:
    """The versions of every key in the folders ``target`` may be in (any spelling,
    deleted ones too), latest first by key: the files it names and their markers."""
    projects = [target.project]
    if target.filename is not None:
        projects += [p for p in candidate_projects(target.filename) if p != target.project]
    history: dict[str, list[ObjectVersion]] = {}
    for project in projects:
        for folder in storage.spelled_folders_ever(project):
            prefix = f"{folder}/{target.filename or ''}"
            for version in storage.versions(prefix):
                history.setdefault(version.key, []).append(version)
    return history


def _went_with(marker: Sequence[ObjectVersion], deletion: ObjectVersion) -> bool:
    """Whether a yank marker with these versions was deleted with its file (by
    ``deletion``, the file's delete marker) rather than unyanked before: remove and
    prune delete the file first, then its marker."""
    return (
        bool(marker)
        and marker[0].deleted
        and marker[0].last_modified >= deletion.last_modified
        and any(not version.deleted for version in marker)
    )


def deleted_files(storage: Storage, target: Target) -> list[Deleted]:
    """The deleted files ``target`` names that can be restored; CommandError when
    there are none (never there, there already, or their versions expired)."""
    history = _history(storage, target)
    named = {key: versions for key, versions in history.items() if _names(target, key)}
    bucket = f"s3://{storage.bucket}"
    if not named:
        raise CommandError(f"{target} was never in {bucket}{_unversioned(storage)}")
    found, there, expired = [], [], []
    for key, versions in sorted(named.items()):
        if not versions[0].deleted:
            there.append(key)
        elif all(version.deleted for version in versions):
            expired.append(key)
        else:
            marker = history.get(key + YANK_SUFFIX, [])
            found.append(Deleted(key, _went_with(marker, versions[0])))
    if found:
        return found
    if there:
        raise CommandError(f"{target} is in {bucket} (as {', '.join(there)}): nothing to restore")
    raise CommandError(
        f"{target} was deleted from {bucket} and its earlier versions are gone (expired by "
        f"the bucket's lifecycle): nothing to restore"
    )


def _unversioned(storage: Storage) -> str:
    """Why a deleted file may have left no trace, when that is why."""
    try:
        state = storage.versioning()
    except AwsError:
        return ""
    if state == "Enabled":
        return ""
    return ", or was deleted for good (the bucket keeps no earlier versions)"


def undelete(storage: Storage, key: str) -> None:
    """Delete the delete markers on top of ``key`` until its newest version is
    the current object again (normally one: the deletion's)."""
    for _ in range(MAX_MARKERS):
        versions = [version for version in storage.versions(key) if version.key == key]
        if not versions or not versions[0].deleted:
            return
        storage.delete_version(key, versions[0].version_id)
    raise CommandError(f"{key} has more than {MAX_MARKERS} delete markers: restore it by hand")


def restore_command(args: argparse.Namespace) -> int:
    storage = bucket_storage(args.bucket)
    targets = [parse_target(text) for text in args.targets]
    found: dict[str, Deleted] = {}
    for target in targets:
        for deleted in deleted_files(storage, target):
            found[deleted.key] = deleted
    for deleted in found.values():
        # The marker first: the file's event then lists it yanked, never unyanked.
        if deleted.marker:
            undelete(storage, deleted.key + YANK_SUFFIX)
        undelete(storage, deleted.key)
        print(f"restored {shown(deleted.key)}" + (" (yanked, as it was)" if deleted.marker else ""))
    print(SETTLING.format(bucket=args.bucket))
    return EXIT_OK
