"""HTTP Basic access: users in SSM (moto), the authorizer, API Gateway's part."""

from __future__ import annotations

import base64
import io
import json
import logging
from typing import Any

import boto3
import pytest

from serverless_pypi import auth, authorizer, cli, userfile
from serverless_pypi.cli.userstore import UserError, UserStore
from serverless_pypi.config import AuthSettings
from serverless_pypi.layout import ROUTE_KEYS, UPLOAD_ROUTE_KEYS, USERS_FILE
from serverless_pypi.local.apigw_events import authorizer_event, build_event
from serverless_pypi.local.gateway import Authorized
from serverless_pypi.objects import AwsError
from serverless_pypi.s3http import S3Reader
from serverless_pypi.sigv4 import Credentials
from serverless_pypi.ssm import SsmReader
from serverless_pypi.storage import Storage
from tests.conftest import BUCKET

PATH = "/serverless-pypi/users/"


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ssm(s3: Any) -> Any:
    """moto's SSM on the same server as the tests' S3 (reset with it)."""
    return boto3.client("ssm", region_name="us-east-1")


@pytest.fixture
def store(ssm: Any) -> UserStore:
    return UserStore(ssm, PATH)


@pytest.fixture
def parameters(moto_url: str) -> SsmReader:
    return SsmReader("us-east-1", moto_url, credentials=lambda: Credentials("testing", "testing"))


def event(header: str | None, route: str = "GET /simple/{proxy+}") -> dict[str, Any]:
    """The REQUEST event API Gateway sends the authorizer for a request on ``route``."""
    method, _, path = route.partition(" ")
    headers = [("Host", "x")] + ([] if header is None else [("Authorization", header)])
    target = path.replace("{proxy+}", "my-pkg/")
    request = build_event(method, target, headers, route_keys=[*ROUTE_KEYS, *UPLOAD_ROUTE_KEYS])
    assert request["routeKey"] == route
    return authorizer_event(request, [header or "", route])


# -- pure ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (basic("alice", "s3cret"), auth.BasicCredentials("alice", "s3cret")),
        ("basic " + base64.b64encode(b"bob:a:b").decode(), auth.BasicCredentials("bob", "a:b")),
        (None, None),
        ("", None),
        ("Bearer abc", None),
        ("Basic !!!", None),
        ("Basic " + base64.b64encode(b"nocolon").decode(), None),
        ("Basic " + base64.b64encode(b":empty-user").decode(), None),
        ("Basic " + base64.b64encode(b"alice:").decode(), None),
        ("Basic " + base64.b64encode(b"al/ice:x").decode(), None),
        ("Basic " + base64.b64encode(b"\xff:x").decode(), None),
        ("Basic " + "A" * 10_000, None),
    ],
)
def test_basic_headers(header: str | None, expected: auth.BasicCredentials | None) -> None:
    assert auth.parse_basic(header) == expected


def test_tokens_carry_at_least_128_random_bits() -> None:
    tokens = {auth.new_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        body = token.removeprefix(auth.TOKEN_PREFIX)
        assert len(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))) * 8 >= 128


@pytest.mark.parametrize("slow", [False, True])
def test_hashes_verify_only_their_secret(slow: bool) -> None:
    stored = auth.hash_secret("correct horse", slow=slow)
    assert "correct horse" not in stored
    assert stored.startswith("scrypt$" if slow else "sha256$")
    assert auth.verify("correct horse", stored)
    assert not auth.verify("correct horsf", stored)
    assert stored != auth.hash_secret("correct horse", slow=slow)  # salted


@pytest.mark.parametrize(
    "stored", ["", "md5$x$y", "sha256$zz$00", "scrypt$1048576000$8$1$00$00", "scrypt$a$b"]
)
def test_broken_or_costly_hashes_never_verify(stored: str) -> None:
    assert not auth.verify("x", stored)


def test_rights_per_route() -> None:
    reader = auth.User("r", frozenset({"read"}), auth.hash_secret("t", slow=False))
    uploader = auth.User("u", frozenset({"read", "upload"}), "", ("*",))
    for user, route, allowed in [
        (reader, "GET /simple/{proxy+}", True),
        (reader, "POST /legacy/", False),
        (uploader, "POST /legacy/", True),
        (uploader, "HEAD /simple", True),
    ]:
        assert auth.grants(user, route) is allowed


