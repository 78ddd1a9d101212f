"""Project names, distribution filenames and version ordering (pure functions).

Only the standard library: the Lambda runtime has no ``packaging``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


# -- folders spelled another way ----------------------------------------------
#
# A project's folder may be spelled any way that normalizes to its name
# (``Corp.Tool/``, ``corp_tool/``). S3 lists by byte prefix, case-sensitively, so
# the folders of one project are not next to each other. They are found by
# listing folder names (a delimiter listing) under the first character in each
# case, and, only where one listing page (1,000 names) cannot hold them all, under
# longer prefixes spelled like the name: the cost grows with the bucket's folders
# that share a spelling of the name's start, not with the bucket.

# (folder names under a prefix, whether the listing had more than one page)
ListFolders = Callable[[str], tuple[list[str], bool]]
HasObjects = Callable[[str], bool]
MAX_FOLDER_LISTINGS = 32


class TooManyFolders(RuntimeError):
    """The bucket holds too many folders spelled like the name to tell them apart."""


def spelled_folders(project: str, list_folders: ListFolders, has_objects: HasObjects) -> list[str]:
    """Every folder in the bucket whose name normalizes to ``project`` (normalized)."""
    found: set[str] = set()
    pending = _spellings(project, "", 0, after_separator=False)
    listings = 0
    while pending:
        prefix, done, after_separator = pending.pop()
        if done == len(project):
            # The whole name is spelled: the only valid folder left is ``prefix``
            # (a name never ends with a separator).
            if not after_separator and has_objects(prefix + "/"):
                found.add(prefix)
            continue
        listings += 1
        if listings > MAX_FOLDER_LISTINGS:
            raise TooManyFolders(f"more than {MAX_FOLDER_LISTINGS} listings for {project}")
        folders, truncated = list_folders(prefix)
        if truncated:
            pending.extend(_spellings(project, prefix, done, after_separator=after_separator))
            continue
        found.update(f for f in folders if is_valid_name(f) and normalize(f) == project)
    return sorted(found)


def _spellings(
    project: str, prefix: str, done: int, *, after_separator: bool
) -> list[tuple[str, int, bool]]:
    """The prefixes one character longer that may still spell ``project``."""
    steps = []
    if after_separator:  # a run of separators may go on ("a-_b" is "a-b")
        steps += [(prefix + char, done, True) for char in "-_."]
    if done < len(project):
        char = project[done]
        if char == "-":
            steps += [(prefix + separator, done + 1, True) for separator in "-_."]
        else:
            steps += [(prefix + case, done + 1, False) for case in sorted({char, char.upper()})]
    return steps


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


# PEP 440 versions in any form that normalizes (packaging's VERSION_PATTERN, the
# rule warehouse applies to uploads), and their ordering. Invalid versions (and
# any longer than MAX_VERSION: the digits of a release must stay a small int)
# sort before valid ones, by their text.
MAX_VERSION = 128
_VERSION = re.compile(
    r"""^v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d+)?)?
    (?:(?:-(?P<post_n1>\d+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?))?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$""",
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}

VersionKey = tuple[Any, ...]  # compares as PEP 440 orders versions


def is_valid_version(version: str) -> bool:
    """Whether ``version`` is a PEP 440 version of at most MAX_VERSION characters."""
    return len(version) <= MAX_VERSION and _VERSION.fullmatch(version) is not None


def _parsed(version: str) -> re.Match[str] | None:
    """``version``'s PEP 440 parts (None when it is not one, or too long to be)."""
    return _VERSION.match(version.strip()) if len(version) <= MAX_VERSION else None


def is_prerelease(version: str) -> bool:
    """Whether ``version`` is a pre-release or a development release (PEP 440); an
    invalid version is neither."""
    match = _parsed(version)
    return match is not None and bool(match["pre_l"] or match["dev_l"])


def version_key(version: str) -> VersionKey:
    """A sort key that orders versions as PEP 440 does."""
    match = _parsed(version)
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
