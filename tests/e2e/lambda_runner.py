"""Run a deployed Lambda handler on this machine, from the deployed package.

    python tests/e2e/lambda_runner.py serve  PACKAGE_DIR HANDLER [ROUTES BASE [AUTHORIZER TTL
                                             [UPLOAD_HANDLER UPLOAD_ROUTES]]]
    python tests/e2e/lambda_runner.py invoke PACKAGE_DIR HANDLER  # event on stdin, result out

PACKAGE_DIR is the unpacked package Terraform deployed and HANDLER its
handler string (``module.function``); the environment is the function's, as
Lambda sets it. moto cannot run Lambda code, so the end-to-end tests run it
here: the code, handler and settings are exactly the deployed ones.

With ROUTES (the deployed route keys, as JSON) and BASE (an API mapping's base
path, like ``/pypi``), the server stands in for API Gateway behind a custom
domain (``serverless_pypi.local.stand_in``, the deployed package's own): a
request outside BASE or matching no route is API Gateway's own 404, and the
handler sees the route key and path parameters of the route that matched, with
BASE left in ``rawPath``. With AUTHORIZER (the deployed authorizer's handler
string) and TTL (its result cache, seconds), a request that a route takes first
goes through API Gateway's part of a Lambda authorizer: 401 without an
``Authorization`` header, the authorizer's verdict cached per header and route
key, 403 when it refuses. With UPLOAD_HANDLER and UPLOAD_ROUTES (the upload
integration's handler and route keys), those routes go to it. serve prints the
server's URL on its first line.
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
    from serverless_pypi.local import stand_in  # the deployed package's own
    from serverless_pypi.local.server import make_server

    if len(sys.argv) > 4:
        route_keys, base = json.loads(sys.argv[4]), sys.argv[5]
        authorizer = load(package_dir, sys.argv[6]) if len(sys.argv) > 6 else None
        ttl = int(sys.argv[7]) if len(sys.argv) > 7 else 0
        upload = load(package_dir, sys.argv[8]) if len(sys.argv) > 8 else None
        upload_keys = json.loads(sys.argv[9]) if len(sys.argv) > 9 else []
        server = stand_in(
            handler,
            upload=upload,
            authorizer=authorizer,
            ttl=ttl,
            route_keys=route_keys,
            upload_route_keys=upload_keys,
            base=base,
        )
    else:
        server = make_server("127.0.0.1", 0, handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
