"""This release, and the record of it that the module leaves on the bucket.

The module tags the bucket it creates with the version it deploys and the formats
of the data that version's code derives (the manifest schema, the pages' render
version)::

    serverless-pypi:version = 0.1.0
    serverless-pypi:formats = manifest=1 pages=1

``make package`` writes those tags into ``package/release.json`` from here, main.tf
merges that file into the bucket's tags, and ``make package-check`` fails when the
file is stale; so every ``terraform apply`` (an upgrade too) leaves the deployed
release on the bucket, at no cost to any function. The command line compares them
with its own before it reads or writes the bucket (``cli/version.py``).

Tags rather than an object under ``.serverless-pypi/``: everything there is derived
and may be deleted and rebuilt, and this record is the module's, not the indexer's.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from . import __version__, manifest, simple

DISTRIBUTION = "serverless-pypi"
VERSION_TAG = "serverless-pypi:version"
FORMATS_TAG = "serverless-pypi:formats"
# Where the module and this package come from (the Terraform registry's
# serverless-pypi/serverless-pypi/aws); each release is its tag v<version>.
REPOSITORY = "https://github.com/serverless-pypi/terraform-aws-serverless-pypi"
_FORMAT = re.compile(r"([a-z][a-z-]*)=([A-Za-z0-9._-]+)")  # one `name=value` of the formats tag


@dataclass(frozen=True)
class Release:
    """A version of the module and the formats of the data its code writes."""

    version: str
    formats: Mapping[str, str]

    @property
    def formats_text(self) -> str:
        """``manifest=1 pages=1``: S3 tag values allow letters, digits, spaces and ``+-=._:/@``."""
        return " ".join(f"{name}={value}" for name, value in sorted(self.formats.items()))

    def tags(self) -> dict[str, str]:
        return {VERSION_TAG: self.version, FORMATS_TAG: self.formats_text}


THIS = Release(__version__, {"manifest": str(manifest.SCHEMA), "pages": simple.RENDER_VERSION})


def from_tags(tags: Mapping[str, str]) -> Release | None:
    """The release a bucket's tags record; None when they record none. Formats that do
    not parse are kept as none at all, which no release of this code writes."""
    version = tags.get(VERSION_TAG)
    if not version:
        return None
    formats: dict[str, str] = {}
    for pair in tags.get(FORMATS_TAG, "").split():
        found = _FORMAT.fullmatch(pair)
        if found is None or found[1] in formats:
            return Release(version, {})
        formats[found[1]] = found[2]
    return Release(version, formats)


class Agreement(enum.Enum):
    SAME = "same"  # the same version, the same formats
    OTHER_VERSION = "other version"  # another version that writes the same formats
    OTHER_FORMATS = "other formats"  # its data would be misread or rewritten


def compare(deployed: Release, this: Release = THIS) -> Agreement:
    if deployed.formats != this.formats:
        return Agreement.OTHER_FORMATS
    return Agreement.SAME if deployed.version == this.version else Agreement.OTHER_VERSION


def install_line(version: str) -> str:
    """The command that installs the command line of ``version`` from its git tag (never
    from PyPI by name: ``serverless-pypi`` there is another author's project)."""
    return f'pip install "{DISTRIBUTION} @ git+{REPOSITORY}@v{version}"'


def record(release: Release = THIS) -> str:
    """``package/release.json``: the bucket tags of ``release``, which main.tf reads."""
    return json.dumps(release.tags(), indent=2, sort_keys=True) + "\n"
