"""The handler of the pages for people, driven with API Gateway payload 2.0 events
on moto S3: its routes, its one GET per page, and its own HTTP Basic challenge."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from serverless_pypi import authorizer, ui
from serverless_pypi.catalog import CATALOG
from serverless_pypi.cli.userstore import UserStore
from serverless_pypi.config import ApiSettings, AuthSettings, UiSettings
from serverless_pypi.layout import UI_ROUTE_KEYS, manifest_key
from serverless_pypi.objects import AwsError, Blob, NotModified
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from tests.builders import wheel_bytes
from tests.conftest import BUCKET, Reply, http_event
from tests.moto_bucket import notify, put

PATH = "/serverless-pypi/users/"
WHEEL = "acme_auth-1.0-py3-none-any.whl"


class CountingReader(S3Reader):
    """The S3 reader, counting its GETs."""

    gets: list[str]

    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None:
        self.gets.append(key)
        return super().get(key, if_none_match)


@pytest.fixture
def reader(moto_url: str) -> CountingReader:
    found = CountingReader(BUCKET, "us-east-1", moto_url)
    found.gets = []
    return found


@pytest.fixture
def indexed(s3: Any) -> None:
    name, data = wheel_bytes("acme-auth", "1.0", summary="Auth helpers")
    put(s3, f"acme-auth/{name}", data)
    notify(("ObjectCreated:Put", f"acme-auth/{name}"), catalog=True)


def call(app: ui.UiApp, path: str, method: str = "GET", **kwargs: Any) -> Reply:
    return Reply(app(http_event(path, method, route_keys=UI_ROUTE_KEYS, **kwargs), None))


def open_app(reader: S3Reader) -> ui.UiApp:
    return ui.UiApp(UiSettings(ApiSettings(BUCKET)), reader)


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@pytest.mark.usefixtures("indexed")
def test_each_page_is_one_get(reader: CountingReader) -> None:
    app = open_app(reader)
    listed = call(app, "/ui/")
    assert listed.status == 200 and 'href="acme-auth/"' in listed.text
    assert "Auth helpers" in listed.text
    assert reader.gets == [CATALOG]
    reader.gets.clear()
    page = call(app, "/ui/acme-auth/")
    assert page.status == 200 and reader.gets == [manifest_key("acme-auth")]
    assert "Auth helpers" in page.text and f'href="files/{WHEEL}"' in page.text
    for reply in (listed, page):
        assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.usefixtures("indexed")
def test_names_in_any_spelling_redirect_to_the_normalized_page(reader: S3Reader) -> None:
    app = open_app(reader)
    assert call(app, "/ui/Acme_Auth/").headers["Location"] == "../acme-auth/"
    assert call(app, "/ui/acme-auth").headers["Location"] == "acme-auth/"
    assert call(app, "/ui").headers["Location"] == "ui/"
    assert call(app, "/ui/nothing-here/").status == 404
    assert call(app, "/ui/acme-auth/other").status == 404
    assert call(app, "/ui/", "POST").status == 405


@pytest.mark.usefixtures("indexed")
def test_a_file_link_redirects_to_a_presigned_url_of_the_offered_file(
    reader: S3Reader, s3: Any
) -> None:
    app = open_app(reader)
    found = call(app, f"/ui/acme-auth/files/{WHEEL}")
    assert found.status == 302
    location = urlsplit(found.headers["Location"])
    assert location.path.endswith(f"/acme-auth/{WHEEL}")
    assert "X-Amz-Signature" in parse_qs(location.query)
    assert call(app, "/ui/acme-auth/files/acme_auth-9.9-py3-none-any.whl").status == 404
    assert call(app, "/ui/acme-auth/files/..%2F..%2Fsecret").status == 404


@pytest.mark.usefixtures("indexed")
def test_the_install_lines_name_the_index_as_the_client_reached_it(reader: S3Reader) -> None:
    app = open_app(reader)
    page = call(app, "/ui/acme-auth/", stage="prod")
    host = "abc123.execute-api.us-east-1.amazonaws.com"
    assert f"pip install --index-url https://{host}/prod/simple/ acme-auth" in page.text
    mapped = call(app, "/ui/acme-auth/", base="/pypi")
    assert f"uv add --index https://{host}/pypi/simple/ acme-auth" in mapped.text


def test_the_assets_are_served_without_a_login(reader: S3Reader) -> None:
    app = ui.UiApp(UiSettings(ApiSettings(BUCKET), AuthSettings(PATH)), reader, ui.Gate(deny))
    style = call(app, "/ui/style.css")
    assert style.status == 200 and style.headers["Content-Type"].startswith("text/css")
    script = call(app, "/ui/search.js")
    assert script.status == 200 and "addEventListener" in script.text


def deny(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"isAuthorized": False}


@pytest.fixture
def login_app(s3: Any, reader: S3Reader, moto_url: str) -> tuple[ui.UiApp, str]:
    """The pages behind a login, with the authorizer's code on moto's SSM; a reader's token."""
    store = UserStore(boto3.client("ssm", region_name="us-east-1"), PATH)
    token = store.add("reader", frozenset({"read"}))
    parameters = SsmReader(
        "us-east-1", moto_url, credentials=lambda: Credentials("testing", "testing")
    )
    decide = authorizer.Authorizer(AuthSettings(PATH, 60), parameters)
    settings = UiSettings(ApiSettings(BUCKET), AuthSettings(PATH), realm="Team index")
    return ui.UiApp(settings, reader, ui.Gate(decide)), token


