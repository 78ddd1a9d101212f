"""``serverless-pypi status``: what an operator must know about an index, for a
person (a table) or a scheduled job (``--json``, and the exit code).

Every project that is not active (PEP 792: archived, deprecated, quarantined)
is listed with its status and reason.

It reads one listing of the bucket, one of the manifests and each project's
manifest (in parallel): one GET per project plus a request per thousand keys,
never a read of a distribution. Needs attention (exit code 3): a file with a
``problem``, drift between the bucket and the manifests, files still waiting
to be read, messages in the dead-letter queue. On a bucket the proxy mode used, the
upstream side too (``cli/upstream.py``): one listing of its prefix and one GET per
cached upstream page.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import manifest as manifests
from ..logs import shown
from ..manifest import ACTIVE, Manifest
from ..names import DISTRIBUTION_SUFFIXES, is_valid_name, normalize, version_key
from ..objects import ObjectInfo
from ..storage import Storage
from .common import EXIT_OK, CommandError, TerminalBar, bucket_storage
from .index import Index
from .upstream import UpstreamStatus, status_lines, upstream_status

EXIT_ATTENTION = 3


def add_parsers(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="projects, problems, drift, dead letters (exit 3: needs attention)",
        description="A table of the index's projects, the files indexed without metadata "
        "(and why), drift between the bucket and the index, and the dead-letter queue. "
        "Exits 3 when anything needs attention, for a scheduled job.",
    )
    status.add_argument("projects", nargs="*", metavar="PROJECT", help="only these projects")
    status.add_argument("--bucket", required=True, help="the index bucket")
    status.add_argument(
        "--dead-letter-queue", metavar="URL", help="also count the events waiting in this queue"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(run=status_command)


@dataclass(slots=True)
class ProjectStatus:
    name: str
    files: int
    versions: int
    latest: str | None
    last_upload: str | None
    pending: int = 0
    skipped: int = 0
    problems: dict[str, str] = field(default_factory=dict)  # filename -> reason
    uploaders: dict[str, str] = field(default_factory=dict)  # filename -> who, where recorded
    status: str = ACTIVE  # PEP 792: archived, deprecated, quarantined or active
    status_reason: str | None = None


@dataclass(slots=True)
class Report:
    projects: list[ProjectStatus] = field(default_factory=list)
    # Drift: distributions no manifest lists (by key), keys manifests list that are
    # gone, folders with distributions and no manifest, names kept private without files.
    unlisted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unindexed: list[str] = field(default_factory=list)
    private_without_files: list[str] = field(default_factory=list)
    dead_letter_messages: int | None = None
    # The proxy mode's side (cli/upstream.py); None when the bucket never proxied.
    upstream: UpstreamStatus | None = None

    @property
    def attention(self) -> list[str]:
        """Why the index needs attention (empty when it does not)."""
        reasons = []
        problems = sum(len(project.problems) for project in self.projects)
        pending = sum(project.pending for project in self.projects)
        for count, what in (
            (problems, "files indexed with a problem"),
            (pending, "files waiting to be read"),
            (len(self.unlisted), "files no manifest lists"),
            (len(self.missing), "indexed files that are gone"),
            (len(self.unindexed), "projects not indexed"),
            (self.dead_letter_messages or 0, "events in the dead-letter queue"),
        ):
            if count:
                reasons.append(f"{count} {what}")
        return reasons


def project_status(manifest: Manifest) -> ProjectStatus:
    """A project's line of the report, from its manifest (pure)."""
    files = manifest["files"]
    keys = sorted({version_key(entry["version"]) for entry in files})
    latest = None
    if keys:
        latest = next(e["version"] for e in files if version_key(e["version"]) == keys[-1])
    uploads = [entry["upload-time"] for entry in files if entry.get("upload-time")]
    marker = manifests.project_status(manifest.get("status"))
    return ProjectStatus(
        name=manifest["name"],
        files=len(files),
        versions=len(keys),
        latest=latest,
        last_upload=max(uploads) if uploads else None,
        pending=int(manifest.get("pending", 0)),
        skipped=int(manifest.get("skipped", 0)),
        problems={e["filename"]: e["problem"] for e in files if e.get("problem")},
        uploaders={e["filename"]: e["uploaded-by"] for e in files if e.get("uploaded-by")},
        status=marker["status"] if marker else ACTIVE,
        status_reason=marker.get("reason") if marker else None,
    )


def distributions(objects: Mapping[str, Iterable[ObjectInfo]]) -> dict[str, set[str]]:
    """The distribution keys among each project's objects."""
    return {
        project: {obj.key for obj in found if obj.key.endswith(DISTRIBUTION_SUFFIXES)}
        for project, found in objects.items()
    }


def compare(listed: Mapping[str, set[str]], manifests: Mapping[str, Manifest | None]) -> Report:
    """The report of ``manifests`` (project -> manifest, None when absent) against
    the distributions the bucket holds (``listed``, by project) (pure)."""
    report = Report()
    for name in sorted(set(listed) | set(manifests)):
        manifest = manifests.get(name)
        keys = listed.get(name, set())
        if manifest is None:
            if keys:
                report.unindexed.append(name)
            continue
        status = project_status(manifest)
        report.projects.append(status)
        indexed = {entry["key"] for entry in manifest["files"]}
        report.unlisted += sorted(keys - indexed)
        report.missing += sorted(indexed - keys)
        if not manifest["files"] and not keys:
            report.private_without_files.append(name)
    return report


def build_report(
    storage: Storage,
    projects: Iterable[str] = (),
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """The report of the bucket's index (of ``projects`` only, when given)."""
    index = Index(storage)
    index.check()
    if projects:
        names = sorted({normalize(name) for name in projects})
        listed = distributions(
            {
                name: [o for f in storage.spelled_folders(name) for o in storage.folder_objects(f)]
                for name in names
            }
        )
    else:
        listed = distributions(storage.projects())
        names = sorted(set(index.project_names()) | set(listed))
    read = dict(index.manifests(names, progress))
    return compare({name: listed.get(name, set()) for name in names}, read)


def status_command(args: argparse.Namespace) -> int:
    for name in args.projects:
        if not is_valid_name(name):
            raise CommandError(f"{name!r} is not a project name")
    storage = bucket_storage(args.bucket)
    bar = TerminalBar()
    report = build_report(
        storage, args.projects, lambda d, t, p: bar.draw(d, t, f"{d}/{t} {p[:30]}")
    )
    bar.finish()
    if not args.projects:
        report.upstream = upstream_status(storage)
    if args.dead_letter_queue:
        report.dead_letter_messages = _waiting(args.dead_letter_queue)
    print(_as_json(report) if args.json else _as_text(report, args.bucket))
    _warn_expiring_users(storage)
    return EXIT_ATTENTION if report.attention else EXIT_OK


def _warn_expiring_users(storage: Storage) -> None:
    """On stderr: the users who expire within a week, or have (the users file)."""
    from .user import EXPIRY_WARNING_DAYS, expiring_users, expiry_text

    for name, expires in expiring_users(storage):
        print(
            f"warning: user {shown(name)} expires {expiry_text(expires)}: "
            f"`serverless-pypi user rotate {shown(name)} --expires 90d` (within "
            f"{EXPIRY_WARNING_DAYS} days)",
            file=sys.stderr,
        )


def _waiting(queue_url: str) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
    except (ClientError, BotoCoreError) as error:
        raise CommandError(f"the dead-letter queue cannot be read: {error}") from None
    return int(attributes.get("ApproximateNumberOfMessages", "0"))


def _as_json(report: Report) -> str:
    data = asdict(report)
    data["attention"] = report.attention
    return json.dumps(data, indent=2)


def _as_text(report: Report, bucket: str) -> str:
    """The report for a person. Every value from the bucket (keys, and the names,
    versions, times and problems its manifests hold) goes through ``shown``: a key
    holding an escape sequence must not act on the terminal. ``--json`` escapes
    them as JSON does (``ensure_ascii``)."""
    rows = [("project", "files", "versions", "latest", "last upload", "problems")]
    for project in report.projects:
        rows.append(
            (
                shown(project.name),
                str(project.files),
                str(project.versions),
                shown(project.latest or "-"),
                shown((project.last_upload or "-")[:19].replace("T", " ")),
                str(len(project.problems)) if project.problems else "-",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    for project in report.projects:
        name = shown(project.name)
        for filename, reason in sorted(project.problems.items()):
            lines.append(f"problem: {name}/{shown(filename)}: {shown(reason)}")
        if project.pending:
            lines.append(f"pending: {name}: {project.pending} files still being read")
        if project.status != ACTIVE:
            why = f": {shown(project.status_reason)}" if project.status_reason else ""
            lines.append(f"{project.status}: {name}{why}")
    lines += [f"drift: not in any manifest: {shown(key)}" for key in report.unlisted]
    lines += [f"drift: indexed but gone: {shown(key)}" for key in report.missing]
    lines += [
        f"drift: not indexed: {shown(name)} (run serverless-pypi reindex)"
        for name in report.unindexed
    ]
    lines += [f"private, no files: {shown(name)}" for name in report.private_without_files]
    if report.dead_letter_messages is not None:
        lines.append(f"dead-letter queue: {report.dead_letter_messages} events waiting")
    if report.upstream is not None:
        lines += status_lines(report.upstream)
    attention = report.attention
    summary = "needs attention: " + ", ".join(attention) if attention else "all well"
    lines.append(f"s3://{bucket}: {len(report.projects)} projects; {summary}")
    return "\n".join(lines)
