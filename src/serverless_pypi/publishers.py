"""Trusted publishers: which CI identity may publish which project, and the keys
that sign the upload tokens minted for them.

Both live in one object at the bucket's root beside the users file
(``TRUST_FILE``), written by ``serverless-pypi publisher`` (``cli/publisher.py``)
with conditional writes, read whole (one GET, then 304s) by the mint function and
the authorizer on their users' cache period: no call per request.

    {"v": 1,
     "publishers": [{"project": "my-pkg", "issuer": "https://token.actions.githubusercontent.com",
                     "claims": {"repository": "org/repo", "environment": "release"},
                     "refs": {"job_workflow_ref": "org/repo/.github/workflows/release.yml"}}],
     "keys": [{"kid": "5f0c...", "secret": "<64 hex>", "created": 1760000000}]}

A publisher matches a token when every one of its ``claims`` equals the token's
claim exactly (case and all: ``org/repo`` never matches ``org/Repo`` or
``org/repo-evil``), and each of its ``refs`` is the token's claim up to an
``@`` (``<path>@<git ref>``: the workflow file, at whatever ref it ran). The
project may not exist yet (a pending publisher, as on PyPI). The first key signs;
the others (the one before the last rotation) still verify.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from .logs import get_logger
from .manifest import MAX_UPLOADER
from .names import is_valid_name, normalize
from .objects import AccessDenied, AwsError, Blob, NotModified

logger = get_logger(__name__)

TRUST_FILE = ".serverless-pypi-trust.json"
VERSION = 1
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITLAB_ISSUER = "https://gitlab.com"
DEFAULT_ISSUERS = (GITHUB_ISSUER, GITLAB_ISSUER)
MAX_PUBLISHERS = 1000
MAX_CLAIM = 512
KEEP_KEYS = 2  # the signing key and the one it replaced
_CLAIM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}", re.ASCII)
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+", re.ASCII)
# What the uploaded-by value of a published file may hold unescaped.
_SAFE = "/:@.+=~-_"
MAX_IDENTITY = MAX_UPLOADER  # what the manifest keeps of an uploader


class PublisherError(ValueError):
    """A publisher or trust file that cannot be used."""


@dataclass(frozen=True, slots=True)
class Publisher:
    project: str
    issuer: str
    claims: Mapping[str, str] = field(default_factory=dict)
    refs: Mapping[str, str] = field(default_factory=dict)

    def mismatch(self, claims: Mapping[str, Any]) -> str | None:
        """The first of this publisher's claims that ``claims`` does not match
        (its name), or None when they all match."""
        for name, expected in sorted(self.claims.items()):
            if claims.get(name) != expected:
                return name
        for name, path in sorted(self.refs.items()):
            value = claims.get(name)
            if not isinstance(value, str) or not value.startswith(path + "@"):
                return name
        return None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"project": self.project, "issuer": self.issuer}
        data["claims"] = dict(sorted(self.claims.items()))
        if self.refs:
            data["refs"] = dict(sorted(self.refs.items()))
        return data

    def describe(self) -> str:
        parts = [f"{name}={value}" for name, value in sorted(self.claims.items())]
        parts += [f"{name}={value}@*" for name, value in sorted(self.refs.items())]
        return f"{self.project}: {self.issuer} {' '.join(parts)}"


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    secret: bytes
    created: int

    @classmethod
    def new(cls, now: float | None = None) -> SigningKey:
        return cls(secrets.token_hex(8), secrets.token_bytes(32), int(now or time.time()))

    def to_json(self) -> dict[str, Any]:
        return {"kid": self.kid, "secret": self.secret.hex(), "created": self.created}


@dataclass(frozen=True, slots=True)
class Trust:
    """The trust file's content."""

    publishers: tuple[Publisher, ...] = ()
    keys: tuple[SigningKey, ...] = ()

    def for_issuer(self, issuer: str) -> list[Publisher]:
        return [p for p in self.publishers if p.issuer == issuer]

    def key(self, kid: str) -> SigningKey | None:
        return next((key for key in self.keys if key.kid == kid), None)

    def issuers(self) -> frozenset[str]:
        return frozenset(p.issuer for p in self.publishers)


def _check_value(name: str, value: str) -> str:
    if not _CLAIM_NAME.fullmatch(name):
        raise PublisherError(f"{name[:64]!r} is not a claim name")
    if not value or len(value) > MAX_CLAIM or not value.isprintable():
        raise PublisherError(f"the claim {name} needs a printable value of 1 to {MAX_CLAIM} chars")
    return value


