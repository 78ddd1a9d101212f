#!/usr/bin/env python3
"""Build the Lambda package from src/ reproducibly, with bytecode for the runtimes.

    python scripts/build_lambda.py                    # write package/serverless-pypi.zip
    python scripts/build_lambda.py --python /p/python3.13 ...   # more interpreters
    python scripts/build_lambda.py --check            # fail if the committed package is stale

Beside the zip it writes ``package/release.json``: the release this code is (its
version and the formats of the data it derives, ``serverless_pypi.release``), as the
bucket tags that main.tf gives the bucket; ``--check`` fails when it is stale too.

Entries are sorted, dated 1980-01-01, mode 0644 and stored uncompressed, so
the bytes depend on nothing but the sources (not on the zlib build either).
The whole package goes in (the local server too, so that the end-to-end
tests can run the deployed code behind it); the Lambda runtime provides boto3.

Bytecode: Lambda's /var/task is read-only, so a function cannot write
``__pycache__`` and compiles every module it imports at each cold start. The
package therefore carries ``__pycache__/<module>.cpython-3XY.pyc`` for every
runtime the module accepts (``lambda_runtime``: 3.11 to 3.14) whose CPython this
machine has: ``--python``, this interpreter, ``python3.XY`` on PATH, pyenv's. They are
hash-based pycs (PEP 552, ``checked-hash``): no timestamp in them, and the
runtime compares the source's hash before it trusts one, so a pyc can never
stand for other source. A runtime without its pyc compiles, as before.

``--check`` does not need every interpreter: it checks the sources byte for
byte, that each pyc's source hash is its source's (the hash is keyed with the
pyc's own magic number, so any version's can be checked here), that this
interpreter's pycs load, and that nothing else is in the zip.
"""

from __future__ import annotations

import _imp
import argparse
import hashlib
import importlib.util
import io
import json
import marshal
import os
import shutil
import subprocess
import sys
import tempfile
import types
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "serverless_pypi"
PACKAGE = ROOT / "package" / "serverless-pypi.zip"
RELEASE = ROOT / "package" / "release.json"
PREFIX = "serverless_pypi/"
_DATE = (1980, 1, 1, 0, 0, 0)
# The module's lambda_runtime values (variables.tf), as Python versions.
RUNTIMES = ("3.11", "3.12", "3.13", "3.14")
_CHECKED_HASH = 0b11  # PEP 552 flags: hash-based, checked against the source
_PROBE = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"
# Run by each interpreter: compile [archive name, source path] pairs into pycs.
_COMPILE = """
import json, py_compile, sys, tempfile, os
jobs = json.load(sys.stdin)
out = {}
with tempfile.TemporaryDirectory() as scratch:
    for index, (name, path) in enumerate(jobs):
        target = os.path.join(scratch, f"{index}.pyc")
        py_compile.compile(path, cfile=target, dfile=name, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        with open(target, "rb") as compiled:
            out[name] = compiled.read().hex()
json.dump(out, sys.stdout)
"""


def sources(source: Path = SOURCE) -> list[Path]:
    return sorted(path for path in source.rglob("*.py") if "__pycache__" not in path.parts)


def source_entries(source: Path = SOURCE) -> dict[str, bytes]:
    """Archive name to bytes of every module."""
    return {
        PREFIX + path.relative_to(source).as_posix(): path.read_bytes() for path in sources(source)
    }


def running_version() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def cache_tag(version: str) -> str:
    return "cpython-" + version.replace(".", "")


def pyc_name(source_name: str, version: str) -> str:
    """``serverless_pypi/x/__pycache__/y.cpython-313.pyc`` for ``serverless_pypi/x/y.py``."""
    path = PurePosixPath(source_name)
    return str(path.parent / "__pycache__" / f"{path.stem}.{cache_tag(version)}.pyc")


def source_of(pyc: str) -> tuple[str, str] | None:
    """The source entry and runtime version of a pyc entry's name (None: not one)."""
    path = PurePosixPath(pyc)
    stem, dot, rest = path.name.partition(".")
    if path.parent.name != "__pycache__" or not dot:
        return None
    for version in RUNTIMES:
        if rest == f"{cache_tag(version)}.pyc":
            return str(path.parent.parent / f"{stem}.py"), version
    return None


def interpreters(extra: Iterable[str] = ()) -> dict[str, str]:
    """Runtime version to a CPython executable of it: ``extra`` first, then this
    interpreter, ``python3.XY`` on PATH, then pyenv's installs; one that does not run
    is skipped."""
    found: dict[str, str] = {}
    candidates = [*extra, sys.executable, *(f"python{version}" for version in RUNTIMES)]
    # pyenv's shims run only the versions selected; its installs are found directly.
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for version in RUNTIMES:
        candidates += sorted(map(str, pyenv.glob(f"{version}.*/bin/python{version}")), reverse=True)
    for candidate in candidates:
        executable = shutil.which(candidate) or candidate
        try:
            probe = subprocess.run(
                [executable, "-c", _PROBE], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.SubprocessError):
            continue  # not there, or not answering
        name, _, version = probe.stdout.strip().partition(" ")
        if probe.returncode == 0 and name == "cpython" and version in RUNTIMES:
            found.setdefault(version, executable)
    return dict(sorted(found.items()))


