"""The upload handler and its form parser, driven with API Gateway events on moto."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serverless_pypi import cli, multipart
from serverless_pypi.config import UploadSettings
from serverless_pypi.local.apigw_events import build_event, multipart_form
from serverless_pypi.storage import Storage
from serverless_pypi.upload import MAX_FIELDS, MAX_FILE, Uploader
from tests.builders import metadata_text, sdist_bytes, wheel_bytes
from tests.conftest import BUCKET
from tests.moto_bucket import created, reindexer

BOUNDARY = "xYzZY"
LAMBDA_REQUEST_LIMIT = 6_291_456  # bytes of a synchronous invocation's event JSON


def form(fields: dict[str, str], filename: str | None, data: bytes) -> bytes:
    files = {"content": (filename, data)} if filename is not None else {}
    return multipart_form(fields, files, BOUNDARY)[0]


def event(body: bytes, rights: str | None = "read,upload") -> dict[str, Any]:
    headers = [
        ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"),
        ("Authorization", "Basic Y2k6dG9rZW4="),
    ]
    built = build_event(
        "POST", "/legacy/", headers, body, "127.0.0.1", route_keys=["POST /legacy/"]
    )
    if rights is not None:
        built["requestContext"]["authorizer"] = {"lambda": {"user": "ci", "rights": rights}}
    return built


def fields_for(
    name: str, version: str, data: bytes, filetype: str = "bdist_wheel"
) -> dict[str, str]:
    return {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "filetype": filetype,
        "sha256_digest": hashlib.sha256(data).hexdigest(),
        "metadata_version": "2.3",
        "summary": "a test",
    }


@pytest.fixture
def uploader(s3: Any, storage: Storage) -> Uploader:
    return Uploader(UploadSettings(BUCKET), storage)


def status(uploader: Uploader, body: bytes, **kwargs: Any) -> tuple[int, str]:
    result = uploader(event(body, **kwargs))
    text = result["body"]
    if result.get("isBase64Encoded"):
        text = base64.b64decode(text).decode()
    return result["statusCode"], text


def test_a_wheel_and_an_sdist_are_written_once(uploader: Uploader, s3: Any) -> None:
    wheel_name, wheel = wheel_bytes("My.Pkg", "1.0")
    sdist_name, sdist = sdist_bytes("My.Pkg", "1.0")
    assert status(uploader, form(fields_for("My.Pkg", "1.0", wheel), wheel_name, wheel))[0] == 200
    sdist_fields = fields_for("my_pkg", "1.0", sdist, "sdist")
    assert status(uploader, form(sdist_fields, sdist_name, sdist))[0] == 200
    stored = s3.get_object(Bucket=BUCKET, Key=f"my-pkg/{wheel_name}", ChecksumMode="ENABLED")
    assert stored["Body"].read() == wheel
    assert base64.b64decode(stored["ChecksumSHA256"]) == hashlib.sha256(wheel).digest()
    again = status(uploader, form(fields_for("My.Pkg", "1.0", wheel), wheel_name, wheel))
    assert again == (409, f"File already exists: {wheel_name}\n")


def test_the_upload_route_records_who_uploaded(uploader: Uploader, s3: Any) -> None:
    for version, user, recorded in [
        ("1.0", "ci", "ci"),  # the authorizer's user
        ("1.1", "eve\x1b]0;x\x07", "eve\\x1b]0;x\\x07"),  # as printable ASCII
        ("1.2", None, "-"),  # an authorizer of the caller's that names nobody
    ]:
        name, data = wheel_bytes("my-pkg", version)
        sent = event(form(fields_for("my-pkg", version, data), name, data))
        context = sent["requestContext"]["authorizer"]["lambda"]
        if user is None:
            del context["user"]
        else:
            context["user"] = user
        assert uploader(sent)["statusCode"] == 200
        head = s3.head_object(Bucket=BUCKET, Key=f"my-pkg/{name}")
        assert head["Metadata"] == {"uploaded-by": recorded}


def test_who_uploaded_reaches_the_manifest_and_status(
    uploader: Uploader, s3: Any, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    """The route's record, carried by the reindexer (from the notification S3
    sends) into the file's entry, is what ``status --json`` shows per file."""
    name, data = wheel_bytes("my-pkg", "1.0")
    sent = event(form(fields_for("my-pkg", "1.0", data), name, data))
    sent["requestContext"]["authorizer"]["lambda"]["user"] = "ci"
    assert uploader(sent)["statusCode"] == 200
    copied, other = wheel_bytes("my-pkg", "1.1")
    s3.put_object(Bucket=BUCKET, Key=f"my-pkg/{copied}", Body=other)  # aws s3 cp
    reindexer(storage)(created(s3, f"my-pkg/{name}", f"my-pkg/{copied}"))
    assert cli.main(["status", "--json", "--bucket", BUCKET]) == 0
    [project] = json.loads(capsys.readouterr().out)["projects"]
    assert project["uploaders"] == {name: "ci"}


