"""`serverless-pypi --version`, and each bucket command compared with the module
deployed to its bucket (cli/version.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import serverless_pypi
from serverless_pypi import cli, layout, release
from serverless_pypi.cli import version
from serverless_pypi.release import Release
from tests.conftest import BUCKET

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "serverless_pypi"
INSTALL_LINE = release.install_line  # the matching command line, for any version


# -- --version ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direct_url", "said"),
    [
        (None, "from a package index"),
        (
            {
                "url": "https://github.com/serverless-pypi/terraform-aws-serverless-pypi",
                "vcs_info": {
                    "vcs": "git",
                    "requested_revision": "v0.1.0",
                    "commit_id": "0123456789abcdef0123456789abcdef01234567",
                },
            },
            "git+https://github.com/serverless-pypi/terraform-aws-serverless-pypi@v0.1.0, "
            "commit 0123456789ab",
        ),
        (
            {"url": "file:///srv/infra/.terraform/modules/pypi", "dir_info": {}},
            "directory: /srv/infra/.terraform/modules/pypi",
        ),
        (
            {"url": "file:///home/me/serverless%20pypi", "dir_info": {"editable": True}},
            "editable: /home/me/serverless pypi",
        ),
        (
            {"url": "file:///tmp/serverless_pypi-0.1.0-py3-none-any.whl", "archive_info": {}},
            "archive: /tmp/serverless_pypi-0.1.0-py3-none-any.whl",
        ),
        ("not json", "from an unknown origin"),
        ({"dir_info": {}}, "from an unknown origin"),
    ],
)
def test_the_origin_of_an_install(direct_url: Any, said: str) -> None:
    text = direct_url if not isinstance(direct_url, dict) else json.dumps(direct_url)
    assert version.origin(text) == said


def test_version_prints_the_version_and_where_it_was_installed_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """This checkout is installed editable (make venv)."""
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--version"])
    assert stopped.value.code == 0
    printed = capsys.readouterr().out
    assert printed == (
        f"serverless-pypi {serverless_pypi.__version__} from {PACKAGE} (editable: {ROOT})\n"
    )


def test_version_without_an_installed_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    def missing(name: str) -> Any:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    assert version.version_line() == (
        f"serverless-pypi {serverless_pypi.__version__} from {PACKAGE} (not installed)"
    )


# -- the deployed release ----------------------------------------------------------


def _commands_with(option: str) -> dict[str, bool]:
    found = {}
    for action in cli.parser()._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():  # type: ignore[union-attr]
            found[name] = option in sub._option_string_actions
    return found


def test_every_bucket_command_can_ignore_the_version_and_no_other() -> None:
    assert _commands_with("--ignore-version") == _commands_with("--bucket")
    assert {name for name, has in _commands_with("--bucket").items() if has} == {
        "serve", "reindex", "upload", "claim", "release", "status",
        "yank", "unyank", "remove", "prune", "restore",
        "archive", "deprecate", "quarantine", "activate",
    }  # fmt: skip


def _tag(s3: Any, **tags: str) -> None:
    if tags:
        tag_set = [{"Key": key, "Value": value} for key, value in tags.items()]
        s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": tag_set})
    else:
        s3.delete_bucket_tagging(Bucket=BUCKET)


def _manifests(s3: Any) -> list[str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=layout.MANIFEST_PREFIX)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_the_same_release_says_nothing(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The fixture's bucket is tagged as the module tags it."""
    assert cli.main(["claim", "my-pkg", "--bucket", BUCKET]) == 0
    assert capsys.readouterr().err == ""
    assert _manifests(s3) == [layout.manifest_key("my-pkg")]