def publisher(
    project: str, issuer: str, claims: Mapping[str, str], refs: Mapping[str, str] | None = None
) -> Publisher:
    """A checked publisher: a valid project name (normalized), an https issuer (or
    http on loopback), at least one claim."""
    if not is_valid_name(project):
        raise PublisherError(f"{project[:100]!r} is not a valid project name")
    check_issuer(issuer)
    refs = dict(refs or {})
    if not claims and not refs:
        raise PublisherError("a publisher needs at least one claim to match")
    checked = {name: _check_value(name, value) for name, value in claims.items()}
    checked_refs = {name: _check_value(name, value) for name, value in refs.items()}
    return Publisher(normalize(project), issuer, checked, checked_refs)


def check_issuer(issuer: str) -> str:
    """An issuer URL as tokens carry it: https (http only on loopback, for tests
    and ``serve``), no query, fragment or trailing slash."""
    loopback = re.match(r"http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(/|$)", issuer)
    if not (issuer.startswith("https://") or loopback):
        raise PublisherError(f"issuer {issuer[:100]!r}: an https URL")
    if len(issuer) > 255 or any(c in issuer for c in "?# \\") or issuer.endswith("/"):
        raise PublisherError(f"issuer {issuer[:100]!r}: no query, fragment or trailing slash")
    if not issuer.isascii() or not issuer.isprintable():
        raise PublisherError(f"issuer {issuer[:100]!r}: printable ASCII")
    return issuer


def github(
    project: str, repository: str, workflow: str, environment: str | None = None
) -> Publisher:
    """GitHub Actions: the repository, the workflow file under .github/workflows/
    (``job_workflow_ref``, the workflow that runs the job), the environment if
    given."""
    if not _REPOSITORY.fullmatch(repository) or repository.count("/") != 1:
        raise PublisherError(f"--github {repository[:100]!r}: OWNER/REPO")
    if "/" in workflow or not workflow.endswith((".yml", ".yaml")):
        raise PublisherError(f"--workflow {workflow[:100]!r}: a file name such as release.yml")
    claims = {"repository": repository}
    if environment:
        claims["environment"] = environment
    ref = {"job_workflow_ref": f"{repository}/.github/workflows/{workflow}"}
    return publisher(project, GITHUB_ISSUER, claims, ref)


def gitlab(
    project: str,
    path: str,
    workflow: str,
    environment: str | None = None,
    issuer: str = GITLAB_ISSUER,
) -> Publisher:
    """GitLab CI: the project's path (``project_path``), its CI file
    (``ci_config_ref_uri``: ``<host>/<path>//<file>@<ref>``), the environment if
    given; gitlab.com unless ``issuer`` is a self-hosted instance."""
    if not _REPOSITORY.fullmatch(path):
        raise PublisherError(f"--gitlab {path[:100]!r}: NAMESPACE/PROJECT")
    if not workflow or workflow.startswith("/"):
        raise PublisherError(
            f"--workflow {workflow[:100]!r}: the CI file's path, e.g. .gitlab-ci.yml"
        )
    host = check_issuer(issuer).split("://", 1)[1]
    claims = {"project_path": path}
    if environment:
        claims["environment"] = environment
    return publisher(project, issuer, claims, {"ci_config_ref_uri": f"{host}/{path}//{workflow}"})


def _publisher_of(data: Any) -> Publisher:
    if not isinstance(data, dict):
        raise PublisherError("a publisher is not an object")
    claims, refs = data.get("claims") or {}, data.get("refs") or {}
    if not isinstance(claims, dict) or not isinstance(refs, dict):
        raise PublisherError("a publisher's claims are not objects")
    return publisher(
        str(data.get("project")),
        str(data.get("issuer")),
        {str(k): str(v) for k, v in claims.items()},
        {str(k): str(v) for k, v in refs.items()},
    )


def _key_of(data: Any) -> SigningKey:
    if not isinstance(data, dict):
        raise PublisherError("a key is not an object")
    try:
        secret = bytes.fromhex(str(data["secret"]))
        key = SigningKey(str(data["kid"]), secret, int(data["created"]))
    except (KeyError, ValueError, TypeError):
        raise PublisherError("a key has no kid, secret or created") from None
    if len(key.secret) < 32 or not re.fullmatch(r"[0-9a-f]{16}", key.kid):
        raise PublisherError("a key is shorter than 256 bits or its kid is not 16 hex digits")
    return key


