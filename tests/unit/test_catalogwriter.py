"""The catalog as the reindexer keeps it (moto S3): every listed project, each
write after an event, a rebuild's whole list."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_pypi import catalog, cli
from serverless_pypi.batch import rebuild
from serverless_pypi.catalogwriter import update_catalog
from serverless_pypi.storage import Storage
from tests.builders import wheel_bytes
from tests.conftest import BUCKET
from tests.moto_bucket import notify, put


def stored(s3: Any) -> dict[str, catalog.Card]:
    body = s3.get_object(Bucket=BUCKET, Key=catalog.CATALOG)["Body"].read()
    found = catalog.decode(body)
    assert found is not None
    return found


def test_each_event_puts_its_projects_card_in_the_catalog(s3: Any) -> None:
    """As the module deploys the reindexer with the pages for people (UI_CATALOG)."""
    for name, version, summary in (("alpha", "1.0", "First"), ("beta", "0.1", "Second")):
        filename, data = wheel_bytes(name, version, summary=summary)
        put(s3, f"{name}/{filename}", data)
        notify(("ObjectCreated:Put", f"{name}/{filename}"), catalog=True)
    filename, data = wheel_bytes("alpha", "1.1", summary="First, newer")
    put(s3, f"alpha/{filename}", data)
    notify(("ObjectCreated:Put", f"alpha/{filename}"), catalog=True)
    cards = stored(s3)
    assert list(cards) == ["alpha", "beta"]
    assert (cards["alpha"]["version"], cards["alpha"]["summary"]) == ("1.1", "First, newer")
    assert cards["beta"]["summary"] == "Second" and cards["beta"]["uploaded"]
    s3.delete_object(Bucket=BUCKET, Key=f"beta/{wheel_bytes('beta', '0.1')[0]}")
    notify(("ObjectRemoved:Delete", f"beta/{wheel_bytes('beta', '0.1')[0]}"), catalog=True)
    assert list(stored(s3)) == ["alpha"]


def test_a_quarantined_project_leaves_the_list_and_comes_back(
    s3: Any, storage: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    filename, data = wheel_bytes("delta", "1.0")
    put(s3, f"delta/{filename}", data)
    notify(("ObjectCreated:Put", f"delta/{filename}"), catalog=True)
    assert list(stored(s3)) == ["delta"]
    assert cli.main(["quarantine", "delta", "--reason", "bad", "--bucket", BUCKET]) == 0
    assert stored(s3) == {}
    assert cli.main(["deprecate", "delta", "--bucket", BUCKET]) == 0
    assert list(stored(s3)) == ["delta"]
    capsys.readouterr()


def test_a_rebuild_writes_the_whole_catalog(s3: Any, storage: Storage) -> None:
    filename, data = wheel_bytes("gamma", "3.0")
    put(s3, f"gamma/{filename}", data)
    update_catalog(storage, {"stale": {"name": "stale", "version": "1"}})
    rebuild(storage)
    assert list(stored(s3)) == ["gamma"]


def test_an_unchanged_catalog_is_not_written_again(s3: Any, storage: Storage) -> None:
    card: catalog.Card = {"name": "x", "version": "1"}
    assert update_catalog(storage, {"x": card})
    assert not update_catalog(storage, {"x": card})
    assert update_catalog(storage, {"x": None})
    assert stored(s3) == {}


def test_without_the_pages_an_event_leaves_the_catalog_alone(s3: Any) -> None:
    filename, data = wheel_bytes("alpha", "1.0")
    put(s3, f"alpha/{filename}", data)
    notify(("ObjectCreated:Put", f"alpha/{filename}"))
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=catalog.CATALOG)
