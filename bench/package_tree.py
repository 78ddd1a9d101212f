"""The Lambda package as a function runs it: extracted, and read-only (Lambda's
/var/task), so that Python compiles any module whose bytecode is not packaged at
every cold start. ``bytecode=False`` is the package as it was before it carried
``__pycache__`` (sources only)."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "package" / "serverless-pypi.zip"
# Fresh interpreters run with this environment and `-B`: no bytecode written.
READ_ONLY = {"PYTHONDONTWRITEBYTECODE": "1"}


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
