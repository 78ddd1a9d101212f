from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from serverless_pypi import metadata as core
from tests.builders import metadata_text, sdist_bytes, wheel_bytes, write


def _zip(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_wheel_metadata_is_the_dist_info_file() -> None:
    _, data = wheel_bytes("My.Pkg", "1.0", requires_python=">=3.9", requires=["dep>=1"])
    found = core.from_wheel(_zip(data), "my-pkg")
    parsed = core.parse(found)
    assert (parsed.name, parsed.version, parsed.requires_python) == ("My.Pkg", "1.0", ">=3.9")
    assert b"Requires-Dist: dep>=1" in found


def test_wheel_with_a_vendored_dist_info_picks_its_own() -> None:
    vendored = {"vendored-2.0.dist-info/METADATA": metadata_text("vendored", "2.0").encode()}
    _, data = wheel_bytes("my-pkg", "1.0", extra_files=vendored)
    assert core.parse(core.from_wheel(_zip(data), "my-pkg")).name == "my-pkg"


def test_wheel_without_metadata_is_an_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("my_pkg/__init__.py", "")
    with pytest.raises(core.MetadataError):
        core.from_wheel(_zip(buffer.getvalue()), "my-pkg")


def test_huge_metadata_is_refused() -> None:
    huge = metadata_text("my-pkg", "1.0") + "x" * (core.MAX_METADATA_BYTES + 1)
    _, data = wheel_bytes("my-pkg", "1.0", metadata=huge)
    with pytest.raises(core.MetadataError, match="bytes"):
        core.from_wheel(_zip(data), "my-pkg")


def test_sdist_pkg_info_from_tar_and_zip() -> None:
    _, tar = sdist_bytes("my-pkg", "1.0", requires_python=">=3.8")
    _, zipped = sdist_bytes("my-pkg", "1.0", fmt="zip", requires_python=">=3.8")
    from_tar = core.from_sdist_tar(io.BytesIO(tar))
    assert from_tar == core.from_sdist_zip(_zip(zipped))
    assert core.parse(from_tar).requires_python == ">=3.8"


def test_sdist_without_pkg_info_is_an_error() -> None:
    _, tar = sdist_bytes("my-pkg", "1.0", with_pkg_info=False)
    with pytest.raises(core.MetadataError):
        core.from_sdist_tar(io.BytesIO(tar))


@pytest.mark.parametrize(
    ("version", "dynamic", "reliable"),
    [
        ("2.1", (), False),
        ("2.2", (), True),
        ("2.4", ("Requires-Dist",), False),
        ("2.4", ("Requires-Python",), False),
        ("2.3", ("Summary",), True),
        ("garbage", (), False),
    ],
)
def test_sdist_metadata_reliability(version: str, dynamic: tuple[str, ...], reliable: bool) -> None:
    text = metadata_text("my-pkg", "1.0", metadata_version=version, dynamic=dynamic)
    assert core.parse(text.encode()).reliable is reliable


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"Metadata-Version: 2.1\n",
        b"Name: x\n\xff\xfe\n",
        b"\x00\x01\x02 binary junk",
    ],
)
def test_unusable_metadata_is_an_error(data: bytes) -> None:
    with pytest.raises(core.MetadataError):
        core.parse(data)


def test_folded_and_odd_headers_are_read() -> None:
    text = "Metadata-Version: 2.1\nName: my-pkg\nVersion: 1.0\nRequires-Python: >=3.8,\n  <4\n\n"
    assert core.parse(text.encode()).requires_python == ">=3.8, <4"


def test_zip_sdist_from_a_file_on_disk(tmp_path: Path) -> None:
    filename, data = sdist_bytes("my-pkg", "1.0", fmt="zip")
    (tmp_path / filename).write_bytes(data)
    with (tmp_path / filename).open("rb") as file:
        assert core.parse(core.from_sdist_zip(file)).name == "my-pkg"


