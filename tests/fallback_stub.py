"""A stand-in for the fallback index (PyPI) on loopback: each project page answers
the status it is given (404 for the others), and every request is counted."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.clients import QuietHandler, serving


class FakeIndex:
    def __init__(self, pages: Mapping[str, int | tuple[int, str]], delay: float) -> None:
        # "/simple/<project>/" -> a status, or a status and a Location
        self.pages = dict(pages)
        self.delay = delay
        self.seen: list[str] = []


def _handler(index: FakeIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            index.seen.append(self.path)
            time.sleep(index.delay)
            answer = index.pages.get(self.path, 404)
            status, location = answer if isinstance(answer, tuple) else (answer, "")
            body = b"<html><body></body></html>\n" if status == 200 else b""
            self.reply(status, body, {"Location": location} if location else None)

    return Handler


@contextmanager
def fake_index(
    pages: Mapping[str, int | tuple[int, str]], delay: float = 0.0
) -> Iterator[tuple[FakeIndex, str]]:
    """The index and its URL (``http://127.0.0.1:<port>/simple/``) while the block runs."""
    index = FakeIndex(pages, delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(index))
    server.daemon_threads = True
    with serving(server) as origin:
        yield index, origin + "/simple/"
