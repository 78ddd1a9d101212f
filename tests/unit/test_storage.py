"""Every S3 call in one place: what a read may ask of an object."""

from __future__ import annotations

from typing import Any

import pytest

from serverless_pypi.storage import Storage
from tests.conftest import BUCKET
from tests.moto_bucket import Requests


@pytest.mark.parametrize(("start", "end"), [(0, -1), (5, 4), (-1, 10)])
def test_a_range_s3_would_ignore_is_never_sent(
    s3: Any, storage: Storage, start: int, end: int
) -> None:
    """S3 answers a Range it cannot parse (``bytes=0--1``) with the whole object."""
    etag = s3.put_object(Bucket=BUCKET, Key="my-pkg/big.whl", Body=b"x" * 4096)["ETag"]
    requests = Requests(storage)
    with pytest.raises(ValueError, match="no bytes"):
        storage.get_range("my-pkg/big.whl", start, end, etag)
    assert requests.take() == []
