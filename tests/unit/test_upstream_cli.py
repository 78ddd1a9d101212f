"""`serverless-pypi upstream deny|allow|unlist|show` on moto: the policy object they
write, and the conditional write that keeps two operators' entries."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_pypi import upstreampolicy
from serverless_pypi.cli import main
from serverless_pypi.cli import upstream as upstream_cli
from serverless_pypi.cli.common import CommandError
from serverless_pypi.layout import UPSTREAM_POLICY
from serverless_pypi.storage import Storage
from serverless_pypi.upstreampolicy import parse_spec
from tests.conftest import BUCKET


def stored(s3: Any) -> upstreampolicy.Policy:
    body = s3.get_object(Bucket=BUCKET, Key=UPSTREAM_POLICY)["Body"].read()
    return upstreampolicy.decode(body)


def test_the_commands_write_the_policy_the_api_reads(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["upstream", "deny", "Evil_Pkg>=2", "--reason", "malware", "--bucket", BUCKET]) == 0
    assert main(["upstream", "allow", "fix==1.2.1", "--bucket", BUCKET]) == 0
    policy = stored(s3)
    assert [(r.spec.text, r.reason) for r in policy.deny] == [("evil-pkg>=2", "malware")]
    assert policy.allowed("fix", "1.2.1") and not policy.allowed("fix", "1.2.2")
    capsys.readouterr()
    assert main(["upstream", "show", "--bucket", BUCKET]) == 0
    assert "evil-pkg>=2  # malware" in capsys.readouterr().out
    assert main(["upstream", "unlist", "evil-pkg>=2", "--bucket", BUCKET]) == 0
    assert stored(s3).deny == ()
    assert main(["upstream", "unlist", "evil-pkg>=2", "--bucket", BUCKET]) == 1
    assert main(["upstream", "deny", "<2", "--bucket", BUCKET]) == 1
    assert "does not start with a project name" in capsys.readouterr().err


def test_a_write_in_between_is_kept(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another operator's deny lands between our read and our write: our conditional
    write fails, and the retry keeps both."""
    real_read = upstream_cli.read
    raced = False

    def read_then_race(storage: Storage) -> tuple[upstreampolicy.Policy, str | None]:
        nonlocal raced
        found = real_read(storage)
        if not raced:
            raced = True
            upstream_cli.change(storage, "deny", [parse_spec("other")])
        return found

    upstream_cli.change(storage, "deny", [parse_spec("first")])
    monkeypatch.setattr(upstream_cli, "read", read_then_race)
    upstream_cli.change(storage, "deny", [parse_spec("mine")])
    monkeypatch.setattr(upstream_cli, "read", real_read)
    texts = [rule.spec.text for rule in upstream_cli.read(storage)[0].deny]
    assert sorted(texts) == ["first", "mine", "other"]


def test_an_unreadable_policy_is_refused_not_overwritten(s3: Any, storage: Storage) -> None:
    s3.put_object(Bucket=BUCKET, Key=UPSTREAM_POLICY, Body=b"{broken")
    with pytest.raises(CommandError, match="unreadable"):
        upstream_cli.change(storage, "deny", [parse_spec("evil")])
    assert s3.get_object(Bucket=BUCKET, Key=UPSTREAM_POLICY)["Body"].read() == b"{broken"
