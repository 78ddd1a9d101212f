"""What a Lambda function's response can carry (shared by the api and the reindexer).

Lambda's synchronous response limit is 6 MB (6,291,456 bytes) for the whole JSON
document; the api leaves room for the headers and the envelope around the body.
The reindexer asks the same question of a project's pages before it writes their
manifest, so the answer lives here, beside neither of them.
"""

from __future__ import annotations

import gzip

MAX_RESPONSE_PAYLOAD = 6_000_000
GZIP_LEVEL = 6


def gzipped(body: bytes) -> bytes:
    """``body`` gzipped as the api sends it (no timestamp: the same bytes every time)."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def gunzipped_size(member: bytes) -> int:
    """The size of what one gzip member holds, from its trailer (ISIZE, RFC 1952)."""
    return int.from_bytes(member[-4:], "little") if len(member) >= 18 else 0


def fits(zipped: bytes) -> bool:
    """Whether an already gzipped body fits a Lambda response once base64-encoded."""
    return 4 * -(-len(zipped) // 3) <= MAX_RESPONSE_PAYLOAD


def json_size(text: str) -> int:
    """About how many bytes ``text`` takes in the JSON document that Lambda returns."""
    return len(text) + text.count('"') + text.count("\\")
