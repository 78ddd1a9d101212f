"""The Lambda package as a function runs it: extracted, and read-only (Lambda's
/var/task), so that Python compiles any module whose bytecode is not packaged at
every cold start. ``bytecode=False`` is the package as it was before it carried
``__pycache__`` (sources only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent / "package" / "serverless-pypi.zip"


@contextmanager
def package_tree(bytecode: bool) -> Iterator[Path]:
    with (
        tempfile.TemporaryDirectory(prefix="lambda-task-") as task,
        zipfile.ZipFile(PACKAGE) as archive,
    ):
        for name in archive.namelist():
            if bytecode or not name.endswith(".pyc"):
                archive.extract(name, task)
        yield Path(task)


def fresh_interpreter(tree: Path | None, env: dict[str, str], *argv: str) -> dict[str, Any]:
    """The JSON that ``python -c ARGV`` prints, run with ``tree`` (or nothing) as its
    path and no bytecode written (``-B``), as on Lambda."""
    out = subprocess.run(
        [sys.executable, "-B", "-c", *argv],
        env={**os.environ, **env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tree or "")},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))
