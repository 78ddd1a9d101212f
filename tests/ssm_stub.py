"""A stub of SSM Parameter Store on loopback that throttles as Parameter Store does.

It speaks the JSON protocol the authorizer's reader sends (``X-Amz-Target``
``AmazonSSM.GetParametersByPath``, at most 10 parameters a page) within a token
bucket: ``rate`` calls a second (40 by default, Parameter Store's default
throughput per account and region, which GetParameter, GetParameters and
GetParametersByPath share), beyond which it answers ``400 ThrottlingException``. It counts what it
answered and what it throttled. Signatures are not checked (moto checks none
either); a request must carry one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.clients import QuietHandler, serving

PAGE = 10


@dataclass
class Counts:
    answered: int = 0
    throttled: int = 0
    by_target: dict[str, int] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return self.answered + self.throttled


class Stub:
    """The parameters and the quota; the server's handler asks it."""

    def __init__(self, rate: float = 40.0) -> None:
        self.parameters: dict[str, str] = {}
        self.rate = rate
        self.counts = Counts()
        self.failing = False  # every call answers 500 while set
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


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
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
