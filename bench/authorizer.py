"""The authorizer: its cold start and first decision, and a warm decision with the
users read again (one GET of the users file: a 304) and remembered (no request), on
moto; what reading a users file of 1,000 users costs. bench/flood.py measures it
under attack."""

from __future__ import annotations

import base64
import itertools
import json
import statistics
from typing import Any

import boto3
from package_tree import fresh_interpreter, package_tree
from timing import median_ms

from serverless_pypi import auth, authorizer, userfile
from serverless_pypi.cli.userstore import UserStore
from serverless_pypi.config import AuthSettings
from serverless_pypi.layout import ROUTE_KEYS
from serverless_pypi.local.apigw_events import authorizer_event, build_event
from serverless_pypi.s3http import S3Reader
from serverless_pypi.ssm import SsmReader
from serverless_pypi.storage import Storage

PATH = "/bench/users/"
BUCKET = "bench-users"

_COLD = """
import json, sys, time
started = time.perf_counter()
from serverless_pypi import authorizer
imported = time.perf_counter()
answer = authorizer.handler(json.loads(sys.argv[1]), None)
decided = time.perf_counter()
assert answer["isAuthorized"] is True, answer
print(json.dumps({"import_ms": (imported - started) * 1000,
                  "first_ms": (decided - imported) * 1000,
                  "boto3_loaded": "boto3" in sys.modules}))
"""


def _event(user: str, secret: str) -> dict[str, Any]:
    """The REQUEST event API Gateway sends the authorizer for a page."""
    header = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    request = build_event("GET", "/simple/x/", [("Authorization", header)], route_keys=ROUTE_KEYS)
    return authorizer_event(request, [header, request["routeKey"]])


def bench_authorizer(moto_url: str, runs: int) -> dict[str, Any]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    store = UserStore(boto3.client("ssm"), PATH, bucket=Storage(s3, BUCKET))
    token = store.add("reader", frozenset({"read"}))
    store.add("pat", frozenset({"read"}), password="correct horse battery staple")
    env = {"AWS_ENDPOINT_URL": moto_url, "USERS_PATH": PATH, "S3_BUCKET": BUCKET}
    event = json.dumps(_event("reader", token))

    cold, sources_only = [], []
    with package_tree(bytecode=True) as packaged, package_tree(bytecode=False) as bare:
        for _ in range(runs):
            cold.append(fresh_interpreter(packaged, env, _COLD, event))
            sources_only.append(fresh_interpreter(bare, env, _COLD, event))
    reader = SsmReader("us-east-1", moto_url)
    objects = S3Reader(BUCKET, "us-east-1", moto_url)
    one_get = median_ms(lambda: objects.get(userfile.USERS_FILE), 25)
    ticks = itertools.count(step=authorizer.MIN_REFRESH_SECONDS)
    # A clock that moves a refresh period on at each look: the users are read again
    # for every decision, and no secret is remembered.
    settings = AuthSettings(PATH, 0, BUCKET)
    reading = authorizer.Authorizer(settings, reader, lambda: float(next(ticks)), objects=objects)
    cached = authorizer.Authorizer(AuthSettings(PATH, 3600, BUCKET), reader, objects=objects)
    token_event = _event("reader", token)
    password_event = _event("pat", "correct horse battery staple")

    def uncached(event: dict[str, Any]) -> dict[str, Any]:
        reading.secrets = authorizer.Secrets()
        return reading(event)

    return {
        "runs": runs,
        "cold_import_ms": round(statistics.median(run["import_ms"] for run in cold), 1),
        "cold_first_decision_ms": round(statistics.median(run["first_ms"] for run in cold), 1),
        "cold_total_ms": round(
            statistics.median(run["import_ms"] + run["first_ms"] for run in cold), 1
        ),
        "cold_total_without_bytecode_ms": round(
            statistics.median(run["import_ms"] + run["first_ms"] for run in sources_only), 1
        ),
        "loads_boto3": any(run["boto3_loaded"] for run in cold),
        "one_users_file_get_ms": round(one_get, 2),
        "read_1000_users_ms": round(_read_users(1000), 2),
        "warm_miss_ms": round(median_ms(lambda: uncached(token_event), 25), 2),
        "warm_hit_ms": round(median_ms(lambda: cached(token_event), 200), 3),
        "password_miss_ms": round(median_ms(lambda: uncached(password_event), 7), 1),
        "password_hit_ms": round(median_ms(lambda: cached(password_event), 200), 3),
    }


def _read_users(count: int) -> float:
    """Median ms to make the users of a users file of ``count`` token users: what a
    cold authorizer does with the file's bytes."""
    records = {
        f"user-{n}": auth.record(
            frozenset({"read"}), auth.hash_secret(auth.new_token(), slow=False)
        )
        for n in range(count)
    }
    body = userfile.render(PATH, records)
    return median_ms(lambda: authorizer.users_of(userfile.parse(body, PATH)), 9)
