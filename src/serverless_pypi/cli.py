"""``serverless-pypi serve`` and ``serverless-pypi reindex``."""

from __future__ import annotations

import argparse
import errno
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import __version__, indexer
from .layout import NOTIFY_SUFFIXES
from .logs import get_logger
from .names import DISTRIBUTION_SUFFIXES, is_valid_name, normalize

logger = get_logger(__name__)

LOCAL_BUCKET = "serverless-pypi-local"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CommandError(Exception):
    """Something the user can fix; the message says what."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        return int(args.run(args))
    except CommandError as error:
        print(f"serverless-pypi: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serverless-pypi", description="A private Python package index on S3."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the index on this machine",
        description="Serve the index over HTTP, running the api handler as API Gateway would. "
        "Without --bucket, an embedded S3 (moto, loopback only) holds the files.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (0: any)")
    serve.add_argument("--bucket", help="an existing S3 bucket (uses the standard AWS environment)")
    serve.add_argument("--dist", type=Path, help="upload the distributions in DIR first")
    serve.add_argument("--fallback", help="fallback index URL, e.g. https://pypi.org/simple/")
    serve.add_argument(
        "--link-mode", choices=("redirect", "presigned"), default=None, help="file link style"
    )
    serve.set_defaults(run=serve_command)

    reindex = commands.add_parser(
        "reindex",
        help="rebuild the whole index of a bucket",
        description="Re-derive every project of the bucket (for a bucket filled by another "
        "tool, or after a change of the derived data). Safe beside the Lambda reindexer.",
    )
    reindex.add_argument("--bucket", required=True, help="the index bucket")
    reindex.set_defaults(run=reindex_command)
    return parser


# -- reindex ----------------------------------------------------------------


def _storage(bucket: str) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from .storage import Storage, make_client

    try:
        if boto3.Session().get_credentials() is None:
            raise NoCredentialsError
        client = make_client()
        client.head_bucket(Bucket=bucket)
    except NoCredentialsError:
        raise CommandError(
            "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)"
        ) from None
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


class ProgressBar:
    """A one-line progress bar on a terminal; nothing elsewhere."""

    def __init__(self, stream: io.TextIOBase | Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, result: indexer.ProjectResult) -> None:
        if not self.enabled:
            return
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} projects  {result.project[:30]:<30}")
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def reindex_command(args: argparse.Namespace) -> int:
    storage = _storage(args.bucket)
    started = time.perf_counter()
    batch = indexer.rebuild(storage, progress=ProgressBar())
    seconds = time.perf_counter() - started
    read = sum(result.inspected for result in batch.results)
    print(
        f"reindexed {len(batch.results)} projects, {batch.files} files "
        f"({read} read) in {seconds:.1f} s"
    )
    for project, error in sorted(batch.failures.items()):
        print(f"failed: {project}: {error}", file=sys.stderr)
    return EXIT_ERROR if batch.failures else EXIT_OK


# -- serve ------------------------------------------------------------------


def project_of(path: Path) -> str | None:
    """The project a distribution file belongs to, from its metadata or its name."""
    from . import metadata

    name = path.name
    try:
        if name.endswith(".whl"):
            return normalize(name.split("-", 1)[0])
        if name.endswith(".tar.gz"):
            with path.open("rb") as stream:
                return normalize(metadata.parse(metadata.from_sdist_tar(stream)).name)
        if name.endswith(".zip"):
            with path.open("rb") as stream:
                return normalize(metadata.parse(metadata.from_sdist_zip(stream)).name)
    except Exception:  # noqa: BLE001 - an unreadable archive falls back to its name
        pass
    stem = name.removesuffix(".tar.gz").removesuffix(".zip")
    project, _, version = stem.rpartition("-")
    return normalize(project) if project and version[:1].isdigit() else None


def upload_dist(storage: Any, directory: Path) -> list[str]:
    """Put every distribution of ``directory`` in its project's folder; return the keys."""
    if not directory.is_dir():
        raise CommandError(f"--dist {directory}: not a directory")
    keys = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or not path.name.endswith(DISTRIBUTION_SUFFIXES):
            continue
        project = project_of(path)
        if project is None or not is_valid_name(project):
            logger.warning("skipped %s: cannot tell which project it belongs to", path.name)
            continue
        key = f"{project}/{path.name}"
        storage.client.upload_file(str(path), storage.bucket, key)
        keys.append(key)
    return keys


