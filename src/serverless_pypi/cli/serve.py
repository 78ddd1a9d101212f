"""``serverless-pypi serve``: the index on this machine, with the module's handlers
behind the stand-in for API Gateway (``local.stand_in``); without --bucket, on an
embedded S3 (``local.EmbeddedS3``)."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import signal
import socket
import ssl
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import (
    ApiSettings,
    AuthSettings,
    ConfigError,
    MintSettings,
    ReindexSettings,
    UiSettings,
    UploadSettings,
    event_bus,
    users_path,
)
from ..local import Deferred, EmbeddedS3, Handler, MissingMoto, stand_in
from ..storage import Storage
from .common import EXIT_OK, CommandError, bucket_storage
from .files import seed

if TYPE_CHECKING:
    from ..proxy import Proxy
    from ..s3http import S3Reader

LOCAL_BUCKET = "serverless-pypi-local"
LOCAL_AUDIENCE = "serverless-pypi"


def add_parsers(commands: Any) -> None:
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
        "--upstream-mode",
        choices=("redirect", "proxy"),
        default=None,
        help="for a name never held here: redirect to --fallback (default), or proxy its "
        "page, filtered by the cooldown and `serverless-pypi upstream`, and keep the files",
    )
    serve.add_argument(
        "--cooldown",
        metavar="DURATION",
        default=None,
        help='with --upstream-mode proxy: hide upstream files younger than this ("7d", '
        '"36h", "90m", "0"; default 7d)',
    )
    serve.add_argument(
        "--link-mode", choices=("redirect", "presigned"), default=None, help="file link style"
    )
    serve.add_argument(
        "--auth",
        action="store_true",
        help="put the HTTP Basic authorizer in front, with the users of `serverless-pypi user`",
    )
    serve.add_argument(
        "--public",
        action="store_true",
        help="serve without --auth on a --host other than loopback, to anyone who can reach it",
    )
    serve.add_argument("--users-path", default=None, help="SSM path of the users (with --auth)")
    serve.add_argument(
        "--auth-ttl", type=int, default=300, help="authorizer result cache, seconds (0-3600)"
    )
    serve.add_argument(
        "--event-bus",
        metavar="NAME",
        help='put the index\'s events on this bus of the embedded AWS ("default" or a new '
        "one), where a rule copies them to a queue that the printed line reads",
    )
    serve.add_argument(
        "--oidc-issuer",
        metavar="URL",
        action="append",
        default=[],
        help="with --auth: trust this OIDC issuer too for trusted publishing (repeatable), "
        "e.g. a stand-in on loopback",
    )
    serve.add_argument(
        "--oidc-audience",
        default=LOCAL_AUDIENCE,
        help=f"the audience trusted publishing's tokens must name (default {LOCAL_AUDIENCE})",
    )
    serve.add_argument("--tls-cert", type=Path, help="serve https with this certificate (PEM)")
    serve.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    serve.set_defaults(run=serve_command)


def _tls(args: argparse.Namespace, server: ThreadingHTTPServer) -> None:
    """Serve https (uv asks for trusted publishing's routes over https only). The
    handshake happens in the connection's own thread, on its first read."""
    if args.tls_cert is None and args.tls_key is None:
        return
    if args.tls_cert is None or args.tls_key is None:
        raise CommandError("--tls-cert and --tls-key go together")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError) as error:
        raise CommandError(f"--tls-cert/--tls-key: {error}") from None
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )


@contextmanager
def _listening(args: argparse.Namespace, **handlers: Any) -> Iterator[ThreadingHTTPServer]:
    try:
        server = stand_in(host=args.host, port=args.port, ttl=args.auth_ttl, **handlers)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {args.port} on {args.host} is busy: pick another with --port"
            ) from None
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
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


def _settings(args: argparse.Namespace, bucket: str) -> ApiSettings:
    try:
        settings = ApiSettings.from_options(
            bucket=bucket,
            fallback_index_url=args.fallback,
            link_mode=args.link_mode,
            upstream_mode=args.upstream_mode,
            upstream_cooldown=args.cooldown,
        )
    except ConfigError as error:
        raise CommandError(str(error)) from None
    if settings.upstream_mode == "proxy" and not settings.proxy:
        raise CommandError("--upstream-mode proxy needs the upstream: --fallback URL")
    if args.cooldown is not None and settings.upstream_mode != "proxy":
        raise CommandError("--cooldown needs --upstream-mode proxy")
    return settings


