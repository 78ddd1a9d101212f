"""``serverless-pypi upstream deny|allow|unlist|show``: the proxy mode's policy lists.

They write one object (``layout.UPSTREAM_POLICY``) with a conditional PUT, so that
two operators never lose each other's entries; the api reads it again at most
every ``upstreampolicy.POLICY_TTL`` seconds: a change takes effect within a minute,
without a deploy.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Any

from .. import upstream, upstreampolicy
from ..layout import UPSTREAM_FILES, UPSTREAM_PAGES, UPSTREAM_POLICY
from ..logs import shown
from ..objects import Blob, PreconditionFailed
from ..storage import Storage
from ..upstreampolicy import Policy, Spec, SpecError, parse_spec
from .common import EXIT_OK, CommandError, bucket_storage

ATTEMPTS = 5  # conditional writes tried before giving up to a busy colleague


def add_parsers(commands: Any) -> None:
    top = commands.add_parser(
        "upstream",
        help="the proxy mode's deny and allow lists",
        description="What the proxy mode (upstream_mode = proxy) lets through from the "
        "upstream index. A SPEC is a project name, name==version, or a PEP 440 specifier "
        "set (name<2, 'name>=1,<1.4'). A deny wins over an allow; an allow lets files "
        "through despite the cooldown. A change takes effect within 60 seconds. Uses the "
        "standard AWS environment.",
    )
    actions = top.add_subparsers(required=True, metavar="ACTION")
    for action, summary in (
        ("deny", "block SPECs now, without a deploy"),
        ("allow", "let SPECs through despite the cooldown (an urgent fix)"),
        ("unlist", "take SPECs off both lists"),
    ):
        parser = actions.add_parser(action, help=summary, description=summary)
        parser.add_argument("specs", nargs="+", metavar="SPEC")
        parser.add_argument("--bucket", required=True, help="the index bucket")
        if action == "deny":
            parser.add_argument("--reason", default="", help="why (shown by `show`)")
        parser.set_defaults(run=change_command, action=action)
    show = actions.add_parser("show", help="print both lists", description="Print both lists.")
    show.add_argument("--bucket", required=True, help="the index bucket")
    show.add_argument("--json", action="store_true", help="as JSON")
    show.set_defaults(run=show_command)


def _specs(raw: list[str]) -> list[Spec]:
    try:
        return [parse_spec(text) for text in raw]
    except SpecError as error:
        raise CommandError(str(error)) from None


def read(storage: Storage) -> tuple[Policy, str | None]:
    """The stored policy and its ETag (None: no object yet)."""
    found = storage.get(UPSTREAM_POLICY)
    if not isinstance(found, Blob):
        return upstreampolicy.decode(None), None
    try:
        return upstreampolicy.decode(found.body), found.etag
    except ValueError as error:
        raise CommandError(
            f"the policy object s3://{storage.bucket}/{UPSTREAM_POLICY} is unreadable ({error}); "
            "the proxy serves nothing until it is fixed or deleted"
        ) from None


def change(storage: Storage, action: str, specs: list[Spec], reason: str = "") -> Policy:
    """Apply ``action`` to the stored policy, retried when someone wrote in between."""
    for _ in range(ATTEMPTS):
        policy, etag = read(storage)
        if action == "unlist":
            policy, removed = upstreampolicy.remove(policy, specs)
            if not removed:
                raise CommandError("none of these SPECs is on a list")
        else:
            policy = upstreampolicy.add(policy, action, specs, reason)
        body = upstreampolicy.encode(policy)
        try:
            if etag is None:
                storage.put(UPSTREAM_POLICY, body, "application/json", if_absent=True)
            else:
                storage.put(UPSTREAM_POLICY, body, "application/json", if_match=etag)
        except PreconditionFailed:
            continue
        return policy
    raise CommandError("the policy changed under every attempt; try again")


def change_command(args: argparse.Namespace) -> int:
    specs = _specs(args.specs)
    change(bucket_storage(args.bucket), args.action, specs, getattr(args, "reason", ""))
    verb = {"deny": "denied", "allow": "allowed", "unlist": "unlisted"}[args.action]
    print(f"{verb}: {', '.join(shown(spec.text) for spec in specs)} (in effect within 60 s)")
    return EXIT_OK


def show_command(args: argparse.Namespace) -> int:
    policy, _ = read(bucket_storage(args.bucket))
    if args.json:
        print(upstreampolicy.encode(policy).decode())
        return EXIT_OK
    for title, rules in (("deny", policy.deny), ("allow", policy.allow)):
        print(f"{title}:" + ("" if rules else " (none)"))
        for rule in rules:
            reason = f"  # {shown(rule.reason)}" if rule.reason else ""
            print(f"  {shown(rule.spec.text)}{reason}")
    return EXIT_OK


# -- `serverless-pypi status`: the upstream side ---------------------------------


@dataclass(slots=True)
class UpstreamStatus:
    """The proxy mode's state in a bucket, for ``status`` (None there: never used)."""

    projects_cached: int = 0
    files_kept: int = 0
    bytes_kept: int = 0
    held_by_cooldown: int = 0  # files the cached pages hold back now
    held_by_policy: int = 0
    left_out_malformed: int = 0  # files the upstream's pages had that were not usable
    html_only: list[str] = field(default_factory=list)  # pages without upload times
    last_error: str | None = None  # "<project>: <error>", of the latest failed fetch
    last_error_at: str | None = None


def upstream_status(storage: Storage, now: float | None = None) -> UpstreamStatus | None:
    """What the proxy holds: a listing of its prefix, and one GET per cached page."""
    pages = list(storage.list(UPSTREAM_PAGES))
    files = list(storage.list(UPSTREAM_FILES))
    if not pages and not files:
        return None
    now = time.time() if now is None else now
    report = UpstreamStatus(len(pages))
    kept = [obj for obj in files if not obj.key.endswith(".metadata")]
    report.files_kept, report.bytes_kept = len(kept), sum(obj.size for obj in kept)
    policy, _ = read(storage)
    latest = -1.0
    for obj in pages:
        project = obj.key[len(UPSTREAM_PAGES) :].removesuffix(".json.gz")
        found = storage.get(obj.key)
        cached = upstream.decode(found.body, project) if isinstance(found, Blob) else None
        if cached is None:
            continue
        offer = upstream.offer(cached.page, policy, cached.cooldown, now)
        report.held_by_cooldown += offer.cooldown
        report.held_by_policy += offer.policy
        report.left_out_malformed += cached.page.dropped
        if cached.page.format == "html" and cached.page.files:
            report.html_only.append(project)
        if cached.error and cached.fetched > latest:
            latest = cached.fetched
            report.last_error = f"{project}: {cached.error}"
            report.last_error_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(latest))
    return report


def status_lines(report: UpstreamStatus) -> list[str]:
    """The upstream side of ``status`` for a person (values from the bucket escaped)."""
    lines = [
        f"upstream: {report.projects_cached} projects cached, {report.files_kept} files kept "
        f"({report.bytes_kept} bytes); held back now: {report.held_by_cooldown} by the "
        f"cooldown, {report.held_by_policy} by the policy; {report.left_out_malformed} "
        "left out as malformed"
    ]
    lines += [
        f"upstream: {shown(name)}: the upstream serves HTML only, without upload times: "
        "the cooldown holds back every file (an allow lets them through)"
        for name in report.html_only
    ]
    if report.last_error:
        lines.append(
            f"upstream: last error ({report.last_error_at} UTC): {shown(report.last_error)}"
        )
    return lines