class EmbeddedS3:
    """moto's server on loopback, wired like the module: bucket -> SNS -> reindex.

    Notifications reach an SQS queue subscribed to the topic; a thread hands
    them to the reindex handler as SNS would hand them to Lambda.
    """

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            raise CommandError(
                "the embedded S3 needs moto: pip install 'serverless-pypi[serve]', or pass --bucket"
            ) from None
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.url = ""
        self.queue_url = ""

    def start(self, bucket: str) -> None:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.url,
                "AWS_ACCESS_KEY_ID": "embedded",
                "AWS_SECRET_ACCESS_KEY": "embedded",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
            }
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_PROFILE", None)
        import boto3

        s3: Any = boto3.client("s3")
        sns: Any = boto3.client("sns")
        sqs: Any = boto3.client("sqs")
        s3.create_bucket(Bucket=bucket)
        topic = sns.create_topic(Name="serverless-pypi-local")["TopicArn"]
        self.queue_url = sqs.create_queue(QueueName="serverless-pypi-local")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "TopicConfigurations": [
                    {
                        "TopicArn": topic,
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": suffix}]}},
                    }
                    for suffix in NOTIFY_SUFFIXES
                ]
            },
        )

    def deliver(self) -> int:
        """Hand the queued notifications to the reindex handler; return how many."""
        import boto3

        from . import reindex

        sqs = boto3.client("sqs")
        delivered = 0
        while True:
            found = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not found:
                return delivered
            for message in found:
                envelope = json.loads(message["Body"])
                try:
                    reindex.handler({"Records": [{"EventSource": "aws:sns", "Sns": envelope}]})
                except Exception:
                    logger.exception("reindexing failed")
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                delivered += 1

    def start_delivery(self) -> None:
        def loop() -> None:
            while not self._stop.wait(0.5):
                self.deliver()

        self._thread = threading.Thread(target=loop, name="reindex", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server.stop()


@contextmanager
def _listening(host: str, port: int) -> Iterator[Any]:
    from . import api
    from .server import make_server

    try:
        server = make_server(host, port, api.handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CommandError(f"port {port} on {host} is busy: pick another with --port") from None
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    try:
        yield server
    finally:
        server.server_close()


@contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """`kill`, systemd and container runtimes stop a server with SIGTERM: stop
    cleanly, as on Ctrl-C (the embedded S3 and its threads shut down too)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve_command(args: argparse.Namespace) -> int:
    from . import api

    embedded: EmbeddedS3 | None = None
    bucket = args.bucket or LOCAL_BUCKET
    try:
        with _listening(args.host, args.port) as server:
            if args.bucket is None:
                embedded = EmbeddedS3()
                embedded.start(bucket)
            storage = _storage(bucket)
            os.environ["S3_BUCKET"] = bucket
            if args.fallback:
                os.environ["FALLBACK_INDEX_URL"] = args.fallback
            if args.link_mode:
                os.environ["LINK_MODE"] = args.link_mode
            api._runtime.cache_clear()
            if args.dist is not None:
                keys = upload_dist(storage, args.dist)
                print(f"uploaded {len(keys)} distributions from {args.dist}")
            if embedded is not None:
                embedded.deliver()
                embedded.start_delivery()
            try:
                api._runtime()
            except ValueError as error:
                raise CommandError(str(error)) from None
            host, port = server.server_address[:2]
            shown = f"[{host}]" if ":" in str(host) else host
            url = f"http://{shown}:{port}/simple/"
            where = f"s3://{bucket}" + (f" (embedded S3 at {embedded.url})" if embedded else "")
            print(f"serving {where} at {url}")
            print(f"  pip install --index-url {url} <package>")
            if embedded is not None:
                upload = f"AWS_ENDPOINT_URL={embedded.url} aws s3 cp FILE s3://{bucket}/PROJECT/"
                print(f"  upload: {upload}")
            print("Ctrl-C stops it.", flush=True)
            with _sigterm_as_ctrl_c():
                try:
                    server.serve_forever()
                except KeyboardInterrupt:
                    print("\nstopped", file=sys.stderr)
    finally:
        if embedded is not None:
            embedded.stop()
    return EXIT_OK