@pytest.mark.usefixtures("indexed")
def test_a_missing_or_wrong_login_is_challenged_so_that_browsers_prompt(
    login_app: tuple[ui.UiApp, str],
) -> None:
    app, token = login_app
    for headers in (
        {},
        {"Authorization": basic("reader", "wrong")},
        {"Authorization": basic("nobody", token)},
        {"Authorization": "Bearer x"},
    ):
        for path in ("/ui/", "/ui/acme-auth/", f"/ui/acme-auth/files/{WHEEL}"):
            answer = call(app, path, headers=headers)
            assert answer.status == 401, (path, headers)
            assert answer.headers["WWW-Authenticate"] == 'Basic realm="Team index", charset="UTF-8"'
            assert answer.headers["Cache-Control"] == "no-store"
            assert "acme" not in answer.text
    allowed = call(app, "/ui/acme-auth/", headers={"Authorization": basic("reader", token)})
    assert allowed.status == 200 and "Auth helpers" in allowed.text
    assert allowed.headers["Cache-Control"] == "private, no-cache"


class Unreachable:
    def list(self, path: str, limit: int) -> tuple[dict[str, str], bool]:
        raise AwsError("SSM did not answer")


def test_without_users_to_decide_with_the_pages_answer_503(reader: S3Reader) -> None:
    decide = authorizer.Authorizer(AuthSettings(PATH, 60), Unreachable())
    app = ui.UiApp(UiSettings(ApiSettings(BUCKET), AuthSettings(PATH)), reader, ui.Gate(decide))
    assert call(app, "/ui/", headers={"Authorization": basic("reader", "x")}).status == 503


def test_the_settings_come_from_the_environment() -> None:
    env = {"S3_BUCKET": "b", "UI_LOGIN": "basic", "USERS_PATH": "/team/users/"}
    settings = UiSettings.from_env(env)
    assert settings.auth is not None and settings.auth.users_path == "/team/users/"
    assert UiSettings.from_env({"S3_BUCKET": "b", "UI_LOGIN": "none"}).auth is None
    assert UiSettings.from_env({"S3_BUCKET": "b"}).auth is not None  # a login by default
    with pytest.raises(ValueError, match="UI_REALM"):
        UiSettings.from_env({"S3_BUCKET": "b", "UI_REALM": 'x" onload="y'})
