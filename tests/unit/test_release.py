"""The release record: its tags, its one source of the version, and their comparison."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import serverless_pypi
from serverless_pypi import manifest, release, simple
from serverless_pypi.release import Agreement, Release
from tests.package import build_script

ROOT = Path(__file__).resolve().parents[2]


def test_this_release_is_the_package_version_and_the_formats_it_writes() -> None:
    assert release.THIS.version == serverless_pypi.__version__
    assert release.THIS.formats == {
        "manifest": str(manifest.SCHEMA),
        "pages": simple.RENDER_VERSION,
    }
    assert release.THIS.tags() == {
        "serverless-pypi:version": serverless_pypi.__version__,
        "serverless-pypi:formats": f"manifest={manifest.SCHEMA} pages={simple.RENDER_VERSION}",
    }


def test_the_version_has_one_source() -> None:
    """pyproject.toml takes its version from the package; the installed metadata says so."""
    from importlib import metadata

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "serverless_pypi.__version__"
    assert metadata.version("serverless-pypi") == serverless_pypi.__version__


def test_the_committed_record_is_this_release() -> None:
    """package/release.json, which main.tf tags the bucket with (make package-check)."""
    text = (ROOT / "package" / "release.json").read_text()
    assert text == release.record()
    assert json.loads(text) == release.THIS.tags()
    assert build_script().release_problems() == []


def test_a_stale_record_is_a_package_problem(tmp_path: Path) -> None:
    build = build_script()
    stale = tmp_path / "release.json"
    assert build.release_problems(stale) == ["release.json: missing"]
    stale.write_text(release.record(Release("0.0.1", release.THIS.formats)))
    assert build.release_problems(stale) == [
        "release.json: not the release of src/ (its version or formats changed)"
    ]


def test_tags_read_back_into_the_release() -> None:
    assert release.from_tags(release.THIS.tags()) == release.THIS
    assert release.from_tags({"team": "platform", **release.THIS.tags()}) == release.THIS
    assert release.from_tags({}) is None
    assert release.from_tags({"serverless-pypi:formats": "manifest=1 pages=1"}) is None
    assert release.from_tags({"serverless-pypi:version": "0.2.0"}) == Release("0.2.0", {})


@pytest.mark.parametrize(
    "formats", ["manifest", "manifest=", "=1", "manifest=1 manifest=2", "manifest=1,pages=1"]
)
def test_formats_that_do_not_parse_are_none(formats: str) -> None:
    tags = {"serverless-pypi:version": "0.1.0", "serverless-pypi:formats": formats}
    found = release.from_tags(tags)
    assert found == Release("0.1.0", {})
    assert release.compare(found) is Agreement.OTHER_FORMATS


def test_compare() -> None:
    this = Release("0.1.0", {"manifest": "1", "pages": "1"})
    assert release.compare(Release("0.1.0", {"pages": "1", "manifest": "1"}), this) is (
        Agreement.SAME
    )
    assert release.compare(Release("0.2.0", dict(this.formats)), this) is Agreement.OTHER_VERSION
    assert release.compare(Release("0.2.0", {"manifest": "2", "pages": "1"}), this) is (
        Agreement.OTHER_FORMATS
    )
    # A format this release does not know of (or one it lacks) differs too.
    assert release.compare(Release("0.1.0", {**this.formats, "root": "1"}), this) is (
        Agreement.OTHER_FORMATS
    )


def test_tag_values_keep_to_what_s3_allows() -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/@")
    for key, value in release.THIS.tags().items():
        assert set(key) <= allowed and len(key) <= 128
        assert set(value) <= allowed and len(value) <= 256


def test_the_install_line_names_the_repository_and_its_tag() -> None:
    assert release.install_line("0.2.0") == (
        'pip install "serverless-pypi @ '
        'git+https://github.com/serverless-pypi/terraform-aws-serverless-pypi@v0.2.0"'
    )
