"""The Lambda package (scripts/build_lambda.py): reproducible, checked against src/,
and carrying bytecode that the runtime loads instead of compiling (Lambda's
/var/task is read-only, so a function cannot cache what it compiles)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.package import ROOT, build_script

build_lambda = build_script()
OWN = build_lambda.running_version()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small package of our own, so that the tests may change its sources."""
    root = tmp_path_factory.mktemp("src") / "serverless_pypi"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text('"""A package."""\n')
    (root / "handler.py").write_text(
        "import json\n\n\ndef handler(event, context):\n    return json.dumps(event)\n"
    )
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "deep.py").write_text("VALUE = 42\n")
    return root


@pytest.fixture(scope="module")
def built(source: Path) -> bytes:
    return bytes(build_lambda.build(source, {OWN: sys.executable}))


def entries(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(package: bytes, change: dict[str, bytes | None]) -> bytes:
    found = entries(package)
    for name, data in change.items():
        if data is None:
            found.pop(name)
        else:
            found[name] = data
    return bytes(build_lambda.archive(found))


def test_the_package_holds_the_sources_and_a_pyc_each(built: bytes) -> None:
    tag = build_lambda.cache_tag(OWN)
    assert sorted(entries(built)) == sorted(
        [
            "serverless_pypi/__init__.py",
            f"serverless_pypi/__pycache__/__init__.{tag}.pyc",
            "serverless_pypi/handler.py",
            f"serverless_pypi/__pycache__/handler.{tag}.pyc",
            "serverless_pypi/sub/__init__.py",
            f"serverless_pypi/sub/__pycache__/__init__.{tag}.pyc",
            "serverless_pypi/sub/deep.py",
            f"serverless_pypi/sub/__pycache__/deep.{tag}.pyc",
        ]
    )
    with zipfile.ZipFile(io.BytesIO(built)) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr == 0o100644 << 16
            assert info.compress_type == zipfile.ZIP_STORED


def test_a_build_is_reproducible_and_its_own_check_passes(source: Path, built: bytes) -> None:
    assert build_lambda.build(source, {OWN: sys.executable}) == built
    assert build_lambda.problems(built, source) == []
    sources_only = bytes(build_lambda.build(source, {}))
    assert build_lambda.problems(sources_only, source) == []  # a runtime without pycs compiles


def test_the_check_finds_what_is_stale_or_foreign(source: Path, built: bytes) -> None:
    tag = build_lambda.cache_tag(OWN)
    pyc = f"serverless_pypi/__pycache__/handler.{tag}.pyc"
    data = entries(built)[pyc]
    unchecked = data[:4] + (1).to_bytes(4, "little") + data[8:]  # checked-hash flag off
    other_source = entries(built)[f"serverless_pypi/sub/__pycache__/deep.{tag}.pyc"]
    cases: dict[str, dict[str, bytes | None]] = {
        "serverless_pypi/handler.py: differs from src/": {"serverless_pypi/handler.py": b"x = 1\n"},
        "serverless_pypi/handler.py: missing": {"serverless_pypi/handler.py": None, pyc: None},
        "serverless_pypi/extra.py: not in src/": {"serverless_pypi/extra.py": b""},
        f"{pyc}: not a checked-hash pyc": {pyc: unchecked},
        f"{pyc}: compiled from other source": {pyc: other_source},
        "serverless_pypi/__pycache__/gone.cpython-313.pyc: no source in src/ for it": {
            "serverless_pypi/__pycache__/gone.cpython-313.pyc": data
        },
    }
    for expected, change in cases.items():
        assert build_lambda.problems(rezip(built, change), source) == [expected]
    reordered = io.BytesIO()
    with zipfile.ZipFile(reordered, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, payload in entries(built).items():
            archive.writestr(name, payload)  # today's date, compressed
    assert build_lambda.problems(reordered.getvalue(), source) == [
        "entries ordered, dated or stored otherwise than a build"
    ]
    assert build_lambda.problems(b"not a zip", source) == ["not a zip archive"]


def test_the_committed_package_is_a_build_of_src() -> None:
    package = (ROOT / "package" / "serverless-pypi.zip").read_bytes()
    assert build_lambda.problems(package) == [], "package/ is stale: run `make package`"
    names = entries(package)
    versions = {origin[1] for origin in map(build_lambda.source_of, names) if origin}
    assert OWN in versions and "3.13" in versions, versions  # the default runtime's


def test_the_runtimes_are_the_modules() -> None:
    variables = (ROOT / "variables.tf").read_text()
    block = variables[variables.index('variable "lambda_runtime"') :]
    allowed = re.search(r"contains\(\[([^\]]*)\], var\.lambda_runtime\)", block)
    assert allowed is not None
    runtimes = tuple(re.findall(r'"python(3\.\d+)"', allowed.group(1)))
    assert runtimes == build_lambda.RUNTIMES


def test_the_runtime_loads_the_packaged_bytecode_without_compiling(
    built: bytes, tmp_path: Path
) -> None:
    """As on Lambda: the package extracted, no bytecode written (read-only /var/task);
    any compile of a packaged module would go through source_to_code."""
    with zipfile.ZipFile(io.BytesIO(built)) as archive:
        archive.extractall(tmp_path)
    probe = (
        "import importlib._bootstrap_external as external, sys\n"
        "compiled = []\n"
        "original = external.SourceLoader.source_to_code\n"
        "def counting(self, data, path, *args, **kwargs):\n"
        "    compiled.append(path)\n"
        "    return original(self, data, path, *args, **kwargs)\n"
        "external.SourceLoader.source_to_code = counting\n"
        "import serverless_pypi.handler, serverless_pypi.sub.deep\n"
        "assert serverless_pypi.sub.deep.VALUE == 42\n"
        "print([path for path in compiled if 'serverless_pypi' in path])\n"
    )

    def compiled_at_import() -> str:
        run = subprocess.run(
            [sys.executable, "-B", "-c", probe],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return run.stdout.strip()

    assert compiled_at_import() == "[]"
    # Without its pyc, the same module is compiled: the probe can see it.
    (tmp_path / "serverless_pypi" / "sub" / "__pycache__").joinpath(
        f"deep.{build_lambda.cache_tag(OWN)}.pyc"
    ).unlink()
    assert compiled_at_import().endswith("deep.py']")
