"""``python -m serverless_pypi``: the command line, as ``serverless-pypi`` (every command)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
