"""What the inspection budget costs honest files, and what it saves on hostile ones.

"before" is the way the reindexer read archives until the budget came in:
``zipfile`` for wheels and zip sdists, ``tarfile`` in stream mode for
``.tar.gz`` sdists. "after" is ``serverless_pypi.metadata`` on the bounded
readers of ``serverless_pypi.archives``. Both read the same bytes in memory,
in this process: no S3, so only the reading is measured.
"""

from __future__ import annotations

import functools
import io
import random
import re
import tarfile
import time
import zipfile
from collections.abc import Callable
from typing import Any

from tests.builders import gzip_chunks, huge_header, metadata_text, stream, zeros_first
from timing import median_ms

from serverless_pypi import archives, metadata

_PKG_INFO = re.compile(r"^[^/]+/PKG-INFO\Z")
_METADATA = re.compile(r"^[^/]+\.dist-info/METADATA\Z")
_WORDS = ["def", "class", "return", "import", "self", "value", "data", "index", "file", "for"]


def _module(rng: random.Random, size: int) -> bytes:
    """Python-like text that compresses as source code does (about 4:1)."""
    words: list[str] = []
    length = 0
    while length < size:
        words.append(rng.choice(_WORDS) + rng.choice([" ", "(", ")\n    ", ".", ", "]))
        length += len(words[-1])
    return "".join(words).encode()


def _sources(files: int, seed: int = 11) -> dict[str, bytes]:
    rng = random.Random(seed)
    return {f"pkg/module_{n:04d}.py": _module(rng, 4096) for n in range(files)}


def wheel(files: int) -> bytes:
    """A wheel as build backends write it: modules first, dist-info last."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in _sources(files).items():
            archive.writestr(path, data)
        archive.writestr("pkg-1.0.dist-info/METADATA", metadata_text("pkg", "1.0"))
        archive.writestr("pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return buffer.getvalue()


def sdist(files: int, pkg_info_last: bool) -> bytes:
    """A .tar.gz sdist; hatchling and flit put PKG-INFO last, setuptools near the start."""
    members = {f"pkg-1.0/{path}": data for path, data in _sources(files).items()}
    pkg_info = {"pkg-1.0/PKG-INFO": metadata_text("pkg", "1.0").encode()}
    ordered = {**members, **pkg_info} if pkg_info_last else {**pkg_info, **members}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in ordered.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _before_wheel(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if _METADATA.match(info.filename):
                return archive.read(info)
    raise LookupError("no METADATA")


def _before_sdist(data: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as archive:
        for member in archive:
            if member.isfile() and _PKG_INFO.match(member.name):
                extracted = archive.extractfile(member)
                assert extracted is not None
                return extracted.read()
    raise LookupError("no PKG-INFO")


def _after_wheel(data: bytes) -> bytes:
    return metadata.from_wheel(io.BytesIO(data), "pkg")


def _after_sdist(data: bytes) -> bytes:
    return metadata.from_sdist_tar(io.BytesIO(data))


def _hostile(make: Callable[[], Any]) -> dict[str, Any]:
    """Seconds until the bounded reader gives up on a bomb, and why."""
    started = time.perf_counter()
    try:
        metadata.from_sdist_tar(stream(gzip_chunks(make())))
        outcome = "read"
    except archives.OverBudget as error:
        outcome = str(error)
    return {"seconds": round(time.perf_counter() - started, 2), "outcome": outcome}


def bench_inspection() -> dict[str, Any]:
    """Median milliseconds per file, before and after, and the bombs' outcomes."""
    cases = [
        ("wheel, 500 modules", wheel(500), _before_wheel, _after_wheel),
        ("sdist, 500 modules, PKG-INFO first", sdist(500, False), _before_sdist, _after_sdist),
        ("sdist, 500 modules, PKG-INFO last", sdist(500, True), _before_sdist, _after_sdist),
    ]
    rows = []
    for label, data, before, after in cases:
        assert before(data) == after(data), label
        rows.append(
            {
                "file": label,
                "bytes": len(data),
                "before_ms": round(median_ms(functools.partial(before, data), 15), 3),
                "after_ms": round(median_ms(functools.partial(after, data), 15), 3),
            }
        )
    return {
        "honest": rows,
        "hostile": {
            "300 MB GNU long-name header": _hostile(lambda: huge_header(b"L", 300_000_000)),
            "300 MB pax header": _hostile(lambda: huge_header(b"x", 300_000_000)),
            "2 GiB of zeros before PKG-INFO": _hostile(lambda: zeros_first(2 << 30)),
        },
    }
