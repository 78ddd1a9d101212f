"""``serverless-pypi serve`` and ``serverless-pypi reindex``."""

from __future__ import annotations

import argparse
import errno
import io
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import __version__, auth, indexer
from .auth import Right
from .authorizer import DEFAULT_USERS_PATH as DEFAULT_USERS
from .config import ConfigError, Settings
from .logs import get_logger
from .names import DISTRIBUTION_SUFFIXES
from .server import Handler

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
    serve.add_argument(
        "--auth",
        action="store_true",
        help="put the HTTP Basic authorizer in front, with the users of `serverless-pypi user`",
    )
    serve.add_argument("--users-path", default=None, help="SSM path of the users (with --auth)")
    serve.add_argument(
        "--auth-ttl", type=int, default=300, help="authorizer result cache, seconds (0-3600)"
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
    _user_parser(commands)

    upload = commands.add_parser(
        "upload",
        help="upload distributions straight to the bucket, any size",
        description="Put each distribution in its normalized project folder with one "
        "conditional PUT (never replacing a file) and its SHA-256 checksum, for files "
        "larger than the upload route takes. Uses the standard AWS environment.",
    )
    upload.add_argument("dists", nargs="+", type=Path, metavar="DIST", help="wheels and sdists")
    upload.add_argument("--bucket", required=True, help="the index bucket")
    upload.set_defaults(run=upload_command)
    return parser


def _user_parser(commands: Any) -> None:
    user = commands.add_parser(
        "user",
        help="add, list, remove or rotate the users of an index",
        description="Users live in SSM Parameter Store (standard AWS environment; "
        "AWS_ENDPOINT_URL points at another endpoint), one SecureString each, as a hash.",
    )
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--path",
        default=None,
        help=f"SSM path of the users: the module's users_ssm_path (default {DEFAULT_USERS})",
    )
    actions = user.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", parents=[where], help="create a user; prints the new token on the last line"
    )
    add.add_argument("name")
    add.add_argument("--upload", action="store_true", help="may also upload (default: read)")
    add.add_argument(
        "--password", action="store_true", help="choose a password (asked for, or read from stdin)"
    )
    add.add_argument("--kms-key-id", help="KMS key of the SecureString (default: aws/ssm)")
    add.set_defaults(run=user_command, action="add")
    listing = actions.add_parser("list", parents=[where], help="names and rights, never secrets")
    listing.set_defaults(run=user_command, action="list")
    remove = actions.add_parser("remove", parents=[where], help="delete a user")
    remove.add_argument("name")
    remove.set_defaults(run=user_command, action="remove")
    rotate = actions.add_parser(
        "rotate", parents=[where], help="a new token (or password) for a user"
    )
    rotate.add_argument("name")
    rotate.add_argument("--password", action="store_true", help="choose a password instead")
    rotate.set_defaults(run=user_command, action="rotate")


# -- upload -----------------------------------------------------------------


def upload_command(args: argparse.Namespace) -> int:
    from .local import project_of
    from .objects import PreconditionFailed, StorageError
    from .storage import MAX_SINGLE_PUT

    plan = []
    for path in args.dists:
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        project = project_of(path)
        if project is None or not path.name.endswith(DISTRIBUTION_SUFFIXES):
            raise CommandError(f"{path.name}: not a wheel or sdist whose project can be told")
        if path.stat().st_size > MAX_SINGLE_PUT:
            raise CommandError(
                f"{path.name} is larger than 5 GiB: use "
                f"`aws s3 cp {path} s3://{args.bucket}/{project}/`"
            )
        plan.append((path, f"{project}/{path.name}"))
    storage = _storage(args.bucket)
    failed = 0
    for path, key in plan:
        bar = ByteBar(path.name, path.stat().st_size)
        try:
            storage.put_file(path, key, bar)
        except PreconditionFailed:
            bar.finish()
            print(f"exists, not replaced: s3://{args.bucket}/{key}", file=sys.stderr)
            failed += 1
            continue
        except StorageError as error:
            bar.finish()
            raise CommandError(str(error)) from None
        bar.finish()
        print(f"uploaded s3://{args.bucket}/{key}")
    return EXIT_ERROR if failed else EXIT_OK


# -- users ------------------------------------------------------------------


def _read_password() -> str:
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        import getpass

        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ")
    if len(password) < 12:
        raise CommandError("a password needs at least 12 characters")
    return password


def _require_credentials() -> None:
    """A clear error, rather than botocore's, when the AWS environment has no credentials."""
    import boto3

    if boto3.Session().get_credentials() is None:
        raise CommandError("no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID)")