@pytest.mark.parametrize(
    ("rights", "projects", "version", "parsed"),
    [
        ({"read"}, ("*",), 1, ()),
        ({"read"}, ("team-*",), 1, ()),  # patterns without the upload right are not kept
        ({"read", "upload"}, ("*",), 1, ("*",)),
        ({"read", "upload"}, ("Team_*", "team-*", "lib.?"), 2, ("team-*", "lib-?")),
        ({"read", "upload"}, ("team-*", "*"), 1, ("*",)),
    ],
)
def test_records_narrow_the_upload_right_in_version_2_only(
    rights: set[auth.Right], projects: tuple[str, ...], version: int, parsed: tuple[str, ...]
) -> None:
    stored = auth.record(frozenset(rights), "sha256$00$00", projects)
    assert json.loads(stored)["v"] == version
    assert auth.parse_record("u", stored).projects == parsed


@pytest.mark.parametrize("pattern", ["**", "?*", "*?", "*?*", "***"])
def test_patterns_that_match_every_project_are_stored_as_every_project(pattern: str) -> None:
    for name in ("a", "x", "team-a", "a" * 100):  # a name has one character or more
        assert auth.may_upload([pattern], name)
    assert auth.project_patterns([pattern]) == auth.project_patterns(["lib-*", pattern]) == ("*",)
    stored = auth.record(frozenset({"read", "upload"}), "sha256$00$00", (pattern,))
    assert json.loads(stored)["v"] == 1  # every project: the record of earlier releases
    narrowed = json.dumps({"v": 2, "rights": ["read", "upload"], "projects": [pattern], "hash": ""})
    assert auth.parse_record("u", narrowed).projects == ("*",)


@pytest.mark.parametrize("pattern", ["?", "??*", "*-*", "a*"])
def test_patterns_that_miss_some_project_are_kept(pattern: str) -> None:
    assert not all(auth.may_upload([pattern], name) for name in ("a", "ab", "a-b", "b"))
    assert auth.project_patterns([pattern]) == (pattern,)


def test_version_1_records_written_before_upload_to_every_project() -> None:
    before = '{"v":1,"rights":["read","upload"],"hash":"sha256$00$00"}'
    user = auth.parse_record("ci", before)
    assert user.projects == ("*",) and auth.may_upload(user.projects, "anything")


@pytest.mark.parametrize(
    ("patterns", "project", "allowed"),
    [
        (("team-*",), "team-a", True),
        (("team-*",), "team", False),
        (("team-*",), "other", False),
        (("team-*", "lib-?"), "lib-x", True),
        (("lib-?",), "lib-xy", False),
        (("*",), "requests", True),
        ((), "team-a", False),
    ],
)
def test_upload_patterns_are_globs_on_normalized_names(
    patterns: tuple[str, ...], project: str, allowed: bool
) -> None:
    assert auth.may_upload(patterns, project) is allowed


@pytest.mark.parametrize(
    "record",
    [
        '{"v":2,"rights":["read","upload"],"hash":"x"}',  # no patterns
        '{"v":2,"rights":["read","upload"],"projects":[],"hash":"x"}',
        '{"v":2,"rights":["read","upload"],"projects":["a,b"],"hash":"x"}',
        '{"v":2,"rights":["read","upload"],"projects":["[ab]*"],"hash":"x"}',
        '{"v":2,"rights":["read","upload"],"projects":[7],"hash":"x"}',
        '{"v":3,"rights":["read"],"hash":"x"}',
    ],
)
def test_records_with_unusable_patterns_are_refused(record: str) -> None:
    with pytest.raises(auth.AuthError):
        auth.parse_record("u", record)


# -- users in SSM -------------------------------------------------------------


def test_users_are_hashed_secure_strings(store: UserStore, ssm: Any) -> None:
    token = store.add("alice", frozenset({"read"}))
    stored = ssm.get_parameter(Name=PATH + "alice", WithDecryption=True)["Parameter"]
    assert ssm.describe_parameters()["Parameters"][0]["Type"] == "SecureString"
    assert token not in stored["Value"]
    record = json.loads(stored["Value"])
    assert record["rights"] == ["read"] and record["hash"].startswith("sha256$")
    with pytest.raises(UserError, match="exists"):
        store.add("alice", frozenset({"read"}))
    with pytest.raises(UserError, match="not a user name"):
        store.add("../admin", frozenset({"read"}))


