"""Which command line this is, and whether it matches the module deployed to a bucket.

``serverless-pypi --version`` prints the version and where it was installed from
(PEP 610's ``direct_url.json``: a git URL and tag, a directory, an editable
checkout). Before a command reads or writes a bucket, ``check_bucket`` reads the
release the module tagged the bucket with (``release.py``) and compares it with
this one: the same, silence; another version that writes the same formats, a
warning; other formats, a refusal (``--ignore-version`` goes on anyway). Each says
how to install the matching command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from .. import __version__
from .. import release as releases
from ..release import Agreement, Release
from .common import CommandError

IGNORE_OPTION = "--ignore-version"


# -- serverless-pypi --version ----------------------------------------------------


def origin(direct_url: str | None) -> str:
    """Where a distribution was installed from, by its PEP 610 ``direct_url.json``
    (None: there is none, as after an install from an index)."""
    if direct_url is None:
        return "from a package index"
    try:
        info = json.loads(direct_url)
        url = str(info["url"])
    except (ValueError, KeyError, TypeError):
        return "from an unknown origin"
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict):
        revision = vcs.get("requested_revision")
        commit = str(vcs.get("commit_id", ""))[:12]
        where = f"{vcs.get('vcs', 'vcs')}+{url}" + (f"@{revision}" if revision else "")
        return f"{where}, commit {commit}" if commit else where
    location = _path(url)
    if isinstance(info.get("dir_info"), dict):
        editable = info["dir_info"].get("editable") is True
        return f"{'editable' if editable else 'directory'}: {location}"
    return f"archive: {location}"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return unquote(parts.path) if parts.scheme == "file" else url


def version_line() -> str:
    """``serverless-pypi 0.1.0 from <package folder> (<origin>)``."""
    package = Path(__file__).resolve().parent.parent
    try:
        distribution = metadata.distribution(releases.DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return f"{releases.DISTRIBUTION} {__version__} from {package} (not installed)"
    where = origin(distribution.read_text("direct_url.json"))
    if distribution.version != __version__:
        where += f"; the installed distribution says {distribution.version}"
    return f"{releases.DISTRIBUTION} {__version__} from {package} ({where})"


class VersionAction(argparse.Action):
    """``--version``: the version line, computed only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(version_line())
        parser.exit()


# -- the deployed release ------------------------------------------------------------


def add_ignore_option(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``--ignore-version`` on every command that takes ``--bucket``."""
    for command in commands.choices.values():
        if "--bucket" in command._option_string_actions:
            command.add_argument(
                IGNORE_OPTION,
                action="store_true",
                help="go on even when the module deployed to the bucket writes other formats",
            )


@dataclass(frozen=True)
class Verdict:
    """What to say before a command: a ``note``, a ``warning``, or a ``refusal``."""

    level: str
    text: str


def verdict(bucket: str, deployed: Release | None, this: Release = releases.THIS) -> Verdict | None:
    """What ``deployed`` (None: the bucket records no release) calls for; None: silence."""
    if deployed is None:
        return Verdict(
            "note",
            f"bucket {bucket} records no module version (no {releases.VERSION_TAG} tag: a "
            "module from before these tags, or a bucket the module did not make); this "
            f"command line, {this.version}, is not compared with it",
        )
    agreement = releases.compare(deployed, this)
    if agreement is Agreement.SAME:
        return None
    hint = f"\n  the matching command line: {releases.install_line(deployed.version)}"
    if agreement is Agreement.OTHER_VERSION:
        return Verdict(
            "warning",
            f"bucket {bucket} was deployed by module {deployed.version}, this command line "
            f"is {this.version} (the same data formats, {this.formats_text}){hint}",
        )
    return Verdict(
        "refusal",
        f"bucket {bucket} was deployed by module {deployed.version} (formats "
        f"{deployed.formats_text or 'unknown'}), this command line is {this.version} (formats "
        f"{this.formats_text}): it would misread or rewrite the index's data{hint}",
    )


def deployed_release(client: Any, bucket: str) -> Release | None:
    """The release the bucket's tags record (one GetBucketTagging); None without one.
    botocore's errors pass through."""
    from botocore.exceptions import ClientError

    try:
        tag_set = client.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except ClientError as error:
        if str(error.response.get("Error", {}).get("Code", "")) == "NoSuchTagSet":
            return None
        raise
    return releases.from_tags({str(tag["Key"]): str(tag["Value"]) for tag in tag_set})


def check_bucket(
    bucket: str, *, ignore: bool = False, client: Any = None, stream: TextIO | None = None
) -> None:
    """Compare the release deployed to ``bucket`` with this one (see ``verdict``). A
    bucket whose tags cannot be read is said so in one line; one that is not there,
    or no credentials, are left to the command, which says so in its own words."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..storage import make_client

    stream = stream or sys.stderr
    try:
        deployed = deployed_release(client or make_client(), bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("NoSuchBucket", "404", "NotFound"):
            return
        print(
            f"serverless-pypi: note: the tags of bucket {bucket} cannot be read ({code}; "
            f"s3:GetBucketTagging): this command line, {releases.THIS.version}, is not "
            "compared with the module deployed to it",
            file=stream,
        )
        return
    except BotoCoreError:
        return
    said = verdict(bucket, deployed)
    if said is None:
        return
    if said.level == "refusal":
        if not ignore:
            raise CommandError(f"{said.text}\n  ({IGNORE_OPTION} goes on anyway)")
        print(f"serverless-pypi: warning: {said.text}\n  ({IGNORE_OPTION}: going on)", file=stream)
        return
    print(f"serverless-pypi: {said.level}: {said.text}", file=stream)
