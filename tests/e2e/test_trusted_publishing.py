"""Trusted publishing with unmodified clients: `uv publish --trusted-publishing
always`, in an environment that looks like GitHub Actions to it, against `serve
--auth --tls-cert ... --oidc-issuer <the stand-in>`; pip installs the result, and
twine uploads with `-u __token__ -p <minted token>`."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.builders import wheel_bytes, write
from tests.clients import isolated_env, pip_installed, serve, venv
from tests.oidc_issuer import Issuer, running, tls_files

BIN = Path(sys.executable).parent
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
WORKFLOW_REF = "octo/widgets/.github/workflows/release.yml@refs/tags/v1.0"


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running() as found:
        yield found


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "serverless_pypi", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def twine(origin: str, ca: Path, token: str, wheel: Path) -> subprocess.CompletedProcess[str]:
    """twine with ``-u __token__ -p <token>``, trusting the test CA."""
    return subprocess.run(
        [
            str(BIN / "twine"),
            *("upload", "--non-interactive", "--disable-progress-bar"),
            *("--repository-url", f"{origin}/legacy/", "--cert", str(ca)),
            *("-u", "__token__", "-p", token, str(wheel)),
        ],
        env=isolated_env({name: str(ca) for name in CA_VARIABLES}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_uv_publishes_from_ci_without_a_secret_and_pip_installs_it(
    tmp_path: Path, issuer: Issuer
) -> None:
    ca, cert, key = tls_files(tmp_path)
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = write(dist, wheel_bytes("widgets", "1.0"))
    options = ("--auth", "--tls-cert", str(cert), "--tls-key", str(key))
    with serve(*options, "--oidc-issuer", issuer.url) as served:
        origin = re.search(r"at (https://127\.0\.0\.1:\d+)/simple/", served.output)
        login = re.search(r"-u local -p (\S+)", served.output)
        assert origin and login, served.output
        aws, bucket = served.aws
        # A pending publisher: the project does not exist yet.
        added = cli(
            aws,
            *("publisher", "add", "widgets", "--bucket", bucket, "--issuer", issuer.url),
            *("--claim", "repository=octo/widgets", "--claim", f"job_workflow_ref={WORKFLOW_REF}"),
        )
        assert "added widgets" in added.stdout
        listed = json.loads(cli(aws, "publisher", "list", "--json", "--bucket", bucket).stdout)
        assert listed["publishers"][0]["claims"]["repository"] == "octo/widgets"

        published = subprocess.run(
            [
                str(BIN / "uv"),
                "publish",
                "--trusted-publishing",
                "always",
                "--publish-url",
                f"{origin[1]}/legacy/",
                str(wheel),
            ],
            env=isolated_env({**issuer.actions_env, "SSL_CERT_FILE": str(ca)}),  # uv's way
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert published.returncode == 0, published.stdout + published.stderr
        # uv asked the stand-in for a token with the index's audience.
        assert any("audience=serverless-pypi" in path for path in issuer.requests)

        s3 = boto3.client(
            "s3", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1",
            aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
        )  # fmt: skip
        head = s3.head_object(Bucket=bucket, Key=f"widgets/{wheel.name}")
        assert head["Metadata"]["uploaded-by"].startswith(
            f"oidc iss={issuer.url} repo=octo/widgets workflow={WORKFLOW_REF} ref=refs/tags/v1.0"
        )

        python = venv(tmp_path / "venv")
        index = f"https://local:{login[1]}@{origin[1].partition('://')[2]}/simple/"
        # requests (pip's, twine's) prefers REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE,
        # which this machine sets, to --cert.
        trust_ca = {name: str(ca) for name in CA_VARIABLES}
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "--index-url", index, "widgets"],
            env=isolated_env(trust_ca),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert pip_installed(python)["widgets"] == "1.0"

        # twine, with a token minted by hand: -u __token__ -p <token>.
        context = ssl.create_default_context(cafile=str(ca))
        body = json.dumps({"token": issuer.github_token("serverless-pypi")}).encode()
        request = urllib.request.Request(f"{origin[1]}/_/oidc/mint-token", data=body)
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            minted = json.loads(answer.read())
        second = write(dist, wheel_bytes("widgets", "1.1"))
        uploaded = twine(origin[1], ca, minted["token"], second)
        assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
        # The same token on another project's name: refused.
        refused = twine(origin[1], ca, minted["token"], write(dist, wheel_bytes("gadgets", "1.0")))
        assert refused.returncode != 0 and "403" in refused.stdout + refused.stderr
        log = served.stop()
    assert "POST /_/oidc/mint-token minted" in log
    assert "POST /_/oidc/burn-token burned" in log  # uv burns its token after the upload
    assert minted["token"] not in log and login[1] not in log
