"""The upstream's pages as the proxy parses, filters and renders them, and the policy's
SPECs (pure functions, no I/O)."""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser
from typing import Any

import pytest

from serverless_pypi import upstream, upstreampolicy
from serverless_pypi.upstream import Page, UpstreamError, UpstreamFile
from serverless_pypi.upstreampolicy import Policy, Rule, SpecError, parse_spec

BASE = "https://up.example/simple/six/"
SHA = "a" * 64
NOW = time.time()
DAY = 86_400.0


def pep700(seconds_ago: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(NOW - seconds_ago))


def json_page(*files: dict[str, Any], name: Any = "six", **extra: Any) -> bytes:
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": name, "files": list(files), **extra}
    ).encode()


def file(version: str, age_days: Any = 30, **extra: Any) -> dict[str, Any]:
    name = f"six-{version}-py2.py3-none-any.whl"
    entry: dict[str, Any] = {
        "filename": name,
        "url": f"https://files.example/{name}",
        "hashes": {"sha256": SHA},
        "size": 10,
        **extra,
    }
    if age_days is not None:
        entry["upload-time"] = pep700(age_days * DAY)
    return entry


# -- parsing ----------------------------------------------------------------


def test_a_json_page_keeps_every_field_the_index_serves() -> None:
    page = upstream.parse(
        "six",
        BASE,
        upstream.JSON_V1,
        json_page(
            file(
                "1.0",
                **{
                    "requires-python": ">=3.8",
                    "core-metadata": {"sha256": "b" * 64},
                    "yanked": "broken\x1b[31m",
                },
            ),
            **{"project-status": {"status": "deprecated", "reason": "use seven"}},
        ),
    )
    (only,) = page.files
    assert only["sha256"] == SHA and only["size"] == 10 and only["version"] == "1.0"
    assert only["requires_python"] == ">=3.8" and only["core_metadata"] == "b" * 64
    assert only["yanked"] == "broken[31m"  # one line of printable text
    assert only["upload_time"].endswith("Z")
    assert page.status == {"status": "deprecated", "reason": "use seven"}


@pytest.mark.parametrize(
    "bad",
    [
        {"url": "file:///etc/passwd"},
        {"url": "javascript:alert(1)//six-1.0-py2.py3-none-any.whl"},
        {"url": "https://files.example/other-1.0-py2.py3-none-any.whl"},
        {"filename": "seven-1.0-py2.py3-none-any.whl"},
        {"filename": "<script>.whl"},
        {"hashes": {}},
        {"hashes": {"sha256": "not-hex"}},
        {"requires-python": '"><script>alert(1)</script>'},
        {"filename": "six-1.0<b>.tar.gz", "url": "https://files.example/six-1.0<b>.tar.gz"},
        {"url": "https://files.example/\u00e9/six-1.0-py2.py3-none-any.whl"},
        {"url": "https://files.example/x\r\nSet-Cookie: a=b/six-1.0-py2.py3-none-any.whl"},
    ],
)
def test_a_hostile_file_is_left_out_and_counted(bad: dict[str, Any]) -> None:
    page = upstream.parse("six", BASE, upstream.JSON_V1, json_page(file("1.0", **bad), file("2.0")))
    assert [f["version"] for f in page.files] == ["2.0"]
    assert page.dropped == 1


