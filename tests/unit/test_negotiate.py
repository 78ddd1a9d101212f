from __future__ import annotations

import pytest

from serverless_pypi.negotiate import HTML_V1, JSON_V1, TEXT_HTML, accepts_gzip, negotiate

PIP = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, TEXT_HTML),
        ("", TEXT_HTML),
        ("*/*", TEXT_HTML),
        ("text/html", TEXT_HTML),
        (PIP, JSON_V1),
        ("application/vnd.pypi.simple.v1+json", JSON_V1),
        ("application/vnd.pypi.simple.v1+html", HTML_V1),
        ("application/vnd.pypi.simple.latest+json", JSON_V1),
        ("application/vnd.pypi.simple.latest+html", HTML_V1),
        ("APPLICATION/VND.PYPI.SIMPLE.V1+JSON", JSON_V1),
        ("text/html;q=0.5, application/vnd.pypi.simple.v1+json;q=0.6", JSON_V1),
        ("application/vnd.pypi.simple.v1+json;q=0.2, */*;q=0.3", TEXT_HTML),
        ("application/*", HTML_V1),
        ("application/*, application/vnd.pypi.simple.v1+html;q=0", JSON_V1),
        ("text/*", TEXT_HTML),
        ("*/*;q=0.1, text/html;q=0", HTML_V1),
        ("application/json", None),
        ("application/vnd.pypi.simple.v2+json", None),
        ("text/html;q=0", None),
        ("image/png, application/xml", None),
        ("text/html;q=abc", None),
        ("text/html;q=2", None),
        ("text/html;q=nan", None),
        (" , ;, text/html", TEXT_HTML),
        ("text/html;level=1", TEXT_HTML),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("gzip;q=0", False),
        ("*", True),
        ("*;q=0", False),
        ("deflate", False),
        ("*, gzip;q=0", False),
        ("identity", False),
        ("x-gzip", True),
    ],
)
def test_gzip_acceptance(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected
