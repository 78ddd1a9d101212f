"""A stub of what the authorizer reads, on loopback: SSM Parameter Store, which
throttles as Parameter Store does, and the S3 objects of a bucket, which do not.

SSM: it speaks the JSON protocol the authorizer's reader sends (``X-Amz-Target``
``AmazonSSM.GetParametersByPath``, at most 10 parameters a page) within a token
bucket: ``rate`` calls a second (40 by default, Parameter Store's default
throughput per account and region, which GetParameter, GetParameters and
GetParametersByPath share), beyond which it answers ``400 ThrottlingException``.
It counts what it answered and what it throttled.

S3: a path-style ``GET /<bucket>/<key>`` of ``objects`` (the users file), with
its ETag and a 304 for ``If-None-Match``; a missing key answers 403 AccessDenied,
as S3 answers a role without s3:ListBucket (the authorizer's). S3 serves
thousands of GETs a second per prefix: none is throttled here; they are counted.

Signatures are not checked (moto checks none either); a request must carry one.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.clients import QuietHandler, serving

PAGE = 10


@dataclass
class Counts:
    answered: int = 0
    throttled: int = 0
    by_target: dict[str, int] = field(default_factory=dict)
    object_gets: int = 0  # S3, not part of Parameter Store's quota
    not_modified: int = 0  # of those, answered 304

    @property
    def calls(self) -> int:
        return self.answered + self.throttled


class Stub:
    """The parameters and the quota; the server's handler asks it."""

    def __init__(self, rate: float = 40.0) -> None:
        self.parameters: dict[str, str] = {}
        self.objects: dict[str, bytes] = {}  # "<bucket>/<key>" -> bytes
        self.rate = rate
        self.counts = Counts()
        self.failing = False  # every SSM call answers 500 while set
        self.objects_failing = False  # every S3 GET answers 500 while set
        self.throttle_next = 0  # so many calls answer ThrottlingException, whatever the rate
        self._tokens = rate
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def _admit(self) -> bool:
        with self._lock:
            if self.throttle_next > 0:
                self.throttle_next -= 1
                self.counts.throttled += 1
                return False
            now = time.monotonic()
            self._tokens = min(self.rate, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                self.counts.throttled += 1
                return False
            self._tokens -= 1
            self.counts.answered += 1
            return True

    def answer(self, target: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.counts.by_target[target] = self.counts.by_target.get(target, 0) + 1
        if not self._admit():
            return 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
        if self.failing:
            return 500, {"__type": "InternalServerError", "message": "failing on purpose"}
        if target == "AmazonSSM.GetParametersByPath":
            return self._by_path(request)
        return 400, {"__type": "InvalidAction", "message": target}

    def _by_path(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        path = str(request.get("Path", "")).rstrip("/") + "/"
        size = int(request.get("MaxResults", PAGE))
        if size > PAGE:
            return 400, {"__type": "ValidationException", "message": "MaxResults"}
        names = sorted(
            name
            for name in self.parameters
            if name.startswith(path) and "/" not in name[len(path) :]
        )
        start = int(request.get("NextToken") or 0)
        page = names[start : start + size]
        answer: dict[str, Any] = {"Parameters": [self._parameter(name) for name in page]}
        if start + size < len(names):
            answer["NextToken"] = str(start + size)
        return 200, answer

    def _parameter(self, name: str) -> dict[str, Any]:
        return {"Name": name, "Type": "SecureString", "Value": self.parameters[name]}

    def get_object(self, path: str, if_none_match: str | None) -> tuple[int, bytes, str]:
        """The status, body and ETag of a GET of ``/<bucket>/<key>``."""
        body = self.objects.get(unquote(path.lstrip("/")))
        etag = f'"{hashlib.md5(body).hexdigest()}"' if body is not None else ""
        with self._lock:
            self.counts.object_gets += 1
            self.counts.not_modified += bool(etag) and if_none_match == etag
        if self.objects_failing:
            return 500, b"<Error><Code>InternalError</Code></Error>", ""
        if body is None:
            return 403, b"<Error><Code>AccessDenied</Code></Error>", ""
        return (304, b"", etag) if if_none_match == etag else (200, body, etag)


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if "AWS4-HMAC-SHA256" not in (self.headers.get("Authorization") or ""):
                self.reply(403, b"<Error><Code>AccessDenied</Code></Error>")
                return
            status, body, etag = stub.get_object(self.path, self.headers.get("If-None-Match"))
            self.reply(status, body, {"ETag": etag} if etag else {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if "AWS4-HMAC-SHA256" not in (self.headers.get("Authorization") or ""):
                status, answer = 400, {"__type": "MissingAuthenticationToken"}
            else:
                status, answer = stub.answer(self.headers.get("X-Amz-Target", ""), body)
            data = json.dumps(answer).encode()
            self.reply(status, data, {"Content-Type": "application/x-amz-json-1.1"})

    return Handler


@contextmanager
def ssm_stub(rate: float = 40.0) -> Iterator[tuple[Stub, str]]:
    """A Stub and its URL (``http://127.0.0.1:<port>``), served until the block ends."""
    stub = Stub(rate)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    with serving(server) as origin:
        yield stub, origin