def test_attestations_and_md5_only_are_accepted(uploader: Uploader) -> None:
    name, data = wheel_bytes("my-pkg", "1.1")
    fields = fields_for("my-pkg", "1.1", data)
    del fields["sha256_digest"]
    fields["md5_digest"] = hashlib.md5(data).hexdigest()
    fields["attestations"] = json.dumps([{"version": 1, "envelope": {}}])
    assert status(uploader, form(fields, name, data))[0] == 200


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({":action": "submit"}, "file_upload"),
        ({"protocol_version": "2"}, "protocol_version 1"),
        ({"filetype": "sdist"}, "does not match"),
        ({"version": "2.0"}, "is not version 2.0"),
        ({"name": "other"}, "is not a wheel or sdist filename of other"),
        ({"name": "\u212aey"}, "Invalid project name"),
        ({"sha256_digest": "0" * 64}, "sha256_digest does not match"),
        ({"sha256_digest": ""}, "no sha256_digest"),
    ],
)
def test_invalid_uploads_are_400_with_the_reason(
    uploader: Uploader, s3: Any, change: dict[str, str], expected: str
) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    code, text = status(uploader, form({**fields_for("my-pkg", "1.0", data), **change}, name, data))
    assert code == 400 and expected in text, text
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_a_refusal_that_echoes_the_uploaders_text_is_never_sniffed(uploader: Uploader) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    fields = {**fields_for("my-pkg", "1.0", data), "name": "<b>x</b>"}
    result = uploader(event(form(fields, name, data)))
    assert result["statusCode"] == 400 and "<b>x</b>" in result["body"]
    assert result["headers"]["X-Content-Type-Options"] == "nosniff"


def test_an_index_that_refuses_local_versions_answers_400(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0+evil")
    body = form(fields_for("my-pkg", "1.0+evil", data), name, data)
    refusing = Uploader(UploadSettings(BUCKET, refuse_local_versions=True), storage)
    code, text = status(refusing, body)
    assert code == 400, text
    assert "Local versions such as 1.0+evil are refused" in text and "my-pkg==1.0" in text
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)
    public, data = wheel_bytes("my-pkg", "1.0")
    assert status(refusing, form(fields_for("my-pkg", "1.0", data), public, data))[0] == 200
    # By default a local version is an upload like any other (a `+cpu` build).
    assert status(Uploader(UploadSettings(BUCKET), storage), body)[0] == 200


def test_the_archive_must_name_the_same_project(uploader: Uploader) -> None:
    impostor = metadata_text("other", "1.0")
    name, data = wheel_bytes("my-pkg", "1.0", metadata=impostor)
    code, text = status(uploader, form(fields_for("my-pkg", "1.0", data), name, data))
    assert code == 400 and "metadata names other 1.0" in text
    broken = b"PK\x05\x06" + bytes(18)
    code, text = status(uploader, form(fields_for("my-pkg", "1.0", broken), name, broken))
    assert code == 400 and "no readable core metadata" in text


def test_only_the_upload_right_uploads(s3: Any, storage: Storage) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    body = form(fields_for("my-pkg", "1.0", data), name, data)
    required = Uploader(UploadSettings(BUCKET), storage)
    assert status(required, body, rights="read")[0] == 403
    assert status(required, body, rights=None)[0] == 403
    # A caller's own authorizer decides alone (UPLOAD_RIGHT=authorizer).
    theirs = Uploader(UploadSettings(BUCKET, require_upload_right=False), storage)
    assert status(theirs, body, rights=None)[0] == 200


def test_the_largest_file_fits_lambda_and_one_byte_more_is_413(uploader: Uploader) -> None:
    """MAX_FILE bytes of file with MAX_FIELDS of other fields: the event API Gateway
    sends (the body base64-encoded) stays within Lambda's request limit."""
    data = random.Random(5).randbytes(MAX_FILE)
    fields = {**fields_for("my-pkg", "1.0", data), "description": "d" * (MAX_FIELDS - 2048)}
    body = form(fields, "my_pkg-1.0-py3-none-any.whl", data)
    assert len(json.dumps(event(body))) <= LAMBDA_REQUEST_LIMIT
    code, _ = status(uploader, body)
    assert code == 400  # not a wheel: but it got past the size check to the archive
    larger = data + b"x"
    code, text = status(
        uploader, form(fields_for("my-pkg", "1.0", larger), "my_pkg-1.0-py3-none-any.whl", larger)
    )
    assert code == 413 and "serverless-pypi upload" in text


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", "text/plain", "multipart/form-data"),
        (b"", "multipart/form-data", "boundary"),
        (
            b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx',
            "multipart/form-data; boundary=b",
            "closing",
        ),
        (b"nope", "multipart/form-data; boundary=b", "does not start"),
        (b"--b\r\nno headers here\r\n--b--", "multipart/form-data; boundary=b", "header block"),
        (b"--b\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b", "header block"),
        (
            b"".join(
                b'--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n' for _ in range(300)
            )
            + b"--b--",
            "multipart/form-data; boundary=b",
            "more than",
        ),
    ],
)
def test_broken_forms(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(multipart.FormError, match=reason):
        multipart.parse(body, content_type)


def test_forms_keep_repeated_fields_and_binary_files() -> None:
    data = bytes(range(256)) * 4
    body = form({"classifiers": "A", "name": "x"}, "f.whl", data)
    repeated = b'--xYzZY\r\nContent-Disposition: form-data; name="classifiers"\r\n\r\nB\r\n'
    body = repeated + body
    parsed = multipart.parse(body, f'multipart/form-data; boundary="{BOUNDARY}"')
    assert [part.text for part in parsed["classifiers"]] == ["B", "A"]
    assert parsed["content"][0].data == data and parsed["content"][0].filename == "f.whl"


@pytest.mark.parametrize(
    "version",
    ['1.0"><img src=x>', "1.0?x=1", "1.0#frag", "latest", "1" * 5000 + "a", "1." * 70 + "1"],
)
def test_versions_that_are_not_pep_440_are_400(uploader: Uploader, s3: Any, version: str) -> None:
    name, data = wheel_bytes("my-pkg", "1.0")
    fields = {**fields_for("my-pkg", "1.0", data), "version": version}
    code, text = status(uploader, form(fields, name, data))
    assert code == 400 and "Invalid version" in text and "PEP 440" in text, text
    # The same version in the filename, with a matching form: refused as well.
    odd = name.replace("-1.0-", "-1.0?x=1-")
    fields = {**fields_for("my-pkg", "1.0?x=1", data)}
    code, text = status(uploader, form(fields, odd, data))
    assert code == 400, text
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_a_file_in_a_folder_spelled_otherwise_is_409(uploader: Uploader, s3: Any) -> None:
    """`aws s3 cp` put it in My.Pkg/; the conditional PUT to my-pkg/ alone would take
    other bytes under the same filename."""
    name, first = wheel_bytes("my-pkg", "1.0")
    s3.put_object(Bucket=BUCKET, Key=f"My.Pkg/{name}", Body=first)
    _, other = wheel_bytes("my-pkg", "1.0", summary="other bytes")
    assert other != first
    code, text = status(uploader, form(fields_for("my-pkg", "1.0", other), name, other))
    assert code == 409 and text.startswith(f"File already exists: {name}"), text
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="my-pkg/")
    # Another file of the project is taken, into the normalized folder.
    name2, second = wheel_bytes("my-pkg", "1.1")
    assert status(uploader, form(fields_for("my-pkg", "1.1", second), name2, second))[0] == 200
    s3.head_object(Bucket=BUCKET, Key=f"my-pkg/{name2}")


_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=40)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.one_of(_TEXT, st.sampled_from(["my-pkg", "My.Pkg", "x" * 300])),
    version=st.one_of(
        _TEXT, st.sampled_from(["1.0", "1" * 5000 + "a", "0" * 4400, "1.0+" + "a" * 200])
    ),
    filetype=st.sampled_from(["bdist_wheel", "sdist", "", "egg", "\x00"]),
    filename=st.one_of(_TEXT, st.sampled_from(["my_pkg-1.0-py3-none-any.whl", "x.tar.gz"])),
    digest=st.one_of(_TEXT, st.just("0" * 64)),
    data=st.binary(max_size=300),
)
def test_no_form_however_broken_is_a_500(
    uploader: Uploader,
    name: str,
    version: str,
    filetype: str,
    filename: str,
    digest: str,
    data: bytes,
) -> None:
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "filetype": filetype,
        "sha256_digest": digest,
    }
    code, _ = status(uploader, form(fields, filename, data))
    assert code in (400, 409, 413), code


def test_a_short_upload_timeout_shortens_the_inspection() -> None:
    from serverless_pypi import upload

    class Context:
        def __init__(self, seconds: float) -> None:
            self.seconds = seconds

        def get_remaining_time_in_millis(self) -> int:
            return int(self.seconds * 1000)

    assert upload._limits(None).seconds == 10.0
    assert upload._limits(Context(29)).seconds == 10.0
    assert upload._limits(Context(3)).seconds == pytest.approx(1.0)
    assert upload._limits(Context(1)).seconds == upload.MIN_INSPECTION