def on_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback one (127.0.0.0/8, ::1):
    ``0.0.0.0`` is every interface, a name may resolve to the network's."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return True  # no address: listening fails, and says so
    return all(
        ipaddress.ip_address(str(info[4][0]).partition("%")[0]).is_loopback for info in found
    )


def _check_exposure(args: argparse.Namespace, bucket: str) -> None:
    """Refuse to serve the index to the network without --auth, unless --public
    says so, and then say loudly what that means."""
    if args.auth or on_loopback(args.host):
        return
    if not args.public:
        raise CommandError(
            f"--host {args.host} serves the index beyond this machine without --auth: "
            f"anyone who can reach it could list and download every file. Add --auth "
            f"(with the users of `serverless-pypi user`), or --public to do it anyway"
        )
    print(
        f"WARNING: serving s3://{bucket} on {args.host} without --auth: anyone who can "
        f"reach this port can list and download every file",
        file=sys.stderr,
        flush=True,
    )


def serve_command(args: argparse.Namespace) -> int:
    from ..api import App
    from ..authorizer import Authorizer
    from ..eventbus import EventBus
    from ..publishers import TrustCache
    from ..reindex import Reindexer
    from ..s3http import S3Reader
    from ..ssm import SsmReader
    from ..ui import Gate, UiApp
    from ..upload import Uploader

    if args.dist is not None and not args.dist.is_dir():
        raise CommandError(f"--dist {args.dist}: not a directory")
    if not 0 <= args.auth_ttl <= 3600:
        raise CommandError("--auth-ttl must be 0 to 3600 seconds")
    if args.event_bus is not None:
        if args.bucket is not None:
            raise CommandError("--event-bus needs the embedded S3: leave out --bucket")
        try:
            event_bus(args.event_bus)
        except ConfigError as error:
            raise CommandError(f"--event-bus: {error}") from None
    embedded: EmbeddedS3 | None = None
    bucket = args.bucket or LOCAL_BUCKET
    _check_exposure(args, bucket)
    settings = _settings(args, bucket)
    try:
        args.users_path = users_path(args.users_path)
    except ConfigError as error:
        raise CommandError(f"--users-path: {error}") from None
    api, upload, authorizer, mint, ui = Deferred(), Deferred(), Deferred(), Deferred(), Deferred()
    guarded = {"upload": upload, "authorizer": authorizer, "mint": mint} if args.auth else {}
    try:
        with _listening(args, api=api, ui=ui, **guarded) as server:
            _tls(args, server)
            if args.bucket is None:
                try:
                    embedded = EmbeddedS3()
                except MissingMoto as error:
                    raise CommandError(str(error)) from None
                embedded.start(bucket)
                storage = embedded.storage(bucket)
                reader = embedded.reader(bucket)
            else:
                storage = bucket_storage(bucket)
                reader = S3Reader.from_env(bucket)
            api.handler = App(settings, reader, _proxy(settings, reader, storage, embedded))
            ui.handler = UiApp(UiSettings(settings), reader)
            if args.auth:
                fallback = settings.fallback_index_url
                upload.handler = Uploader(UploadSettings(bucket, True, fallback), storage)
                parameters = embedded.parameters() if embedded else SsmReader.from_env()
                # The embedded SSM has no quota: a user added while it serves works
                # within a second, as the printed `user add` line promises.
                if embedded is not None:
                    auth_settings = AuthSettings(args.users_path, cache_seconds=0)
                else:
                    auth_settings = AuthSettings(args.users_path)
                trust = TrustCache(reader, auth_settings.cache_seconds)
                authorizer.handler = Authorizer(auth_settings, parameters, trust=trust)
                mint.handler = _minter(args, bucket, storage, embedded is not None)
                # The pages check the login themselves, with the authorizer's code.
                ui.handler = UiApp(
                    UiSettings(settings, auth_settings), reader, Gate(authorizer.handler)
                )
            token = _local_user(args, embedded)
            if args.dist is not None:
                keys = seed(storage, args.dist)
                print(f"uploaded {len(keys)} distributions from {args.dist}")
            events_queue = ""
            if embedded is not None:
                # serve always serves the pages for people: their list follows each event.
                reindexer = Reindexer(ReindexSettings(bucket, catalog=True), storage)
                if args.event_bus is not None:
                    arn, events_queue = embedded.watch_events(bucket, args.event_bus)
                    bus = EventBus(embedded.client("events"), arn, bucket)
                    reindexer = Reindexer(ReindexSettings(bucket, arn, True), storage, bus)
                embedded.deliver(reindexer)
                embedded.start_delivery(reindexer)
            _print_hints(args, server, bucket, embedded, token, events_queue)
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


