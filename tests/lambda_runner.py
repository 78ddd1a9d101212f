"""Run a deployed Lambda handler on this machine, from the deployed package.

    python tests/lambda_runner.py serve  PACKAGE_DIR HANDLER  # serve HTTP, print the URL
    python tests/lambda_runner.py invoke PACKAGE_DIR HANDLER  # event on stdin, result out

PACKAGE_DIR is the unpacked package Terraform deployed and HANDLER its
handler string (``module.function``); the environment is the function's, as
Lambda sets it. moto cannot run Lambda code, so the end-to-end tests run it
here: the code, handler and settings are exactly the deployed ones.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from pathlib import Path
from typing import Any


def load(package_dir: str, handler: str) -> Any:
    sys.path.insert(0, package_dir)
    module_name, _, function = handler.rpartition(".")
    module = importlib.import_module(module_name)
    origin = Path(str(module.__file__)).resolve()
    if Path(package_dir).resolve() not in origin.parents:
        raise SystemExit(f"{module_name} came from {origin}, not from {package_dir}")
    return getattr(module, function)


def main() -> int:
    command, package_dir, handler_name = sys.argv[1:4]
    handler = load(package_dir, handler_name)
    if command == "invoke":
        result = handler(json.load(sys.stdin), None)
        print(json.dumps(result))
        return 0
    from serverless_pypi.server import make_server  # the deployed package's own

    server = make_server("127.0.0.1", 0, handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
