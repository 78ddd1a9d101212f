"""Where things live in the bucket.

Distributions sit one level deep, in a folder per project, as the older
serverless PyPI module lays them out (``my-pkg/my_pkg-1.0.tar.gz``), with
``index.html`` at the root. Everything the indexer derives lives under
``.serverless-pypi/``: no project name can start with a dot, and the bucket
notification only fires for distribution and marker suffixes. The users file
of the authorizer is the one other object at the root.
"""

from __future__ import annotations

from .names import DISTRIBUTION_SUFFIXES

DERIVED_PREFIX = ".serverless-pypi/"
ROOT_JSON = DERIVED_PREFIX + "index.json"
ROOT_HTML = "index.html"
MANIFEST_PREFIX = DERIVED_PREFIX + "projects/"
METADATA_PREFIX = DERIVED_PREFIX + "metadata/"
# A project's status (PEP 792) as the command line set it, beside its manifest's
# copy: what a rebuild of a project whose manifest is gone reads back.
STATUS_PREFIX = DERIVED_PREFIX + "status/"

# Every user's record in one object (``userfile.py``), at the root, where no
# function's role but the authorizer's may read it and none may write it (iam.tf).
USERS_FILE = ".serverless-pypi-users.json"

# ``<file>.yanked`` beside a distribution yanks it (PEP 592); the object's
# text, if any, is the reason. Deleting the marker un-yanks the file.
YANK_SUFFIX = ".yanked"
# Who put a distribution there: the user the upload route's authorizer named, in
# the object's metadata (``x-amz-meta-uploaded-by``); "-" when it named nobody; for
# an upload with a trusted publisher's token, the publisher's identity
# (``publishers.identity``: "oidc iss=... repo=... workflow=... ref=... sha=...").
# A file put straight into the bucket (``aws s3 cp``) has none.
UPLOADED_BY = "uploaded-by"
# The suffixes the bucket notification must report.
NOTIFY_SUFFIXES = (*DISTRIBUTION_SUFFIXES, YANK_SUFFIX)

# The routes the module adds to the caller's HTTP API (main.tf's route_keys):
# every method on every path. tests/e2e/test_terraform_layout.py checks that these,
# DERIVED_PREFIX, ROOT_HTML and NOTIFY_SUFFIXES match main.tf's locals.
ROUTE_METHODS = ("GET", "HEAD")
ROUTE_PATHS = ("/", "/simple", "/simple/{proxy+}")
ROUTE_KEYS = tuple(f"{method} {path}" for method in ROUTE_METHODS for path in ROUTE_PATHS)
# With the index at the API's root (index_at_api_root), the older serverless PyPI
# module's route keys, so that its users' routes are updated in place (main.tf's
# root_route_keys).
ROOT_ROUTE_PATHS = ("/", "/{package+}")
ROOT_ROUTE_KEYS = tuple(f"{method} {path}" for method in ROUTE_METHODS for path in ROOT_ROUTE_PATHS)
# PyPI's legacy upload API (twine, uv publish), on its own function: the module
# adds these routes (main.tf's upload_route_keys) only behind an authorizer.
UPLOAD_ROUTE_KEYS = ("POST /legacy", "POST /legacy/")
# Trusted publishing's routes (mint.py), at the host's root and without the
# authorizer (main.tf's oidc_route_keys, with trusted_publishing on).
OIDC_ROUTE_KEYS = (
    "GET /_/oidc/audience",
    "POST /_/oidc/mint-token",
    "POST /_/oidc/burn-token",
    "GET /.well-known/pytp",
)
# The pages for people (``ui.py``), on their own function and without the
# authorizer: it answers a missing login with the challenge that makes a browser
# prompt (main.tf's ui_route_keys).
UI_ROUTE_PATHS = ("/ui", "/ui/{proxy+}")
UI_ROUTE_KEYS = tuple(f"{method} {path}" for method in ROUTE_METHODS for path in UI_ROUTE_PATHS)


def manifest_key(project: str) -> str:
    return f"{MANIFEST_PREFIX}{project}.json"


def status_key(project: str) -> str:
    return f"{STATUS_PREFIX}{project}.json"


def metadata_key(project: str, filename: str) -> str:
    return f"{METADATA_PREFIX}{project}/{filename}.metadata"


def split_key(key: str) -> tuple[str, str] | None:
    """``(folder, filename)`` for a key one level deep outside the derived area."""
    folder, slash, filename = key.partition("/")
    if not slash or not folder or not filename or "/" in filename:
        return None
    if key.startswith(DERIVED_PREFIX):
        return None
    return folder, filename


# The proxy mode (``upstream_mode = "proxy"``): the upstream's pages as last fetched,
# the policy lists, and the kept copies of upstream files, all under one prefix
# that the api may write only the pages of (iam.tf), and the keeper only the files of.
UPSTREAM_PREFIX = DERIVED_PREFIX + "upstream/"
UPSTREAM_PAGES = UPSTREAM_PREFIX + "pages/"
UPSTREAM_FILES = UPSTREAM_PREFIX + "files/"
UPSTREAM_POLICY = UPSTREAM_PREFIX + "policy.json"


def upstream_page_key(project: str) -> str:
    return f"{UPSTREAM_PAGES}{project}.json.gz"


def upstream_file_key(project: str, filename: str) -> str:
    return f"{UPSTREAM_FILES}{project}/{filename}"