def test_the_cli_manages_users(ssm: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["user", "add", "ci", "--upload", "--bucket", BUCKET]) == 0
    out = capsys.readouterr().out.splitlines()
    token = out[-1]
    assert token.startswith(auth.TOKEN_PREFIX) and " " not in token
    assert cli.main(["user", "add", "dev", "--bucket", BUCKET]) == 0
    capsys.readouterr()
    assert cli.main(["user", "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.splitlines() == ["ci\tread,upload\ttoken\t*", "dev\tread\ttoken\t-"]
    assert token not in listing and "sha256" not in listing
    assert cli.main(["user", "rotate", "ci", "--bucket", BUCKET]) == 0
    rotated = capsys.readouterr().out.splitlines()[-1]
    assert rotated != token and rotated.startswith(auth.TOKEN_PREFIX)
    assert cli.main(["user", "remove", "dev", "--bucket", BUCKET]) == 0
    assert cli.main(["user", "remove", "dev", "--bucket", BUCKET]) == 1
    assert "no user dev" in capsys.readouterr().err
    record = json.loads(
        ssm.get_parameter(Name=PATH + "ci", WithDecryption=True)["Parameter"]["Value"]
    )
    assert record["rights"] == ["read", "upload"] and auth.verify(rotated, record["hash"])


def test_the_cli_changes_rights_and_keeps_the_secret(
    ssm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "add", "ci", "--upload", "--bucket", BUCKET]) == 0
    token = capsys.readouterr().out.splitlines()[-1]
    assert (
        cli.main(
            ["user", "rights", "ci", "--upload", "Team_*", "--upload", "lib-?", "--bucket", BUCKET]
        )
        == 0
    )
    assert "may now read, upload to team-*, lib-?" in capsys.readouterr().out
    assert cli.main(["user", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ci\tread,upload\ttoken\tteam-*,lib-?"]
    assert cli.main(["user", "rights", "ci", "--read-only", "--bucket", BUCKET]) == 0
    capsys.readouterr()
    assert cli.main(["user", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ci\tread\ttoken\t-"]
    record = json.loads(
        ssm.get_parameter(Name=PATH + "ci", WithDecryption=True)["Parameter"]["Value"]
    )
    assert record["rights"] == ["read"] and auth.verify(token, record["hash"])
    assert cli.main(["user", "rights", "ci", "--upload", "--bucket", BUCKET]) == 0
    assert "may now read, upload to every project" in capsys.readouterr().out
    assert cli.main(["user", "rights", "ci", "--upload", "?*", "--bucket", BUCKET]) == 0
    assert "may now read, upload to every project" in capsys.readouterr().out
    assert cli.main(["user", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["ci\tread,upload\ttoken\t*"]
    assert cli.main(["user", "rights", "nobody", "--upload", "--bucket", BUCKET]) == 1
    assert "no user nobody" in capsys.readouterr().err
    assert cli.main(["user", "rights", "ci", "--upload", "no/slash", "--bucket", BUCKET]) == 1
    assert "not a project pattern" in capsys.readouterr().err
    with pytest.raises(SystemExit) as both:
        cli.main(["user", "rights", "ci", "--upload", "--read-only", "--bucket", BUCKET])
    assert both.value.code == 2


# -- the users file -----------------------------------------------------------


def _users_file(s3: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        s3.get_object(Bucket=BUCKET, Key=USERS_FILE)["Body"].read()
    )
    return document


def _parameters(ssm: Any) -> dict[str, Any]:
    found = ssm.get_parameters_by_path(Path=PATH, WithDecryption=True)["Parameters"]
    return {p["Name"][len(PATH) :]: json.loads(p["Value"]) for p in found}


def test_every_change_reaches_the_users_file(
    ssm: Any, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for change in [
        ["add", "ci", "--upload"],
        ["add", "dev"],
        ["add", "pat", "--password"],
        ["rights", "ci", "--upload", "team-*"],
        ["rotate", "dev"],
        ["remove", "pat"],
    ]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
            assert cli.main(["user", *change, "--bucket", BUCKET]) == 0
        assert _users_file(s3) == {"v": 1, "path": PATH, "users": _parameters(ssm)}, change
    assert set(_users_file(s3)["users"]) == {"ci", "dev"}
    assert _users_file(s3)["users"]["ci"]["projects"] == ["team-*"]


def test_changes_need_the_bucket_of_the_users_file(ssm: Any) -> None:
    for change in (["add", "x"], ["remove", "x"], ["rotate", "x"], ["rights", "x", "--read-only"]):
        with pytest.raises(SystemExit) as usage:
            cli.main(["user", *change])
        assert usage.value.code == 2, change


def test_the_first_change_after_an_upgrade_writes_every_user_to_the_file(
    ssm: Any, s3: Any, store: UserStore
) -> None:
    store.add("earlier", frozenset({"read"}))  # a parameter only, as earlier releases wrote
    assert cli.main(["user", "add", "later", "--bucket", BUCKET]) == 0
    assert set(_users_file(s3)["users"]) == {"earlier", "later"}


def test_sync_writes_the_file_from_the_parameters(
    ssm: Any, s3: Any, store: UserStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add("a", frozenset({"read"}))
    store.add("b", frozenset({"read", "upload"}), projects=("team-*",))
    usable = _parameters(ssm)
    ssm.put_parameter(Name=PATH + "broken", Value="not a record", Type="SecureString")
    other = userfile.render("/other/users/", {"mallory": auth.record(frozenset({"read"}), "x")})
    s3.put_object(Bucket=BUCKET, Key=USERS_FILE, Body=other)  # another path's: replaced
    assert cli.main(["user", "sync", "--bucket", BUCKET]) == 0
    out = capsys.readouterr().out
    assert "left out broken" in out
    assert f"wrote s3://{BUCKET}/{USERS_FILE}: the 2 users under {PATH}" in out
    assert _users_file(s3) == {"v": 1, "path": PATH, "users": usable}


def test_a_file_of_another_path_is_not_changed_by_a_user_command(
    ssm: Any, s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    other = userfile.render("/other/users/", {"mallory": auth.record(frozenset({"read"}), "x")})
    s3.put_object(Bucket=BUCKET, Key=USERS_FILE, Body=other)
    assert cli.main(["user", "add", "ci", "--bucket", BUCKET]) == 1
    assert "user sync" in capsys.readouterr().err
    assert set(_users_file(s3)["users"]) == {"mallory"}


def test_a_write_that_loses_a_race_is_made_again_on_the_fresh_file(ssm: Any, s3: Any) -> None:
    """Two operators at once: each write of the file is conditional on the version
    it read, so neither change is lost."""
    first = UserStore(ssm, PATH, bucket=Storage(s3, BUCKET))
    second = UserStore(ssm, PATH, bucket=Storage(s3, BUCKET))
    first.add("a", frozenset({"read"}))
    assert second.file is not None
    put = second.file.bucket.put
    raced: list[str] = []

    def put_after_the_other(*args: Any, **kwargs: Any) -> str:
        if not raced:  # the other command writes between this one's read and write
            raced.append("b")
            first.add("b", frozenset({"read"}))
        return put(*args, **kwargs)

    second.file.bucket.put = put_after_the_other  # type: ignore[method-assign]
    second.add("c", frozenset({"read"}))
    assert raced == ["b"]
    assert set(_users_file(s3)["users"]) == {"a", "b", "c"} == set(_parameters(ssm))


def test_a_file_that_could_not_be_written_says_how_to_repair_it(
    ssm: Any, s3: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "add", "dev", "--bucket", BUCKET]) == 0

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AwsError("S3 answered AccessDenied for .serverless-pypi-users.json")

    monkeypatch.setattr(Storage, "put", refuse)
    assert cli.main(["user", "remove", "dev", "--bucket", BUCKET]) == 1
    error = capsys.readouterr().err
    assert "user dev is removed in SSM, but" in error
    assert f"serverless-pypi user sync --bucket {BUCKET} --path {PATH}" in error


def test_the_authorizer_reads_what_the_cli_wrote_with_no_ssm_call(
    ssm: Any, s3: Any, moto_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["user", "add", "ci", "--upload", "team-*", "--bucket", BUCKET]) == 0
    token = capsys.readouterr().out.splitlines()[-1]

    class NoSsm:
        def list(self, path: str, limit: int) -> tuple[dict[str, str], bool]:
            raise AssertionError("SSM read while there is a users file")

    objects = S3Reader(BUCKET, "us-east-1", moto_url, credentials=lambda: Credentials("t", "t"))
    decide = authorizer.Authorizer(AuthSettings(PATH, 60, BUCKET), NoSsm(), objects=objects)
    assert decide(event(basic("ci", token), "POST /legacy/"))["context"] == {
        "user": "ci",
        "rights": "read,upload",
        "projects": "team-*",
    }


def test_rewrites_keep_the_users_kms_key(store: UserStore, ssm: Any) -> None:
    """AWS encrypts a SecureString written without a KeyId with the account's default
    key (PutParameter's documentation), which moto does not copy: what is sent is checked."""
    sent: list[dict[str, Any]] = []
    ssm.meta.events.register(
        "provide-client-params.ssm.PutParameter", lambda params, **_: sent.append(dict(params))
    )
    UserStore(ssm, PATH, kms_key_id="alias/team-key").add("ci", frozenset({"read", "upload"}))
    store.add("dev", frozenset({"read"}))
    store.rotate("ci")
    store.change_rights("ci", frozenset({"read"}))
    store.rotate("dev")
    keys = [(params["Name"].rpartition("/")[2], params.get("KeyId")) for params in sent]
    assert keys == [
        ("ci", "alias/team-key"),
        ("dev", None),  # created with the default key, as `user add` without --kms-key-id
        ("ci", "alias/team-key"),
        ("ci", "alias/team-key"),
        ("dev", "alias/aws/ssm"),
    ]
    explicit = UserStore(ssm, PATH, kms_key_id="alias/other")
    explicit.rotate("ci")
    assert sent[-1]["KeyId"] == "alias/other"


def test_a_password_is_read_from_stdin_and_hashed_slowly(
    ssm: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert (
        cli.main(
            ["user", "add", "pat", "--password", "--path", "/other/users/", "--bucket", BUCKET]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "a long enough password" not in out
    value = ssm.get_parameter(Name="/other/users/pat", WithDecryption=True)["Parameter"]["Value"]
    assert json.loads(value)["hash"].startswith("scrypt$")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "tiny", "--password", "--bucket", BUCKET]) == 1


# -- the authorizer -----------------------------------------------------------


def test_the_authorizer_event_is_read_from_what_api_gateway_sends() -> None:
    sent = build_event(
        "GET", "/simple/x/", [("Authorization", "Basic eDp5")], route_keys=ROUTE_KEYS
    )
    asked = authorizer.AuthorizerEvent.from_event(
        authorizer_event(sent, ["Basic eDp5", sent["routeKey"]])
    )
    assert asked.route_key == "GET /simple/{proxy+}"
    assert asked.headers.get("Authorization") == "Basic eDp5"
    nothing = authorizer.AuthorizerEvent.from_event(None)
    assert nothing.route_key is None and nothing.headers.items() == []


@pytest.fixture
def decide(store: UserStore, parameters: SsmReader) -> authorizer.Authorizer:
    return authorizer.Authorizer(AuthSettings(PATH, 60), parameters)


def test_the_authorizer_allows_with_rights_in_its_context(
    store: UserStore, decide: authorizer.Authorizer
) -> None:
    reader = store.add("reader", frozenset({"read"}))
    uploader = store.add("ci", frozenset({"read", "upload"}))
    assert decide(event(basic("reader", reader))) == {
        "isAuthorized": True,
        "context": {"user": "reader", "rights": "read"},
    }
    assert decide(event(basic("reader", reader), "POST /legacy/")) == {"isAuthorized": False}
    assert decide(event(basic("ci", uploader), "POST /legacy/"))["context"] == {
        "user": "ci",
        "rights": "read,upload",
        "projects": "*",
    }
    for header in (basic("reader", uploader), basic("nobody", reader), "Bearer x", None):
        assert decide(event(header)) == {"isAuthorized": False}


def test_changed_rights_reach_the_context_once_the_users_are_read_again(
    store: UserStore, parameters: SsmReader
) -> None:
    clock = Clock()
    decide = authorizer.Authorizer(AuthSettings(PATH, 60), parameters, clock)
    token = store.add("ci", frozenset({"read", "upload"}))
    upload = event(basic("ci", token), "POST /legacy/")
    assert decide(upload)["context"]["projects"] == "*"
    store.change_rights("ci", frozenset({"read", "upload"}), ("team-*",))
    assert decide(upload)["context"]["projects"] == "*"  # the list read 0 s ago
    clock.now += 61
    assert decide(upload)["context"]["projects"] == "team-*"
    store.change_rights("ci", frozenset({"read"}))
    clock.now += 61
    assert decide(upload) == {"isAuthorized": False}
    assert decide(event(basic("ci", token)))["isAuthorized"]  # the same token still reads


def test_the_authorizer_never_logs_secrets(
    store: UserStore, decide: authorizer.Authorizer, caplog: pytest.LogCaptureFixture
) -> None:
    token = store.add("reader", frozenset({"read"}))
    with caplog.at_level(logging.INFO):
        decide(event(basic("reader", token)))
        decide(event(basic("reader", token + "x")))
    assert caplog.text.count("allow reader") == 1 and "deny reader" in caplog.text
    for secret in (token, basic("reader", token), "sha256$", "testing"):
        assert secret not in caplog.text


def test_swapped_credentials_never_reach_the_log_or_ssm(
    store: UserStore,
    decide: authorizer.Authorizer,
    parameters: SsmReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`-u <token> -p <name>`: the token is not a user name, so it is refused before
    anything else; and no name, a user's or not, is ever sent to SSM (which records
    parameter names in CloudTrail): the users are read by their path."""
    token = store.add("ci", frozenset({"read"}))
    assert not auth.valid_name(token)
    assert auth.parse_basic(basic(token, "ci")) is None
    with caplog.at_level(logging.INFO):
        assert decide(event(basic(token, "ci"))) == {"isAuthorized": False}
        assert parameters.requests == 0
        # A name that could be a user's but is not: refused from the list, never logged.
        assert decide(event(basic("nobody-here", token))) == {"isAuthorized": False}
        assert decide(event(basic("nobody-else", token))) == {"isAuthorized": False}
    assert parameters.requests == 1  # the list, one page
    assert token not in caplog.text and "nobody-here" not in caplog.text
    with pytest.raises(UserError, match="not a user name"):
        store.add(auth.new_token(), frozenset({"read"}))


def test_a_password_costs_scrypt_once_per_warm_function(
    store: UserStore, decide: authorizer.Authorizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add("pat", frozenset({"read"}), password="a long enough password")
    calls: list[str] = []
    real = auth.verify

    def counting(secret: str, stored: str) -> bool:
        calls.append(stored)
        return real(secret, stored)

    monkeypatch.setattr(auth, "verify", counting)
    for _ in range(3):
        assert decide(event(basic("pat", "a long enough password")))["isAuthorized"]
    assert len(calls) == 1


def test_a_misconfigured_authorizer_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_PATH", "no-slashes")
    authorizer.default_authorizer.cache_clear()
    try:
        assert authorizer.handler(event(basic("a", "b"))) == {"isAuthorized": False}
    finally:
        authorizer.default_authorizer.cache_clear()


# -- API Gateway's part -------------------------------------------------------


def test_the_gateway_answers_401_403_and_caches_per_header_and_route(
    store: UserStore, parameters: SsmReader
) -> None:
    reader = store.add("reader", frozenset({"read"}))
    clock = Clock()
    decide = authorizer.Authorizer(AuthSettings(PATH, 60), parameters, clock)
    seen: list[dict[str, Any]] = []

    def app(request: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(request)
        return {"statusCode": 200, "headers": {}, "body": "ok"}

    gateway = Authorized(app, decide, ttl=300, clock=clock)
    assert gateway(event(None), None)["statusCode"] == 401
    assert gateway(event(""), None)["statusCode"] == 401
    assert gateway.authorizer_calls == 0
    assert gateway(event(basic("reader", "wrong")), None)["statusCode"] == 403
    assert gateway(event(basic("reader", reader)), None)["statusCode"] == 200
    assert seen[-1]["requestContext"]["authorizer"]["lambda"] == {
        "user": "reader",
        "rights": "read",
    }
    # The same header on the upload route right after: a cache miss, and a 403.
    assert gateway(event(basic("reader", reader), "POST /legacy/"), None)["statusCode"] == 403
    calls = gateway.authorizer_calls
    # Removed: allowed from the cache until the TTL passes, then refused.
    store.remove("reader")
    assert gateway(event(basic("reader", reader)), None)["statusCode"] == 200
    assert gateway.authorizer_calls == calls
    clock.now += 301
    assert gateway(event(basic("reader", reader)), None)["statusCode"] == 403
