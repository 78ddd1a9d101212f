"""Cold start: the api's import and first request in fresh interpreters, from the
package as Lambda runs it (with its bytecode, and without it as before), against
``import boto3`` (which the api does not load)."""

from __future__ import annotations

import json
import statistics
from typing import Any

from bucket import BUCKET, fresh_bucket, seed_project
from package_tree import fresh_interpreter, package_tree
from pages import api_event
from tests.clients import PIP_ACCEPT

_COLD = """
import json, sys, time
started = time.perf_counter()
from serverless_pypi import api
imported = time.perf_counter()
event = json.loads(sys.argv[1])
result = api.handler(event, None)
answered = time.perf_counter()
assert result["statusCode"] == 200, result
print(json.dumps({"import_ms": (imported - started) * 1000,
                  "first_ms": (answered - imported) * 1000,
                  "boto3_loaded": "boto3" in sys.modules}))
"""
_BOTO3 = """
import json, time
started = time.perf_counter()
import boto3
imported = time.perf_counter()
boto3.client("s3", region_name="us-east-1")
made = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "client_ms": (made - imported) * 1000}))
"""


def bench_cold_start(moto_url: str, runs: int) -> dict[str, Any]:
    """Medians over ``runs`` fresh interpreters of each kind."""
    fresh_bucket()
    seed_project(100)
    env = {
        "S3_BUCKET": BUCKET,
        "AWS_ENDPOINT_URL": moto_url,
        "LINK_MODE": "redirect",
    }
    event = json.dumps(api_event(PIP_ACCEPT))

    ours, sources_only, boto = [], [], []
    with package_tree(bytecode=True) as packaged, package_tree(bytecode=False) as bare:
        for _ in range(runs):
            ours.append(fresh_interpreter(packaged, env, _COLD, event))
            sources_only.append(fresh_interpreter(bare, env, _COLD, event))
            boto.append(fresh_interpreter(None, env, _BOTO3))
    total = statistics.median(run["import_ms"] + run["first_ms"] for run in ours)
    boto3_import = statistics.median(run["import_ms"] for run in boto)
    return {
        "runs": runs,
        "api_import_ms": round(statistics.median(run["import_ms"] for run in ours), 1),
        "api_first_request_ms": round(statistics.median(run["first_ms"] for run in ours), 1),
        "api_cold_total_ms": round(total, 1),
        "api_cold_total_without_bytecode_ms": round(
            statistics.median(run["import_ms"] + run["first_ms"] for run in sources_only), 1
        ),
        "boto3_import_ms": round(boto3_import, 1),
        "boto3_s3_client_ms": round(statistics.median(run["client_ms"] for run in boto), 1),
        "api_over_boto3_import_ms": round(total - boto3_import, 1),
        "api_loads_boto3": any(run["boto3_loaded"] for run in ours),
    }
