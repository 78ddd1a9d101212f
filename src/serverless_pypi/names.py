"""Project names, distribution filenames and version ordering (pure functions).

Only the standard library: the Lambda runtime has no ``packaging``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# PEP 508 names, case-insensitively; PEP 503 normalization.
# ASCII only: without re.ASCII, IGNORECASE lets the Kelvin sign (U+212A), the long
# s and the dotted I match K, S and I, and they lower-case into another project's name.
_VALID_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE | re.ASCII)
_SEPARATORS = re.compile(r"[-_.]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# What a distribution filename may hold: printable ASCII (no control character,
# nothing that Unicode case folding could turn into another name).
_FILENAME = re.compile(r"^[\x20-\x7e]{1,255}\Z")

SDIST_SUFFIXES = (".tar.gz", ".zip")
WHEEL_SUFFIX = ".whl"
DISTRIBUTION_SUFFIXES = (WHEEL_SUFFIX, *SDIST_SUFFIXES)

# Wheel: {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl (PEP 427 / 491).
_WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)


def normalize(name: str) -> str:
    """The PEP 503 normalized form of a project name (ASCII letters lower-cased only)."""
    return _SEPARATORS.sub("-", name).translate(_ASCII_LOWER)


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a valid project name (PEP 508)."""
    return bool(_VALID_NAME.match(name))


@dataclass(frozen=True, slots=True)
class Distribution:
    """What a distribution's filename says about it."""

    filename: str
    project: str  # normalized
    version: str
    kind: str  # "wheel" or "sdist"


def parse_filename(filename: str, project: str) -> Distribution | None:
    """Parse ``filename`` as a distribution of the (normalized) ``project``.

    Returns None when it is not a wheel or sdist of that project: another
    project's file in the wrong folder, a README, a half-written upload.
    """
    if not _FILENAME.match(filename) or "/" in filename or "\\" in filename:
        return None
    if filename.endswith(WHEEL_SUFFIX):
        match = _WHEEL.match(filename)
        if match is None or not is_valid_name(match["name"]) or normalize(match["name"]) != project:
            return None
        return Distribution(filename, project, match["version"], "wheel")
    for suffix in SDIST_SUFFIXES:
        if filename.endswith(suffix):
            return _parse_sdist(filename, filename[: -len(suffix)], project)
    return None


def _parse_sdist(filename: str, stem: str, project: str) -> Distribution | None:
    # Legacy sdists keep dashes in the name (``my-pkg-1.0.tar.gz``): split at
    # the dash after which the known project name ends.
    for index, char in enumerate(stem):
        if char == "-" and is_valid_name(stem[:index]) and normalize(stem[:index]) == project:
            version = stem[index + 1 :]
            if version and version[0].isalnum() and "-" not in version:
                return Distribution(filename, project, version, "sdist")
    return None


# PEP 440 ordering, enough to sort the versions of one project. Invalid
# versions sort before valid ones, by their text.
_VERSION = re.compile(
    r"""^v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d+)?)?
    (?:(?:-(?P<post_n1>\d+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?))?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$""",
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}

VersionKey = tuple[object, ...]


def version_key(version: str) -> VersionKey:
    """A sort key that orders versions as PEP 440 does."""
    match = _VERSION.match(version.strip())
    if match is None:
        return (0, version)
    release = tuple(int(part) for part in match["release"].split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    pre: tuple[int, int]
    if match["pre_l"]:
        pre = (_PRE_RANK[match["pre_l"].lower()], int(match["pre_n"] or 0))
    elif match["dev_l"] and not (match["post_l"] or match["post_n1"]):
        pre = (-1, 0)  # 1.0.dev0 < 1.0a0
    else:
        pre = (3, 0)  # a final release sorts after its pre-releases
    post_number = match["post_n1"] or match["post_n2"]
    has_post = bool(match["post_l"] or match["post_n1"])
    post = (1, int(post_number or 0)) if has_post else (0, 0)
    dev = (0, int(match["dev_n"] or 0)) if match["dev_l"] else (1, 0)
    local = tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part.lower())
        for part in re.split(r"[-_.]", match["local"] or "")
        if part
    )
    return (1, int(match["epoch"] or 0), release, pre, post, dev, local)
