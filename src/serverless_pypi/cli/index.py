"""The index as the day-two commands see it: manifests read from the bucket, the
files a command names, and their deletion.

The commands change distributions and yank markers only, never derived data:
the bucket notification brings the index up to date, as for any upload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import manifeststore
from ..batch import WORKERS  # manifests read at once, one a connection
from ..layout import ROOT_JSON, YANK_SUFFIX
from ..manifest import Entry, Manifest
from ..names import is_valid_name, is_valid_version, normalize, parse_filename, version_key
from ..storage import Storage
from .common import CommandError


@dataclass(frozen=True, slots=True)
class Target:
    """What a command was asked about: one file, or every file of one version."""

    project: str  # normalized
    filename: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        return self.filename or f"{self.project}=={self.version}"


def parse_target(text: str) -> Target:
    """``PROJECT==VERSION``, ``FILE`` or ``PROJECT/FILE``; CommandError when it is none."""
    name, equals, version = text.partition("==")
    if equals:
        if not is_valid_name(name.strip()) or not is_valid_version(version.strip()):
            raise CommandError(f"{text!r} is not PROJECT==VERSION (a PEP 440 version)")
        return Target(normalize(name.strip()), version=version.strip())
    folder, slash, filename = text.rpartition("/")
    if slash:
        if not is_valid_name(folder):
            raise CommandError(f"{folder!r} is not a project name")
        project = normalize(folder)
        if parse_filename(filename, project) is None:
            raise CommandError(f"{filename} is not a distribution of {project}")
        return Target(project, filename=filename)
    for project in candidate_projects(text):
        return Target(project, filename=text)
    raise CommandError(f"{text!r} is not a wheel or sdist filename, nor PROJECT==VERSION")


def candidate_projects(filename: str) -> list[str]:
    """The projects a distribution filename can belong to: a wheel names its own;
    a legacy sdist (``my-pkg-1.0.tar.gz``) may split at any dash."""
    stem = filename.removesuffix(".whl").removesuffix(".tar.gz").removesuffix(".zip")
    parts = stem.split("-")
    found = []
    for end in range(1, len(parts)):
        name = "-".join(parts[:end])
        if is_valid_name(name) and parse_filename(filename, normalize(name)) is not None:
            found.append(normalize(name))
    return found


class Index:
    """One bucket's index: its manifests, read on demand."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        # The manifests ``entries`` read: a command's targets often name one project
        # several times (a==1 a==2), and a missing version reads it again for its error.
        self._targeted: dict[str, Manifest | None] = {}

    def check(self) -> None:
        """CommandError unless the bucket holds an index (its root index.json)."""
        if self.storage.head(ROOT_JSON) is None:
            bucket = self.storage.bucket
            raise CommandError(
                f"s3://{bucket} is not a serverless-pypi index (no {ROOT_JSON}); "
                f"if its distributions were put there another way, run "
                f"`serverless-pypi reindex --bucket {bucket}` first"
            )

    def manifest(self, project: str) -> Manifest | None:
        return manifeststore.read(self.storage, project).manifest

    def _targeted_manifest(self, project: str) -> Manifest | None:
        if project not in self._targeted:
            self._targeted[project] = self.manifest(project)
        return self._targeted[project]

    def project_names(self) -> list[str]:
        """Every project with a manifest (from one listing of the manifests)."""
        return sorted(self.storage.indexed_projects())

    def manifests(
        self, projects: Iterable[str], progress: Callable[[int, int, str], None] | None = None
    ) -> Iterator[tuple[str, Manifest | None]]:
        """``(project, manifest)`` for each project, read in parallel, in order."""
        names = list(projects)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for done, (name, found) in enumerate(
                zip(names, pool.map(self.manifest, names), strict=True), start=1
            ):
                if progress is not None:
                    progress(done, len(names), name)
                yield name, found

    def entries(self, target: Target) -> list[Entry]:
        """The manifest entries ``target`` names; CommandError when there are none."""
        candidates = [target.project]
        if target.filename and target.version is None:
            candidates = [p for p in candidate_projects(target.filename) if p != target.project]
            candidates.insert(0, target.project)
        for project in candidates:
            manifest = self._targeted_manifest(project)
            if manifest is None:
                continue
            found = select(manifest["files"], target)
            if found:
                return found
        if target.version is not None:
            manifest = self._targeted_manifest(target.project)
            if manifest is None:
                raise CommandError(f"no project {target.project} in s3://{self.storage.bucket}")
            have = sorted({entry["version"] for entry in manifest["files"]}, key=version_key)
            shown = ", ".join(have[-10:]) or "none"
            raise CommandError(
                f"{target.project} has no version {target.version} (it has: {shown})"
            )
        raise CommandError(f"no project of s3://{self.storage.bucket} has {target.filename}")

    def delete(self, entries: Iterable[Entry]) -> list[str]:
        """Delete each file and its yank marker; the keys deleted."""
        deleted = []
        for entry in entries:
            self.storage.delete(entry["key"])
            deleted.append(entry["key"])
            marker = entry["key"] + YANK_SUFFIX
            if self.storage.head(marker) is not None:
                self.storage.delete(marker)
                deleted.append(marker)
        return deleted


def select(files: Iterable[Entry], target: Target) -> list[Entry]:
    """The entries of ``files`` that ``target`` names (a version in any spelling)."""
    if target.filename is not None:
        return [entry for entry in files if entry["filename"] == target.filename]
    wanted = version_key(target.version or "")
    return [entry for entry in files if version_key(entry["version"]) == wanted]
