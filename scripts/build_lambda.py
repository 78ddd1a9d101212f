#!/usr/bin/env python3
"""Build the Lambda package from src/ reproducibly: the same sources give the same bytes.

    python scripts/build_lambda.py            # write package/serverless-pypi.zip
    python scripts/build_lambda.py --check    # fail if the committed package is stale

Entries are sorted, dated 1980-01-01, mode 0644 and stored uncompressed, so
the bytes depend on nothing but the sources (not on the zlib build either).
The whole package goes in (the local server too, so that the end-to-end
tests can run the deployed code behind it); the Lambda runtime provides boto3.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "serverless_pypi"
PACKAGE = ROOT / "package" / "serverless-pypi.zip"
_DATE = (1980, 1, 1, 0, 0, 0)


def sources(source: Path = SOURCE) -> list[Path]:
    return sorted(path for path in source.rglob("*.py") if "__pycache__" not in path.parts)


def build(source: Path = SOURCE) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sources(source):
            name = "serverless_pypi/" + path.relative_to(source).as_posix()
            info = zipfile.ZipInfo(name, _DATE)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed package")
    parser.add_argument("--output", type=Path, default=PACKAGE)
    args = parser.parse_args(argv)
    built = build()
    digest = hashlib.sha256(built).hexdigest()
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else b""
        if current != built:
            print(f"{args.output} is stale: run `make package` and commit it", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date (sha256 {digest})")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(built)
    print(f"wrote {args.output} ({len(built)} bytes, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
