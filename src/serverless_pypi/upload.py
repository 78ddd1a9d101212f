"""Lambda handler for ``POST /legacy/``: PyPI's legacy upload API, as twine,
``uv publish``, Poetry, PDM and Hatch speak it.

Every check comes before the one write: the form, the user's upload right and
its project patterns, the filename against the ``name`` and ``version`` fields
(and, when the index refuses them, no local version),
the digests against the bytes, the file's absence in every spelling of its
folder, the name's owner (a name new to the bucket that the fallback index has
must be claimed first), and the archive's own metadata (read within the
inspection budget). An upload token minted for a trusted publisher (``mint.py``)
is checked again here: refused once expired or burned, whatever API Gateway
cached. The write is conditional (If-None-Match: *), and records
who uploaded the file in its metadata (``layout.UPLOADED_BY``): a file, once
there, is never replaced, not even by a racing upload; an existing filename is a
409 with "File already exists", which ``twine upload --skip-existing`` and ``uv
publish`` take for "skip it". The S3 notification then indexes the file as for
any other upload.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import io
import logging
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from . import manifest as manifests
from . import manifeststore, metadata, multipart
from .apigw import BadRequest, Request, Response
from .archives import Budget, Limits
from .auth import EVERY_PROJECT, may_upload
from .config import ConfigError, UploadSettings, log_level
from .layout import UPLOADED_BY
from .logs import get_logger, printable
from .names import (
    MAX_VERSION,
    TooManyFolders,
    is_valid_name,
    is_valid_version,
    normalize,
    parse_filename,
    version_key,
)
from .objects import AwsError, PreconditionFailed
from .publishers import MAX_IDENTITY
from .storage import Storage, make_client
from .uploadtoken import PUBLISHER, burn_key

logger = get_logger(__name__)

# The largest distribution the route takes. Lambda takes a synchronous request of
# at most 6,291,456 bytes (the whole event JSON), and API Gateway sends a binary
# body base64-encoded (4/3 of its size): 4,400,000 bytes of file, with up to
# 256 KiB of other form fields and the event around them, stay under it
# (tests/unit/test_upload.py builds that event and measures it).
MAX_FILE = 4_400_000
MAX_FIELDS = 256 * 1024
LARGE_FILES = (
    "for larger files use `serverless-pypi upload DIST --bucket BUCKET` or "
    "`aws s3 cp DIST s3://BUCKET/PROJECT/`"
)
_FILETYPES = {"bdist_wheel": "wheel", "sdist": "sdist"}
# Kept back from the invocation's time for the checks after the inspection and
# the PUT of up to 4.4 MB; an inspection always gets at least MIN_INSPECTION.
WRITE_SECONDS = 2.0
MIN_INSPECTION = 0.5
# Asking the fallback index about a name: each connection or read within this
# many seconds, at most this many redirects.
FALLBACK_TIMEOUT = 3.0
FALLBACK_REDIRECTS = 2
# Characters of the user's name kept in the file's metadata (as printable ASCII).
MAX_UPLOADER = 128


class Rejected(Exception):
    """The upload is refused; the status and message say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Uploader:
    """The upload handler, made from its settings and a Storage."""

    def __init__(self, settings: UploadSettings, storage: Storage) -> None:
        self.settings = settings
        self.storage = storage

    @classmethod
    def from_env(cls) -> Uploader:
        settings = UploadSettings.from_env()
        return cls(settings, Storage(make_client(), settings.bucket))

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        started = time.perf_counter()
        key = "-"
        user = publisher = None
        try:
            request = _request(event)
            user = request.user
            publisher = request.authorizer.get(PUBLISHER)
            key = self.accept(request, context)
            response = Response.text(200, f"OK: {key}")
        except Rejected as error:
            response = Response.text(error.status, str(error))
        except multipart.FormError as error:
            response = Response.text(400, f"Bad form: {error}")
        except AwsError as error:
            logger.error("storage error: %s", error)
            response = Response.text(502, "The index storage did not answer; try again.")
        logger.info(
            "upload %s by %s: %d %.1fms",
            key,
            publisher or user or "-",
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        return response.to_event(None)

    def accept(self, request: Request, context: Any = None) -> str:
        """Check the upload and write it; the key it was written to."""
        if self.settings.require_upload_right and "upload" not in request.rights:
            raise Rejected(403, "This user may not upload.")
        if PUBLISHER in request.authorizer:
            self._check_minted(request)
        if len(request.body) > MAX_FILE + MAX_FIELDS:
            raise Rejected(413, f"The file is larger than {MAX_FILE} bytes; {LARGE_FILES}.")
        form = multipart.parse(request.body, request.header("content-type"))
        fields = _fields(form)
        content = form.get("content") or []
        if len(content) != 1 or not content[0].filename:
            raise Rejected(400, "The form has no file in its 'content' field.")
        filename, data = content[0].filename, content[0].data
        project, dist_version = _check_names(fields, filename)
        if self.settings.refuse_local_versions and "+" in dist_version:
            public = dist_version.partition("+")[0]
            raise Rejected(
                400,
                f"Local versions such as {dist_version} are refused by this index, as by "
                f"PyPI: a requirement {project}=={public} would take {filename} for the "
                f"release {public}.",
            )
        if self.settings.require_upload_right:
            _check_project_right(request, project)
        _check_digests(fields, data)
        self._check_status(project)
        folders = self._folders(project)
        self._check_absent(folders, project, filename)
        if not folders:
            self._check_owner(project)
        _check_metadata(filename, data, project, dist_version, _limits(context))
        key = f"{project}/{filename}"
        uploader = printable(request.user, limit=MAX_UPLOADER) if request.user else "-"
        if PUBLISHER in request.authorizer:  # the publisher's identity: printable already
            uploader = printable(request.authorizer[PUBLISHER], limit=MAX_IDENTITY)
        try:
            self.storage.put(
                key,
                data,
                "application/octet-stream",
                if_absent=True,
                metadata={UPLOADED_BY: uploader},
                checksum_sha256=hashlib.sha256(data).digest(),
            )
        except PreconditionFailed:
            raise Rejected(409, f"File already exists: {filename}") from None
        return key

    def _check_minted(self, request: Request) -> None:
        """A trusted publisher's upload token (``uploadtoken.py``): 403 once it has
        expired, even when API Gateway kept the authorizer's verdict longer, or once
        it was burned (one HEAD of its marker)."""
        expires = str(request.authorizer.get("expires", ""))
        if not expires.isdigit() or time.time() >= int(expires):
            raise Rejected(403, "The upload token has expired; mint another.")
        if self.storage.head(burn_key(str(request.authorizer.get("jti", "")))) is not None:
            raise Rejected(403, "The upload token was burned after its upload; mint another.")

    def _check_status(self, project: str) -> None:
        """403 for an archived or quarantined project (PEP 792: no new uploads),
        as its manifest's metadata says: one HEAD."""
        status = manifeststore.status_of(self.storage, project)
        if status in (manifests.ARCHIVED, manifests.QUARANTINED):
            activate = f"serverless-pypi activate {project} --bucket {self.settings.bucket}"
            raise Rejected(
                403,
                f"{project} is {status} in this index: uploads of it are refused. "
                f"To accept them again: {activate}",
            )

    def _folders(self, project: str) -> list[str]:
        """The folders of the bucket spelled like ``project`` that hold anything."""
        try:
            return self.storage.spelled_folders(project)
        except TooManyFolders:
            raise Rejected(
                400, f"The bucket holds too many folders spelled like {project} to check it."
            ) from None

    def _check_absent(self, folders: list[str], project: str, filename: str) -> None:
        """409 when the file is in a folder spelled otherwise (``My.Pkg/``): the
        conditional PUT only guards the normalized folder's key."""
        for folder in folders:
            if folder != project and self.storage.head(f"{folder}/{filename}") is not None:
                raise Rejected(409, f"File already exists: {filename} (in {folder}/)")

    def _check_owner(self, project: str) -> None:
        """Refuse a name that the bucket has never held (no folder, no manifest) and
        that the fallback index has: the upload would take that public name over for
        everyone who installs from this index. ``serverless-pypi claim`` writes the
        name's manifest first, on purpose. When the fallback index does not answer
        (in time), it is refused too: a retry or a claim costs less than a takeover."""
        fallback = self.settings.fallback_index_url
        if fallback is None or manifeststore.exists(self.storage, project):
            return
        found = fallback_has(fallback, project)
        logger.info("%s is new to the bucket; on the fallback index: %s", project, found)
        claim = f"serverless-pypi claim {project} --bucket {self.settings.bucket}"
        if found is None:
            raise Rejected(
                503,
                f"{project} is new to this index and the fallback index ({fallback}) did not "
                f"say whether it has a project of that name; try again, or claim the name "
                f"for this index first: {claim}",
            )
        if found:
            raise Rejected(
                403,
                f"{project} is a project of the fallback index ({fallback}) and has never been "
                f"in this index: an upload would put this index's files in its place for "
                f"everyone who installs from here. If this index is to own the name, claim it "
                f"first: {claim}",
            )


class _FewRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = FALLBACK_REDIRECTS


def fallback_has(index_url: str, project: str, timeout: float = FALLBACK_TIMEOUT) -> bool | None:
    """Whether the index at ``index_url`` has ``project`` (normalized): its PEP 503
    page answers 200 (True) or 404 / 410 (False). None when that cannot be told:
    any other answer, too many redirects, no answer within ``timeout``. HTTP(S) only."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        _FewRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    request = urllib.request.Request(
        f"{index_url}{quote(project)}/",
        headers={"Accept": "text/html", "User-Agent": "serverless-pypi-upload"},
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            return True if response.status == 200 else None
    except urllib.error.HTTPError as error:
        return False if error.code in (404, 410) else None
    except (OSError, ValueError, http.client.HTTPException):
        return None


def _check_project_right(request: Request, project: str) -> None:
    """403 unless the upload right's patterns (in the authorizer's context) match
    ``project``. None at all: an authorizer from before project patterns, whose
    upload right covered every project."""
    patterns = request.projects
    if patterns is None:
        patterns = (EVERY_PROJECT,)
    if not may_upload(patterns, project):
        covered = ", ".join(patterns) or "no project"
        raise Rejected(
            403, f"{request.user or 'This user'} may not upload to {project} (only to: {covered})."
        )


def _request(event: Any) -> Request:
    try:
        return Request.from_event(event)
    except BadRequest as error:
        raise Rejected(400, f"Bad request: {error}.") from None


def _fields(form: dict[str, list[multipart.Part]]) -> dict[str, str]:
    """The single-valued text fields the checks use."""
    wanted = (":action", "protocol_version", "name", "version", "filetype")
    found = {}
    for name in (*wanted, "sha256_digest", "md5_digest", "blake2_256_digest"):
        parts = form.get(name) or []
        if parts:
            found[name] = parts[0].text.strip()
    if found.get(":action") != "file_upload":
        raise Rejected(400, "Only ':action=file_upload' is supported.")
    if found.get("protocol_version", "1") != "1":
        raise Rejected(400, "Only protocol_version 1 is supported.")
    for name in ("name", "version", "filetype"):
        if not found.get(name):
            raise Rejected(400, f"The form has no '{name}' field.")
    return found


def _check_names(fields: dict[str, str], filename: str) -> tuple[str, str]:
    name, version = fields["name"], fields["version"]
    if not is_valid_name(name):
        raise Rejected(400, f"Invalid project name: {name[:100]!r}.")
    if not is_valid_version(version):
        raise Rejected(
            400,
            f"Invalid version: {version[:100]!r} is not a PEP 440 version of at most "
            f"{MAX_VERSION} characters.",
        )
    project = normalize(name)
    dist = parse_filename(filename, project)
    if dist is None:
        raise Rejected(400, f"{filename!r} is not a wheel or sdist filename of {project}.")
    if not is_valid_version(dist.version):
        raise Rejected(400, f"{filename!r} does not name a PEP 440 version.")
    if version_key(dist.version) != version_key(version):
        raise Rejected(400, f"{filename!r} is not version {version} of {project}.")
    kind = _FILETYPES.get(fields["filetype"])
    if kind != dist.kind:
        raise Rejected(400, f"filetype {fields['filetype']!r} does not match {filename!r}.")
    return project, dist.version


def _check_digests(fields: dict[str, str], data: bytes) -> None:
    if len(data) > MAX_FILE:
        raise Rejected(413, f"The file is larger than {MAX_FILE} bytes; {LARGE_FILES}.")
    checks = {
        "sha256_digest": lambda: hashlib.sha256(data).hexdigest(),
        "md5_digest": lambda: hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "blake2_256_digest": lambda: hashlib.blake2b(data, digest_size=32).hexdigest(),
    }
    given = [name for name in checks if fields.get(name)]
    if not given:
        raise Rejected(400, "The form has no sha256_digest (nor md5_digest) of the file.")
    for name in given:
        if fields[name].lower() != checks[name]():
            raise Rejected(400, f"{name} does not match the file's bytes.")


def _limits(context: Any) -> Limits:
    """The inspection limits: the usual, or what the invocation has left once the
    write is paid for (a short lambda_upload_timeout shortens them)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return Limits()
    return Limits().within(remaining() / 1000 - WRITE_SECONDS, MIN_INSPECTION)


def _check_metadata(filename: str, data: bytes, project: str, version: str, limits: Limits) -> None:
    try:
        found = metadata.from_distribution(io.BytesIO(data), filename, project, Budget(limits))
        parsed = metadata.parse(found)
    except metadata.MetadataError as error:
        raise Rejected(400, f"{filename} has no readable core metadata: {error}") from None
    if normalize(parsed.name) != project or version_key(parsed.version) != version_key(version):
        raise Rejected(
            400, f"{filename}'s metadata names {parsed.name} {parsed.version}, not {project}."
        )


@functools.cache
def default_uploader() -> Uploader:
    """The Uploader of this container, made once from Lambda's environment."""
    logging.getLogger("serverless_pypi").setLevel(log_level())
    return Uploader.from_env()


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """The Lambda entry point."""
    try:
        uploader = default_uploader()
    except ConfigError as error:
        logger.error("configuration: %s", error)
        return Response.text(500, "The upload route is misconfigured.").to_event(None)
    return uploader(event, context)