def _minter(args: argparse.Namespace, bucket: str, storage: Storage, embedded: bool) -> Handler:
    """Trusted publishing's handler; on the embedded S3, with a signing key."""
    from ..mint import Minter
    from ..publishers import TRUST_FILE, Trust, check_issuer, render, rotated

    try:
        issuers = tuple(check_issuer(url) for url in args.oidc_issuer)
        settings = MintSettings(bucket, args.oidc_audience, issuers, cache_seconds=0)
    except (ValueError, ConfigError) as error:
        raise CommandError(f"--oidc-issuer: {error}") from None
    if embedded:
        storage.put(TRUST_FILE, render(rotated(Trust())), "application/json")
    return Minter(settings, storage)


def _proxy(
    settings: ApiSettings, reader: S3Reader, storage: Storage, embedded: EmbeddedS3 | None
) -> Proxy | None:
    """The proxy mode's upstream, keeping copies in a thread. The embedded S3 costs
    nothing to read: there, a change of the policy is seen within a second."""
    if not settings.proxy:
        return None
    from ..keeper import ThreadKeeper
    from ..proxy import Proxy
    from ..upstreampolicy import POLICY_TTL

    keeper = ThreadKeeper(storage.client, storage.bucket)
    return Proxy(settings, reader, keeper, policy_ttl=1 if embedded else POLICY_TTL)


def _local_user(args: argparse.Namespace, embedded: EmbeddedS3 | None) -> str:
    """With --auth on the embedded S3: a user "local" who may upload, so that the
    printed pip and twine lines work on a machine without AWS credentials."""
    if not args.auth or embedded is None:
        return ""
    from .userstore import UserStore

    store = UserStore(embedded.client("ssm"), args.users_path)
    return store.add("local", frozenset({"read", "upload"}))


def _print_hints(
    args: argparse.Namespace,
    server: ThreadingHTTPServer,
    bucket: str,
    embedded: EmbeddedS3 | None,
    token: str,
    events_queue: str = "",
) -> None:
    host, port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if args.tls_cert else "http"
    origin = f"{scheme}://{shown}:{port}"
    where = f"s3://{bucket}" + (f" (embedded S3 at {embedded.url})" if embedded else "")
    print(f"serving {where} at {origin}/simple/")
    print(f"  browse: {origin}/ui/" + ("  (log in as a user of the index)" if args.auth else ""))
    credentials = f"local:{token}@" if token else ("NAME:TOKEN@" if args.auth else "")
    print(
        f"  pip install --index-url {scheme}://{credentials}{origin.partition('://')[2]}/simple/"
        " <package>"
    )
    if args.auth:
        login = f"-u local -p {token}" if token else "-u NAME -p TOKEN"
        print(f"  twine upload --repository-url {origin}/legacy/ {login} dist/*")
        env = f"{embedded.environment} " if embedded else ""
        print(
            f"  users: {env}serverless-pypi user add NAME [--upload] --path {args.users_path}"
            f" --bucket {bucket}"
        )
        print(
            f"  trusted publishing (audience {args.oidc_audience}): {env}serverless-pypi "
            f"publisher add PROJECT --github OWNER/REPO --workflow FILE --bucket {bucket}"
        )
    if embedded is not None:
        print(f"  upload: {embedded.environment} aws s3 cp FILE s3://{bucket}/PROJECT/")
    if args.upstream_mode == "proxy":
        env = f"{embedded.environment} " if embedded else ""
        print(
            f"  proxy of {args.fallback} (cooldown {args.cooldown or '7d'}): "
            f"{env}serverless-pypi upstream deny|allow SPEC --bucket {bucket}"
        )
    if embedded is not None and events_queue:
        print(
            f"  events on {args.event_bus}: {embedded.environment} aws sqs receive-message "
            f"--endpoint-url {embedded.url} --queue-url {events_queue} "
            "--max-number-of-messages 10"
        )
