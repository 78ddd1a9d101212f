"""``serverless-pypi yank``, ``unyank``, ``remove`` and ``prune``: day-two changes
to the distributions of an index, through the standard AWS environment.

They write or delete distributions and yank markers only, never derived data:
the bucket's notifications bring the index up to date, as for any upload.
Every target is checked before anything is written: a command that refuses its
input changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..indexer import MAX_YANK_REASON as MAX_REASON  # what the reindexer reads of a marker
from ..layout import YANK_SUFFIX
from ..logs import printable, shown
from ..manifest import Entry, yank_reason
from ..names import VersionKey, is_prerelease, is_valid_name, normalize, version_key
from .common import EXIT_OK, CommandError, TerminalBar, bucket_storage
from .index import Index, parse_target

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
        "The project's name never falls back to the public index.",
    ),
}


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
    remove.set_defaults(run=remove_command)

    prune = commands.add_parser(
        "prune",
        parents=[bucket],
        help="a retention policy: delete all but the newest versions",
        description="Keep the newest KEEP versions of each project (and always its newest "
        "final release), delete the files of the others. Try --dry-run first.",
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


def remove_command(args: argparse.Namespace) -> int:
    index = Index(bucket_storage(args.bucket))
    entries = _resolved(index, args.targets)
    for entry in entries:
        print(f"  {shown(entry['key'])}")
    if not _confirmed(f"remove these {len(entries)} files from s3://{args.bucket}?", args.yes):
        print("nothing removed")
        return EXIT_OK
    for key in index.delete(entries):
        print(f"removed {shown(key)}")
    print(SETTLING.format(bucket=args.bucket))
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


def doomed_files(files: Sequence[Entry], policy: Retention, now: datetime) -> list[list[Entry]]:
    """The files that ``policy`` removes, by version, oldest version first."""
    versions: dict[VersionKey, list[Entry]] = {}
    for entry in files:
        versions.setdefault(version_key(entry["version"]), []).append(entry)
    newest_first = sorted(versions, reverse=True)
    finals = [key for key in newest_first if not is_prerelease(versions[key][0]["version"])]
    kept = set(finals[:1])  # the newest final release stays, whatever the policy
    candidates = [
        key
        for key in newest_first
        if not policy.pre_releases_only or is_prerelease(versions[key][0]["version"])
    ]
    kept.update(candidates[: policy.keep])
    doomed: list[list[Entry]] = []
    for key in reversed(candidates):
        if key in kept:
            continue
        if policy.older_than is not None and any(
            _uploaded(entry) > now - policy.older_than for entry in versions[key]
        ):
            continue
        doomed.append(versions[key])
    return doomed


def _uploaded(entry: Entry) -> datetime:
    text = entry.get("upload-time")
    if not text:
        return datetime.max.replace(tzinfo=UTC)  # unknown: never old enough
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


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
    plans: list[tuple[str, list[list[Entry]]]] = []
    bar = TerminalBar()
    for project, manifest in index.manifests(projects, lambda d, t, p: bar.draw(d, t, p[:40])):
        if manifest is None:
            bar.finish()
            raise CommandError(f"no project {project} in s3://{args.bucket}")
        plans.append((project, doomed_files(manifest["files"], policy, datetime.now(UTC))))
    bar.finish()
    verb = "would remove" if args.dry_run else "removing"
    total = 0
    for project, groups in plans:
        for files in groups:
            print(f"{verb} {project} {shown(files[0]['version'])} ({len(files)} files)")
        entries = [entry for files in groups for entry in files]
        total += len(entries)
        if not args.dry_run:
            index.delete(entries)
    if args.dry_run:
        print(f"dry run: {total} files would be removed; nothing changed")
    else:
        print(f"removed {total} files; " + SETTLING.format(bucket=args.bucket))
    return EXIT_OK