def _with(**fields: str) -> bytes:
    lines = ["Metadata-Version: 2.1", "Name: my-pkg", "Version: 1.0"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return ("\n".join(lines) + "\n\n").encode()


@pytest.mark.parametrize(
    "value",
    [">=3.8", ">=3.8, <4, !=3.9.*", "~=3.10", "==3.11.0rc1", ">= 3.7 , < 4.0", "===3.9+local_1"],
)
def test_requires_python_that_looks_like_a_specifier_is_kept(value: str) -> None:
    parsed = core.parse(_with(Requires_Python=value))
    assert parsed.requires_python == " ".join(value.split())
    assert parsed.ignored == ()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (">=3.8" + ",>=3.8" * 300, "Requires-Python is over 1024 characters"),
        (">=3.8; rm -rf /", "Requires-Python has characters no version specifier uses"),
        ('>=3.8"><script>', "Requires-Python has characters no version specifier uses"),
        (">=3.8\u00a0\u2028<4", "Requires-Python has characters no version specifier uses"),
        (">=\u0663.8", "Requires-Python has characters no version specifier uses"),
    ],
)
def test_unusable_requires_python_is_ignored_with_a_reason(value: str, reason: str) -> None:
    parsed = core.parse(_with(Requires_Python=value))
    assert parsed.requires_python is None
    assert parsed.ignored == (reason,)
    assert (parsed.name, parsed.version) == ("my-pkg", "1.0")


def test_requires_python_at_the_length_limit_is_kept() -> None:
    value = (">=3.8," * 200)[: core.MAX_FIELD_LENGTH]
    assert core.parse(_with(Requires_Python=value)).requires_python == value


@pytest.mark.parametrize("field", ["Name", "Version"])
def test_oversized_name_or_version_is_an_error(field: str) -> None:
    text = _with().decode().replace(f"{field}: ", f"{field}: " + "a" * core.MAX_FIELD_LENGTH)
    with pytest.raises(core.MetadataError, match="over 1024 characters"):
        core.parse(text.encode())


@pytest.mark.parametrize(
    ("built", "project"),
    [
        (wheel_bytes("My.Pkg", "1.0"), "my-pkg"),
        (sdist_bytes("My.Pkg", "1.0"), ""),
        (sdist_bytes("My.Pkg", "1.0", fmt="zip"), ""),
    ],
    ids=["wheel", "tar.gz", "zip"],
)
def test_the_extractor_is_picked_by_suffix(built: tuple[str, bytes], project: str) -> None:
    filename, data = built
    found = core.from_distribution(io.BytesIO(data), filename, project)
    assert core.parse(found).name == "My.Pkg"


def test_the_suffix_not_the_content_picks_the_extractor() -> None:
    _, data = wheel_bytes("my-pkg", "1.0")
    with pytest.raises(core.MetadataError):
        core.from_distribution(io.BytesIO(data), "my_pkg-1.0.tar.gz", "my-pkg")
    with pytest.raises(core.MetadataError, match="not a wheel or an sdist"):
        core.from_distribution(io.BytesIO(data), "my_pkg-1.0.egg", "my-pkg")


def test_project_of_reads_sdist_metadata(tmp_path: Path) -> None:
    assert core.project_of(write(tmp_path, sdist_bytes("Fancy.Name", "2.0"))) == "fancy-name"
    assert core.project_of(write(tmp_path, wheel_bytes("Fancy.Name", "2.0"))) == "fancy-name"
    broken = tmp_path / "legacy-name-1.0.tar.gz"
    broken.write_bytes(b"not gzip")
    assert core.project_of(broken) == "legacy-name"


@pytest.mark.parametrize(
    ("built", "project"),
    [
        # The metadata wins over a filename that names another project.
        (("renamed-9.0.tar.gz", sdist_bytes("Real.Name", "1.0")[1]), "real-name"),
        (("renamed-9.0.zip", sdist_bytes("Real.Name", "1.0", fmt="zip")[1]), "real-name"),
        # A wheel is never opened: its filename says.
        (("Odd.Name-1.0-py3-none-any.whl", b"not a zip"), "odd-name"),
        # Unreadable sdists fall back to the filename, when it has a version.
        (("legacy-name-1.0.zip", b"not a zip"), "legacy-name"),
        (("no-version.tar.gz", b"not gzip"), None),
        (("readme.txt", b"text"), None),
    ],
)
def test_project_of_falls_back_to_the_filename(
    tmp_path: Path, built: tuple[str, bytes], project: str | None
) -> None:
    assert core.project_of(write(tmp_path, built)) == project
