"""Real distributions for the tests: wheels (PEP 427) and sdists (PEP 517/643).

The sdists carry an in-tree build backend with no requirements, so pip and
uv can build them with no index and no network.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import textwrap
import zipfile
from collections.abc import Iterable
from pathlib import Path

_EPOCH = (2020, 1, 1, 0, 0, 0)


def _escape(name: str) -> str:
    """The name as it appears in distribution filenames."""
    return re.sub(r"[-_.]+", "_", name).lower()


def metadata_text(
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    requires: Iterable[str] = (),
    metadata_version: str = "2.3",
    dynamic: Iterable[str] = (),
    summary: str = "A test package",
) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    lines.append(f"Summary: {summary}")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines.extend(f"Requires-Dist: {requirement}" for requirement in requires)
    lines.extend(f"Dynamic: {field}" for field in dynamic)
    return "\n".join(lines) + "\n\nA long description.\n"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def _module(name: str, version: str) -> str:
    return f'"""{name}"""\n\n__version__ = "{version}"\n'


def wheel_bytes(
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    metadata: str | None = None,
    extra_files: dict[str, bytes] | None = None,
    **metadata_options: object,
) -> tuple[str, bytes]:
    """``(filename, bytes)`` of an installable wheel."""
    escaped = _escape(name)
    dist_info = f"{escaped}-{version}.dist-info"
    text = metadata if metadata is not None else metadata_text(name, version, **metadata_options)  # type: ignore[arg-type]
    files: dict[str, bytes] = {
        f"{escaped}/__init__.py": _module(name, version).encode(),
        **(extra_files or {}),
        f"{dist_info}/METADATA": text.encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record = [_record_line(path, data) for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, _EPOCH), data)
    return f"{escaped}-{version}-{tag}.whl", buffer.getvalue()


_BACKEND = textwrap.dedent(
    '''
    """A PEP 517 backend with no requirements: it packs the module into a wheel."""
    import base64, hashlib, os, zipfile

    def _metadata():
        with open("PKG-INFO", encoding="utf-8") as f:
            return f.read()

    def _field(text, name):
        for line in text.splitlines():
            if line.startswith(name + ": "):
                return line[len(name) + 2:]
        raise KeyError(name)

    def _names():
        text = _metadata()
        name = _field(text, "Name").replace("-", "_").replace(".", "_").lower()
        return text, name, _field(text, "Version")

    def get_requires_for_build_wheel(config_settings=None):
        return []

    def prepare_metadata_for_build_wheel(directory, config_settings=None):
        text, name, version = _names()
        dist_info = f"{name}-{version}.dist-info"
        os.makedirs(os.path.join(directory, dist_info), exist_ok=True)
        with open(os.path.join(directory, dist_info, "METADATA"), "w", encoding="utf-8") as f:
            f.write(text)
        return dist_info

    def _line(path, data):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"{path},sha256={digest},{len(data)}"

    def build_wheel(directory, config_settings=None, metadata_directory=None):
        text, name, version = _names()
        dist_info = f"{name}-{version}.dist-info"
        files = {}
        for root, _, found in os.walk(name):
            for filename in found:
                path = os.path.join(root, filename)
                with open(path, "rb") as f:
                    files[path.replace(os.sep, "/")] = f.read()
        files[f"{dist_info}/METADATA"] = text.encode()
        files[f"{dist_info}/WHEEL"] = (
            b"Wheel-Version: 1.0\\nGenerator: tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        )
        record = [_line(path, data) for path, data in files.items()] + [f"{dist_info}/RECORD,,"]
        files[f"{dist_info}/RECORD"] = ("\\n".join(record) + "\\n").encode()
        filename = f"{name}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(os.path.join(directory, filename), "w") as archive:
            for path, data in files.items():
                archive.writestr(path, data)
        return filename
    '''
).lstrip()


def sdist_bytes(
    name: str,
    version: str,
    *,
    metadata: str | None = None,
    fmt: str = "tar.gz",
    with_pkg_info: bool = True,
    **metadata_options: object,
) -> tuple[str, bytes]:
    """``(filename, bytes)`` of an sdist that pip and uv can build offline."""
    escaped = _escape(name)
    top = f"{escaped}-{version}"
    text = metadata if metadata is not None else metadata_text(name, version, **metadata_options)  # type: ignore[arg-type]
    files: dict[str, bytes] = {
        f"{top}/pyproject.toml": (
            b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        ),
        f"{top}/backend.py": _BACKEND.encode(),
        f"{top}/{escaped}/__init__.py": _module(name, version).encode(),
    }
    if with_pkg_info:
        files[f"{top}/PKG-INFO"] = text.encode()
    buffer = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, data in files.items():
                archive.writestr(zipfile.ZipInfo(path, _EPOCH), data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
            for path, data in files.items():
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mtime = 1577836800
                archive.addfile(info, io.BytesIO(data))
    return f"{top}.{fmt}", buffer.getvalue()


def write(directory: Path, built: tuple[str, bytes]) -> Path:
    path = directory / built[0]
    path.write_bytes(built[1])
    return path