@pytest.mark.parametrize(
    ("content_type", "body", "error"),
    [
        (upstream.JSON_V1, b"{not json", "not JSON"),
        (upstream.JSON_V1, b"[]", "not a PEP 691"),
        (upstream.JSON_V1, json_page(name="seven"), "another project"),
        (upstream.JSON_V1, b'{"meta": {"api-version": "2.0"}, "name": "six", "files": []}', "1.x"),
        ("application/octet-stream", b"", "not a simple page"),
        ("text/html", b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_page_that_is_not_one_is_an_error(content_type: str, body: bytes, error: str) -> None:
    with pytest.raises(UpstreamError, match=error):
        upstream.parse("six", BASE, content_type, body)


def test_an_html_page_works_without_upload_times() -> None:
    html = (
        '<html><head><meta name="pypi:project-status" content="quarantined"></head><body>'
        f'<a href="../../files/six-1.0-py2.py3-none-any.whl#sha256={SHA}" '
        'data-requires-python="&gt;=3.8" data-yanked="">six-1.0-py2.py3-none-any.whl</a>'
        '<a href="../../files/six-2.0.tar.gz">six-2.0.tar.gz</a></body></html>'
    )
    page = upstream.parse("six", BASE, "text/html", html.encode())
    (only,) = page.files
    assert only["url"] == "https://up.example/files/six-1.0-py2.py3-none-any.whl"
    assert only["requires_python"] == ">=3.8" and only["yanked"] is True
    assert "upload_time" not in only
    assert page.dropped == 1  # the sdist without a hash
    assert page.format == "html" and page.status == {"status": "quarantined"}


# -- the cooldown and the policy -----------------------------------------------


def parsed(*files: dict[str, Any]) -> Page:
    return upstream.parse("six", BASE, upstream.JSON_V1, json_page(*files))


def versions(offer: upstream.Offer) -> list[str]:
    return [f["version"] for f in offer.files]


def test_the_cooldown_leaves_out_young_files_and_files_without_a_time() -> None:
    page = parsed(file("1.0", 30), file("2.0", 1), file("3.0", None))
    offer = upstream.offer(page, upstreampolicy.EMPTY, int(7 * DAY), NOW)
    assert versions(offer) == ["1.0"]
    assert offer.cooldown == 2
    assert versions(upstream.offer(page, upstreampolicy.EMPTY, 0, NOW)) == ["1.0", "2.0", "3.0"]


def policy(deny: tuple[str, ...] = (), allow: tuple[str, ...] = (), only: bool = False) -> Policy:
    return Policy.of(
        [Rule(parse_spec(s)) for s in deny], [Rule(parse_spec(s)) for s in allow], only
    )


def test_an_allow_lets_a_young_file_through_and_a_deny_wins() -> None:
    page = parsed(file("1.0", 30), file("2.0", 1), file("3.0", None))
    week = int(7 * DAY)
    assert versions(upstream.offer(page, policy(allow=("six==2.0",)), week, NOW)) == ["1.0", "2.0"]
    assert versions(upstream.offer(page, policy(allow=("six",)), week, NOW)) == [
        "1.0",
        "2.0",
        "3.0",
    ]
    both = policy(deny=("six>=2",), allow=("six",))
    offer = upstream.offer(page, both, week, NOW)
    assert versions(offer) == ["1.0"] and offer.policy == 2
    assert versions(upstream.offer(page, policy(deny=("SIX",)), 0, NOW)) == []


def test_allow_only_proxies_only_what_an_allow_names() -> None:
    page = parsed(file("1.0", 30), file("2.0", 30))
    assert versions(upstream.offer(page, policy(only=True), 0, NOW)) == []
    assert versions(upstream.offer(page, policy(allow=("six<2",), only=True), 0, NOW)) == ["1.0"]


def test_a_quarantined_project_offers_no_file() -> None:
    page = upstream.parse(
        "six",
        BASE,
        upstream.JSON_V1,
        json_page(file("1.0"), **{"project-status": {"status": "quarantined"}}),
    )
    assert upstream.offer(page, upstreampolicy.EMPTY, 0, NOW).files == ()


@pytest.mark.parametrize(
    ("spec", "version", "matches"),
    [
        ("six", "9", True),
        ("six==1.16.0", "1.16", True),
        ("six==1.16.*", "1.16.3", True),
        ("six==1.16.*", "1.17", False),
        ("six!=1.16", "1.16.0", False),
        ("six<2", "1.99", True),
        ("six<2", "2.0", False),
        ("six>=1,<1.4", "1.3.9", True),
        ("six>=1,<1.4", "1.4", False),
        ("six~=1.4", "1.9", True),
        ("six~=1.4", "2.0", False),
        ("six~=1.4.2", "1.4.5", True),
        ("six~=1.4.2", "1.5", False),
        ("six===1.0-weird", "1.0-WEIRD", True),
        ("Six_Pkg<2", "1", False),  # another project
    ],
)
def test_specs_match_as_pep_440_says(spec: str, version: str, matches: bool) -> None:
    assert parse_spec(spec).matches("six", version) is matches


@pytest.mark.parametrize(
    "spec", ["", "<2", "six<", "six<=two", "six~=1", "six;rm -rf", "six==1.16rc1.*", "six==1!2.*"]
)
def test_a_spec_that_is_not_one_is_refused(spec: str) -> None:
    with pytest.raises(SpecError):
        parse_spec(spec)


def test_the_policy_object_round_trips_and_an_unreadable_one_fails_closed() -> None:
    stored = upstreampolicy.add(policy(), "deny", [parse_spec("Evil >= 2")], "malware\nreport")
    stored = upstreampolicy.add(stored, "allow", [parse_spec("six==2.0")])
    read = upstreampolicy.decode(upstreampolicy.encode(stored))
    assert [(r.spec.text, r.reason) for r in read.deny] == [("evil>=2", "malware report")]
    assert [r.spec.text for r in read.allow] == ["six==2.0"]
    removed, count = upstreampolicy.remove(read, [parse_spec("evil>=2")])
    assert count == 1 and removed.deny == ()
    with pytest.raises(ValueError, match="Expecting property name"):
        upstreampolicy.decode(b"{garbage")


# -- this index's pages ----------------------------------------------------------


class Anchors(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def test_the_pages_link_to_this_api_with_the_upstream_hashes() -> None:
    page = parsed(file("1.0", 30, **{"requires-python": ">=3.8", "core-metadata": {"sha256": SHA}}))
    files: tuple[UpstreamFile, ...] = page.files
    rendered = json.loads(upstream.render_json(page, files))
    (view,) = rendered["files"]
    assert view["url"] == "six-1.0-py2.py3-none-any.whl"  # relative: this API
    assert view["hashes"] == {"sha256": SHA} and view["size"] == 10
    assert view["core-metadata"] == {"sha256": SHA} and view["requires-python"] == ">=3.8"
    assert rendered["versions"] == ["1.0"]
    (anchor,) = Anchors(upstream.render_html(page, files)).anchors
    assert anchor["href"] == f"six-1.0-py2.py3-none-any.whl#sha256={SHA}"
    assert anchor["data-requires-python"] == ">=3.8"


def test_the_cached_page_round_trips() -> None:
    page = parsed(file("1.0"), file("2.0", None))
    cached = upstream.Cached(page, NOW, '"etag"', "")
    back = upstream.decode(upstream.encode(cached), "six")
    assert back == cached
    assert upstream.decode(upstream.encode(cached), "seven") is None
    assert upstream.decode(b"garbage", "six") is None
