"""A wheelhouse made of what this environment has installed, for pip without an index.

``build(requirements, into)`` finds the installed distributions that the
requirements need (their dependencies too, with the extras asked for and the
markers of this interpreter) and packs each back into a wheel: the files its
RECORD lists under site-packages, its own dist-info (without what an installer
adds: INSTALLER, REQUESTED, direct_url.json) and a new RECORD, named with the
tags of its WHEEL file. Nothing is downloaded: an install with
``--no-index --find-links <wheelhouse>`` then works offline.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_INSTALLER_FILES = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}


class NotInstalled(RuntimeError):
    """A requirement that this environment does not satisfy."""


def closure(requirements: Iterable[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions ``requirements`` need, by canonical name."""
    found: dict[str, metadata.Distribution] = {}
    extras: dict[str, set[str]] = {}
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        asked = set(requirement.extras)
        if name in found and asked <= extras[name]:
            continue
        try:
            distribution = found.get(name) or metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise NotInstalled(f"{requirement} is not installed here") from None
        if not requirement.specifier.contains(distribution.version, prereleases=True):
            raise NotInstalled(f"{requirement}: {distribution.version} is installed here")
        found[name] = distribution
        extras[name] = extras.get(name, set()) | asked
        for text in distribution.requires or []:
            needed = Requirement(text)
            wanted = extras[name] | {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in wanted):
                todo.append(needed)
    return found


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _tags(wheel_file: str) -> str:
    """``py2.py3-none-any`` from a WHEEL file's ``Tag:`` lines (a compressed tag set)."""
    parts: list[list[str]] = [[], [], []]
    for line in wheel_file.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Tag":
            for index, part in enumerate(value.strip().split("-")):
                if part not in parts[index]:
                    parts[index].append(part)
    if not all(parts):
        raise NotInstalled("no Tag in WHEEL")
    return "-".join(".".join(part) for part in parts)


def repack(distribution: metadata.Distribution, into: Path) -> Path:
    """``distribution`` as a wheel in ``into``, made of its installed files."""
    files = distribution.files
    wheel_file = distribution.read_text("WHEEL")
    if files is None or wheel_file is None:
        raise NotInstalled(f"{distribution.metadata['Name']}: no RECORD or WHEEL to repack")
    info = next(
        (PurePosixPath(f.as_posix()).parts[0] for f in files if f.parts[0].endswith(".dist-info")),
        None,
    )
    if info is None:
        raise NotInstalled(f"{distribution.metadata['Name']}: no .dist-info")
    record = []
    path = into / f"{info.removesuffix('.dist-info')}-{_tags(wheel_file)}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as wheel:
        for entry in sorted(files, key=lambda f: f.as_posix()):
            name = entry.as_posix()
            parts = PurePosixPath(name).parts
            if parts[0] == ".." or "__pycache__" in parts:
                continue  # scripts (pip makes them from entry points) and bytecode
            if parts[0] == info and parts[-1] in _INSTALLER_FILES:
                continue
            located = Path(str(entry.locate()))
            if not located.is_file():
                continue
            data = located.read_bytes()
            wheel.writestr(name, data)
            record.append(f"{name},{_digest(data)},{len(data)}")
        record.append(f"{info}/RECORD,,")
        wheel.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


def build(requirements: Iterable[str], into: Path) -> list[Path]:
    """A wheel in ``into`` for each installed distribution ``requirements`` need."""
    into.mkdir(parents=True, exist_ok=True)
    return [repack(distribution, into) for distribution in closure(requirements).values()]