def compile_with(executable: str, version: str, source: Path = SOURCE) -> dict[str, bytes]:
    """The pyc entries that ``executable`` (CPython ``version``) compiles from ``source``."""
    jobs = [[PREFIX + path.relative_to(source).as_posix(), str(path)] for path in sources(source)]
    result = subprocess.run(
        [executable, "-c", _COMPILE],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    compiled = json.loads(result.stdout)
    return {pyc_name(name, version): bytes.fromhex(compiled[name]) for name, _ in jobs}


def archive(entries: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, _DATE)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            zipped.writestr(info, entries[name])
    return buffer.getvalue()


def build(source: Path = SOURCE, pythons: Mapping[str, str] | None = None) -> bytes:
    """The package: the sources, and the pycs of each interpreter in ``pythons``
    (runtime version to executable; default: every one found)."""
    entries = source_entries(source)
    for version, executable in (interpreters() if pythons is None else pythons).items():
        entries.update(compile_with(executable, version, source))
    return archive(entries)


def problems(package: bytes, source: Path = SOURCE) -> list[str]:
    """What makes ``package`` other than a build of ``source`` (empty: it is one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as zipped:
            entries = {name: zipped.read(name) for name in zipped.namelist()}
    except zipfile.BadZipFile:
        return ["not a zip archive"]
    expected = source_entries(source)
    modules = {name for name in entries if not name.endswith(".pyc")}
    found = [f"{name}: missing" for name in sorted(expected.keys() - modules)]
    found += [f"{name}: not in src/" for name in sorted(modules - expected.keys())]
    found += [
        f"{name}: differs from src/"
        for name in sorted(modules & expected.keys())
        if entries[name] != expected[name]
    ]
    for name in sorted(entries.keys() - modules):
        found += [f"{name}: {why}" for why in _pyc_problems(name, entries[name], expected)]
    if not found and archive(entries) != package:
        found.append("entries ordered, dated or stored otherwise than a build")
    return found


def _pyc_problems(name: str, data: bytes, expected: Mapping[str, bytes]) -> Iterable[str]:
    origin = source_of(name)
    if origin is None or origin[0] not in expected:
        yield "no source in src/ for it"
        return
    if len(data) < 16 or int.from_bytes(data[4:8], "little") != _CHECKED_HASH:
        yield "not a checked-hash pyc"
        return
    key = int.from_bytes(data[:4], "little")  # the magic number, as the runtime keys the hash
    if _imp.source_hash(key, expected[origin[0]]) != data[8:16]:
        yield "compiled from other source"
    elif origin[1] == running_version():
        if data[:4] != importlib.util.MAGIC_NUMBER:
            yield "magic number of another Python"
        elif not isinstance(marshal.loads(data[16:]), types.CodeType):
            yield "no code object in it"


def release_record() -> str:
    """What ``package/release.json`` holds for the sources of this tree."""
    sys.path.insert(0, str(SOURCE.parent))  # this tree's src/, whatever is installed
    try:
        from serverless_pypi import release
    finally:
        sys.path.remove(str(SOURCE.parent))
    return release.record()


def release_problems(path: Path = RELEASE) -> list[str]:
    """Why ``path`` is not the record of this tree's release (empty: it is)."""
    if not path.exists():
        return [f"{path.name}: missing"]
    if path.read_text() != release_record():
        return [f"{path.name}: not the release of src/ (its version or formats changed)"]
    return []


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="check the committed package")
    parser.add_argument("--output", type=Path, default=PACKAGE)
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="EXECUTABLE",
        help="a CPython 3.11 to 3.14 to compile with, beside those found on PATH",
    )
    args = parser.parse_args(argv)
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        wrong = problems(current) if current else [f"{args.output} is missing"]
        wrong += release_problems(args.output.parent / RELEASE.name)
        for line in wrong:
            print(line, file=sys.stderr)
        if wrong:
            print(f"{args.output} is stale: run `make package` and commit it", file=sys.stderr)
            return 1
        print(
            f"{args.output} is up to date (sha256 {hashlib.sha256(current).hexdigest()}; "
            f"bytecode for {', '.join(_versions(current)) or 'no runtime'})"
        )
        return 0
    pythons = interpreters(args.python)
    built = build(pythons=pythons)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=args.output.parent, delete=False) as partial:
        partial.write(built)
    Path(partial.name).chmod(0o644)
    Path(partial.name).replace(args.output)
    (args.output.parent / RELEASE.name).write_text(release_record())
    missing = [version for version in RUNTIMES if version not in pythons]
    print(
        f"wrote {args.output} ({len(built)} bytes, sha256 {hashlib.sha256(built).hexdigest()}); "
        f"bytecode for {', '.join(pythons) or 'no runtime'}"
        + (f"; none for {', '.join(missing)} (no interpreter found)" if missing else "")
    )
    return 0


def _versions(package: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(package)) as zipped:
        origins = (source_of(name) for name in zipped.namelist())
        return sorted({origin[1] for origin in origins if origin})


if __name__ == "__main__":
    sys.exit(main())