def user_command(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from .users import UserError, UserStore

    _require_credentials()
    try:
        store = UserStore(
            boto3.client("ssm"), args.path or DEFAULT_USERS, getattr(args, "kms_key_id", None)
        )
        if args.action == "add":
            rights: frozenset[Right] = frozenset({"read", "upload"} if args.upload else {"read"})
            password = _read_password() if args.password else None
            token = store.add(args.name, rights, password)
            print(f"added user {args.name} ({', '.join(sorted(rights))}) under {store.path}")
            if token:
                print(token)
        elif args.action == "rotate":
            token = store.rotate(args.name, _read_password() if args.password else None)
            print(f"new secret for user {args.name}")
            if token:
                print(token)
        elif args.action == "remove":
            store.remove(args.name)
            print(f"removed user {args.name}")
        else:
            for listed in store.list():
                rights_text = ",".join(sorted(listed.rights)) or "-"
                print(f"{listed.name}\t{rights_text}\t{listed.kind}")
    except UserError as error:
        raise CommandError(str(error)) from None
    except (ClientError, BotoCoreError) as error:
        raise CommandError(f"SSM: {error}") from None
    return EXIT_OK


# -- reindex ----------------------------------------------------------------


def _storage(bucket: str) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    from .storage import Storage, make_client

    _require_credentials()
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
        self.stream.write(f"\r[{bar}] {text}")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class ProgressBar(TerminalBar):
    """Projects reindexed, for ``indexer.rebuild``'s progress callback."""

    def __call__(self, done: int, total: int, result: indexer.ProjectResult) -> None:
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


@contextmanager
def _listening(host: str, port: int, handler: Handler, route_keys: Sequence[str]) -> Iterator[Any]:
    from .local import MAX_REQUEST
    from .server import make_server

    try:
        server = make_server(host, port, handler, route_keys=route_keys, max_body=MAX_REQUEST)
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


class _Later:
    """The api handler, set once the storage is ready: the server listens first, so
    that a busy port fails before an embedded S3 starts."""

    handler: Handler | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.handler is None:
            return {"statusCode": 503, "headers": {}, "body": "starting\n"}
        return self.handler(event, context)


def _guard(args: argparse.Namespace, embedded: Any) -> Callable[[Handler], Handler]:
    """What puts a handler behind the same authorizer and cache as API Gateway's."""
    from .authgate import Gateway
    from .authorizer import Authorizer, AuthSettings
    from .ssm import SsmReader

    if not 0 <= args.auth_ttl <= 3600:
        raise CommandError("--auth-ttl must be 0 to 3600 seconds")
    settings = AuthSettings(args.users_path or DEFAULT_USERS)
    if embedded is not None:
        parameters = embedded.parameters()
    else:
        parameters = SsmReader.from_env()
    decide = Authorizer(settings, parameters)
    return lambda handler: Gateway(handler, decide, ttl=args.auth_ttl)


def _settings(args: argparse.Namespace, bucket: str) -> Settings:
    try:
        return Settings.from_options(
            bucket=bucket, fallback_index_url=args.fallback, link_mode=args.link_mode
        )
    except ConfigError as error:
        raise CommandError(str(error)) from None


def serve_command(args: argparse.Namespace) -> int:
    from . import layout
    from .api import App
    from .local import EmbeddedS3, MissingMoto, routes, upload_dist
    from .reindex import Reindexer
    from .s3http import S3Reader
    from .upload import Uploader, UploadSettings

    if args.dist is not None and not args.dist.is_dir():
        raise CommandError(f"--dist {args.dist}: not a directory")
    embedded: EmbeddedS3 | None = None
    bucket = args.bucket or LOCAL_BUCKET
    settings = _settings(args, bucket)
    upload_routes = frozenset(auth.UPLOAD_ROUTES)
    try:
        later = _Later()
        route_keys = [*layout.ROUTE_KEYS, *sorted(upload_routes)]
        with _listening(args.host, args.port, later, route_keys) as server:
            if args.bucket is None:
                try:
                    embedded = EmbeddedS3()
                except MissingMoto as error:
                    raise CommandError(str(error)) from None
                embedded.start(bucket)
                storage = embedded.storage(bucket)
                reader = embedded.reader(bucket)
            else:
                storage = _storage(bucket)
                reader = S3Reader.from_env(bucket)
            api = App(settings, reader)
            uploader = Uploader(UploadSettings(bucket), storage) if args.auth else None
            guard = _guard(args, embedded) if args.auth else None
            later.handler = routes(api, uploader, upload_routes, guard)
            token = _local_user(args, embedded)
            if args.dist is not None:
                keys = upload_dist(storage, args.dist)
                print(f"uploaded {len(keys)} distributions from {args.dist}")
            if embedded is not None:
                reindexer = Reindexer(settings, storage)
                embedded.deliver(reindexer)
                embedded.start_delivery(reindexer)
            _print_hints(args, server, bucket, embedded, token)
            with _sigterm_as_ctrl_c():
                # Said once SIGTERM is handled: whoever reads it may stop us right away.
                print("Ctrl-C stops it.", flush=True)
                try:
                    server.serve_forever()
                except KeyboardInterrupt:
                    print("\nstopped", file=sys.stderr)
    finally:
        if embedded is not None:
            embedded.stop()
    return EXIT_OK


def _local_user(args: argparse.Namespace, embedded: Any) -> str:
    """With --auth on the embedded S3: a user "local" who may upload, so that the
    printed pip and twine lines work on a machine without AWS credentials."""
    if not args.auth or embedded is None:
        return ""
    from .users import UserStore

    store = UserStore(embedded.client("ssm"), args.users_path or DEFAULT_USERS)
    return store.add("local", frozenset({"read", "upload"}))


def _print_hints(
    args: argparse.Namespace, server: Any, bucket: str, embedded: Any, token: str
) -> None:
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    origin = f"http://{shown}:{port}"
    where = f"s3://{bucket}" + (f" (embedded S3 at {embedded.url})" if embedded else "")
    print(f"serving {where} at {origin}/simple/")
    credentials = f"local:{token}@" if token else ("NAME:TOKEN@" if args.auth else "")
    print(f"  pip install --index-url http://{credentials}{origin[7:]}/simple/ <package>")
    if args.auth:
        login = f"-u local -p {token}" if token else "-u NAME -p TOKEN"
        print(f"  twine upload --repository-url {origin}/legacy/ {login} dist/*")
        env = f"{embedded.environment} " if embedded else ""
        users = args.users_path or DEFAULT_USERS
        print(f"  users: {env}serverless-pypi user add NAME [--upload] --path {users}")
    if embedded is not None:
        print(f"  upload: {embedded.environment} aws s3 cp FILE s3://{bucket}/PROJECT/")