def test_another_version_with_the_same_formats_warns_and_goes_on(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _tag(s3, **Release("9.8.7", release.THIS.formats).tags(), team="platform")
    assert cli.main(["claim", "my-pkg", "--bucket", BUCKET]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"serverless-pypi: warning: bucket {BUCKET} was deployed by module 9.8.7, this "
        f"command line is {release.THIS.version} (the same data formats, "
        f"{release.THIS.formats_text})\n"
        f"  the matching command line: {INSTALL_LINE('9.8.7')}\n"
    )
    assert _manifests(s3) == [layout.manifest_key("my-pkg")]


def test_other_formats_refuse_before_anything_is_written(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _tag(s3, **Release("2.0.0", {"manifest": "2", "pages": "3"}).tags())
    assert cli.main(["claim", "my-pkg", "--bucket", BUCKET]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"serverless-pypi: bucket {BUCKET} was deployed by module 2.0.0 (formats "
        f"manifest=2 pages=3), this command line is {release.THIS.version} (formats "
        f"{release.THIS.formats_text}): it would misread or rewrite the index's data\n"
        f"  the matching command line: {INSTALL_LINE('2.0.0')}\n"
        "  (--ignore-version goes on anyway)\n"
    )
    assert _manifests(s3) == []
    # Each bucket command refuses alike, before its own work.
    for argv in (["status"], ["reindex"], ["prune", "my-pkg", "--keep", "1"]):
        assert cli.main([*argv, "--bucket", BUCKET]) == 1
        assert "it would misread or rewrite" in capsys.readouterr().err


def test_ignore_version_goes_on_with_a_warning(s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _tag(s3, **Release("2.0.0", {"manifest": "2"}).tags())
    assert cli.main(["claim", "my-pkg", "--bucket", BUCKET, "--ignore-version"]) == 0
    err = capsys.readouterr().err
    assert err.startswith(f"serverless-pypi: warning: bucket {BUCKET} was deployed by module 2.0.0")
    assert INSTALL_LINE("2.0.0") in err
    assert err.endswith("  (--ignore-version: going on)\n")
    assert _manifests(s3) == [layout.manifest_key("my-pkg")]


def test_a_bucket_without_the_record_works_and_says_so_once(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A module from before the release tags, or a bucket another tool made."""
    _tag(s3)
    assert cli.main(["claim", "my-pkg", "--bucket", BUCKET]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"serverless-pypi: note: bucket {BUCKET} records no module version (no "
        "serverless-pypi:version tag: a module from before these tags, or a bucket the "
        f"module did not make); this command line, {release.THIS.version}, is not compared "
        "with it\n"
    )
    _tag(s3, team="platform")  # tags, but not the module's
    assert cli.main(["reindex", "--bucket", BUCKET]) == 0
    assert capsys.readouterr().err.count("records no module version") == 1


class _Refusing:
    """An S3 client whose GetBucketTagging answers with an error code."""

    def __init__(self, code: str) -> None:
        self.code = code

    def get_bucket_tagging(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": self.code, "Message": ""}}, "GetBucketTagging")


def test_tags_that_cannot_be_read_are_a_note() -> None:
    said = io.StringIO()
    version.check_bucket(BUCKET, client=_Refusing("AccessDenied"), stream=said)
    assert said.getvalue() == (
        f"serverless-pypi: note: the tags of bucket {BUCKET} cannot be read (AccessDenied; "
        f"s3:GetBucketTagging): this command line, {release.THIS.version}, is not compared "
        "with the module deployed to it\n"
    )


def test_a_missing_bucket_is_left_to_the_command(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    said = io.StringIO()
    version.check_bucket(BUCKET, client=_Refusing("NoSuchBucket"), stream=said)
    assert said.getvalue() == ""
    assert cli.main(["status", "--bucket", "no-such-bucket"]) == 1
    assert capsys.readouterr().err == "serverless-pypi: no such bucket: no-such-bucket\n"


def test_no_credentials_are_left_to_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cli.main(["status", "--bucket", BUCKET]) == 1
    assert capsys.readouterr().err == (
        "serverless-pypi: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)\n"
    )


def test_the_embedded_s3_is_tagged_as_the_module_tags_its_bucket() -> None:
    from serverless_pypi.local import EmbeddedS3

    embedded = EmbeddedS3()
    embedded.start("serverless-pypi-local")
    try:
        client = embedded.client("s3")
        assert version.deployed_release(client, "serverless-pypi-local") == release.THIS
        said = io.StringIO()
        version.check_bucket("serverless-pypi-local", client=client, stream=said)
        assert said.getvalue() == ""
    finally:
        embedded.stop()
