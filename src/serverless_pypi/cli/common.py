"""What the commands share: their errors and exit codes, the bucket they work on,
and progress bars."""

from __future__ import annotations

import io
import sys
from typing import Any

from ..indexer import ProjectResult
from ..logs import shown
from ..storage import Storage

EXIT_OK, EXIT_ERROR = 0, 1


class CommandError(Exception):
    """Something the user can fix; the message says what."""


def require_credentials() -> None:
    """A clear error, rather than botocore's, when the AWS environment has no credentials."""
    import boto3

    if boto3.Session().get_credentials() is None:
        raise CommandError("no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)")


def bucket_storage(bucket: str) -> Storage:
    """The bucket, through the standard AWS environment, once it is known to be there."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..storage import make_client

    require_credentials()
    client = make_client()
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise CommandError(f"no such bucket: {bucket}") from None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise CommandError(f"access to bucket {bucket} is denied") from None
        raise CommandError(f"S3 error for bucket {bucket}: {error}") from None
    except BotoCoreError as error:
        raise CommandError(f"S3 cannot be reached: {error}") from None
    return Storage(client, bucket)


class TerminalBar:
    """A one-line progress bar on a terminal; nothing elsewhere."""

    WIDTH = 30

    def __init__(self, stream: io.TextIOBase | Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def draw(self, done: int, total: int, text: str) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * done // max(total, 1)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {shown(text)}")  # names from the bucket, escaped
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class ProgressBar(TerminalBar):
    """Projects reindexed, for ``batch.rebuild``'s progress callback."""

    def __call__(self, done: int, total: int, result: ProjectResult) -> None:
        self.draw(done, total, f"{done}/{total} projects  {result.project[:30]:<30}")
        if done == total:
            self.finish()


class ByteBar(TerminalBar):
    """Bytes of one file sent, for ``Storage.put_file``'s progress callback."""

    def __init__(self, label: str, total: int, stream: Any = None) -> None:
        super().__init__(stream)
        self.label, self.total, self.done = label[:40], max(total, 1), 0

    def __call__(self, sent: int) -> None:
        self.done = min(self.total, self.done + sent)
        self.draw(self.done, self.total, f"{self.done * 100 // self.total:3d}%  {self.label}")
