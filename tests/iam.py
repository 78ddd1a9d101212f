"""A small IAM policy evaluator, for the operators and condition keys the module's
policies use: an explicit Deny wins, then an Allow, else the request is refused.
moto does not evaluate policies; tests/e2e/test_policies.py and test_calls.py do
with this."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any

Context = Mapping[str, str]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, value: str) -> bool:
    # IAM wildcards: * any run, ? one character, matched case for case: resource
    # ARNs (S3 keys) are case-sensitive.
    return any(fnmatch.fnmatchcase(value, str(p)) for p in _list(patterns))


def _matches_action(patterns: Any, action: str) -> bool:
    # Service prefixes and action names are not case-sensitive ("s3:getobject"
    # is "s3:GetObject").
    return _matches([str(p).lower() for p in _list(patterns)], action.lower())


def _condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Context) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if operator == "Null":
                # "true": the key must be absent from the request; "false": present.
                if (actual is None) != (str(expected).lower() == "true"):
                    return False
                continue
            if actual is None:
                return False
            values = [str(item) for item in _list(expected)]
            if operator in ("ArnEquals", "StringEquals"):
                ok = actual in values
            elif operator in ("ArnLike", "StringLike"):
                ok = any(fnmatch.fnmatchcase(actual, value) for value in values)
            elif operator == "Bool":
                ok = actual.lower() in [value.lower() for value in values]
            else:
                raise AssertionError(f"the evaluator does not know {operator}")
            if not ok:
                return False
    return True


def _applies(
    statement: Mapping[str, Any], action: str, resource: str, context: Context, principal: str
) -> bool:
    if "Principal" in statement:
        wanted = statement["Principal"]
        if wanted != "*":
            candidates = [v for values in wanted.values() for v in _list(values)]
            if principal not in candidates and "*" not in candidates:
                return False
    if not _matches_action(statement["Action"], action):
        return False
    if "Resource" in statement and not _matches(statement["Resource"], resource):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(
    document: str | Mapping[str, Any],
    action: str,
    resource: str,
    context: Context,
    principal: str = "",
) -> bool:
    policy = json.loads(document) if isinstance(document, str) else document
    statements = _list(policy["Statement"])
    hits = [s for s in statements if _applies(s, action, resource, context, principal)]
    if any(s["Effect"] == "Deny" for s in hits):
        return False
    return any(s["Effect"] == "Allow" for s in hits)


def denied_explicitly(document: str, action: str, resource: str, context: Context) -> bool:
    statements = _list(json.loads(document)["Statement"])
    return any(
        s["Effect"] == "Deny" and _applies(s, action, resource, context, "anyone")
        for s in statements
    )