def parse(body: bytes) -> Trust:
    try:
        document = json.loads(body)
    except ValueError:
        raise PublisherError("the trust file is not JSON") from None
    if not isinstance(document, dict) or document.get("v") != VERSION:
        raise PublisherError(f"the trust file is not a version {VERSION} trust file")
    publishers, keys = document.get("publishers", []), document.get("keys", [])
    if not isinstance(publishers, list) or not isinstance(keys, list):
        raise PublisherError("the trust file's publishers or keys are not lists")
    return Trust(
        tuple(_publisher_of(p) for p in publishers[:MAX_PUBLISHERS]),
        tuple(_key_of(k) for k in keys),
    )


def render(trust: Trust) -> bytes:
    document = {
        "v": VERSION,
        "publishers": [p.to_json() for p in trust.publishers],
        "keys": [k.to_json() for k in trust.keys],
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=False).encode()


def added(trust: Trust, new: Publisher) -> Trust:
    if new in trust.publishers:
        return trust
    if len(trust.publishers) >= MAX_PUBLISHERS:
        raise PublisherError(f"at most {MAX_PUBLISHERS} publishers")
    return Trust((*trust.publishers, new), trust.keys)


def removed(trust: Trust, projects: Iterable[str]) -> Trust:
    names = {normalize(project) for project in projects}
    return Trust(tuple(p for p in trust.publishers if p.project not in names), trust.keys)


def rotated(trust: Trust, now: float | None = None) -> Trust:
    """A new signing key first; the one it replaces still verifies, older ones go."""
    return Trust(trust.publishers, (SigningKey.new(now), *trust.keys)[:KEEP_KEYS])


def _escape(value: object) -> str:
    return quote(str(value), safe=_SAFE)[:300]


def identity(issuer: str, claims: Mapping[str, Any]) -> str:
    """Who published, as a file's ``uploaded-by`` metadata records it: one line of
    printable ASCII, space-separated ``key=value`` fields (values percent-encoded
    outside letters, digits and ``/:@.+=~-_``), at most MAX_IDENTITY characters:

        oidc iss=<issuer> repo=<repository> workflow=<workflow ref> ref=<git ref> sha=<commit>

    ``repo`` is GitHub's ``repository``, GitLab's ``project_path``, else ``sub``;
    ``workflow`` GitHub's ``job_workflow_ref`` or GitLab's ``ci_config_ref_uri``.
    A field the token does not carry is left out."""
    repo = claims.get("repository") or claims.get("project_path") or claims.get("sub")
    workflow = claims.get("job_workflow_ref") or claims.get("ci_config_ref_uri")
    fields = [("iss", issuer), ("repo", repo), ("workflow", workflow)]
    fields += [("ref", claims.get("ref")), ("sha", claims.get("sha"))]
    text = " ".join(f"{name}={_escape(value)}" for name, value in fields if value)
    return f"oidc {text}"[:MAX_IDENTITY]


class ObjectGetter(Protocol):
    def get(self, key: str, if_none_match: str | None = None) -> Blob | NotModified | None: ...


class TrustCache:
    """The trust file, read again (one conditional GET) when the last read is
    ``seconds`` old, or sooner (at most once a second) when asked for a key it
    does not hold: a key rotated in since. A file that cannot be read or used
    leaves the last one read in use (the error is logged); none at all is an
    empty Trust: no publisher, no key."""

    def __init__(
        self, objects: ObjectGetter, seconds: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.objects, self.clock = objects, clock
        self.seconds = max(seconds, 1)
        self._etag: str | None = None
        self._trust = Trust()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def current(self, *, fresh: bool = False) -> Trust:
        """The trust file; ``fresh``: read again unless read within the last second."""
        now = self.clock()
        due = now - self._read_at >= (1 if fresh else self.seconds)
        if due and self._lock.acquire(blocking=False):
            try:
                self._read(now)
            finally:
                self._lock.release()
        return self._trust

    def key(self, kid: str) -> SigningKey | None:
        """The key ``kid``, read again once when it is not (yet) known."""
        found = self.current().key(kid)
        return found if found is not None else self.current(fresh=True).key(kid)

    def _read(self, now: float) -> None:
        self._read_at = now
        try:
            found = self.objects.get(TRUST_FILE, self._etag)
        except AccessDenied:  # a missing key, to a role that may not list the bucket
            found = None
        except AwsError as error:
            logger.error("the trust file could not be read: %s", error)
            return
        if isinstance(found, NotModified):
            return
        if found is None:
            self._etag, self._trust = None, Trust()
            return
        try:
            self._trust = parse(found.body)
        except PublisherError as error:
            logger.error("the trust file cannot be used: %s", error)
            return
        self._etag = found.etag
