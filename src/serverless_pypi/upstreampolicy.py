"""What the proxy lets through from the upstream index: deny and allow lists of SPECs.

A SPEC is a project name (``requests``), a version (``requests==2.32.3``) or a PEP 440
specifier set (``requests<2``, ``requests>=1,<1.4``). The lists live in one small
object (``layout.UPSTREAM_POLICY``), which ``serverless-pypi upstream`` writes and the
api reads with a short cache (``POLICY_TTL``)::

    {"schema": 1,
     "deny": [{"spec": "evil>=2", "reason": "malware, see ticket 12"}],
     "allow": [{"spec": "urgent-fix==1.2.1"}]}

A deny wins over an allow; an allow lets a file through despite the cooldown (and
despite a missing upload time). With ``allow_only`` (the module's
``upstream_allow_only``), a project with no allow entry at all is not proxied.

Specifier matching is PEP 440's for the operators ``==`` (with ``.*``), ``!=``,
``<``, ``<=``, ``>``, ``>=``, ``~=`` and ``===``, on ``names.version_key``'s ordering;
its one simplification: ``<V`` and ``>V`` do not exclude V's pre- and post-releases.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .manifest import yank_reason
from .names import is_valid_name, is_valid_version, normalize, version_key

SCHEMA = 1
POLICY_TTL = 30  # seconds a warm api reuses the policy it read: a change is seen within 60 s
MAX_ENTRIES = 10_000
MAX_REASON = 200
_CLAUSE = re.compile(r"\s*(===|==|!=|~=|<=|>=|<|>)\s*([A-Za-z0-9._+!*-]+)\s*", re.ASCII)
_RELEASE = re.compile(r"v?[0-9]+(?:\.[0-9]+)*", re.ASCII)
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", re.ASCII)


class SpecError(ValueError):
    """Not a SPEC."""


@dataclass(frozen=True, slots=True)
class Spec:
    """A parsed SPEC: the normalized project and its clauses (none: every version)."""

    text: str
    project: str
    clauses: tuple[tuple[str, str], ...] = ()

    def matches(self, project: str, version: str) -> bool:
        return project == self.project and all(_holds(op, v, version) for op, v in self.clauses)

    @property
    def whole_project(self) -> bool:
        return not self.clauses


def parse_spec(text: str) -> Spec:
    """``text`` as a Spec (SpecError when it is not one)."""
    match = _NAME.match(text)
    if match is None or not is_valid_name(match[1]):
        raise SpecError(f"{text!r} does not start with a project name")
    project = normalize(match[1])
    rest = text[match.end() :].strip()
    clauses: list[tuple[str, str]] = []
    if rest:
        for part in rest.split(","):
            clause = _CLAUSE.fullmatch(part)
            if clause is None:
                raise SpecError(f"{text!r}: {part.strip()!r} is not a version clause")
            op, version = clause[1], clause[2]
            plain = version.removesuffix(".*") if op in ("==", "!=") else version
            if op != "===" and not is_valid_version(plain):
                raise SpecError(f"{text!r}: {version!r} is not a PEP 440 version")
            if plain != version and not _RELEASE.fullmatch(plain):
                raise SpecError(f"{text!r}: a '.*' follows a release only (1.4.*)")
            if op == "~=" and "." not in plain:
                raise SpecError(f"{text!r}: ~= needs at least two release parts")
            clauses.append((op, version))
    canonical = project + ",".join(f"{op}{version}" for op, version in clauses)
    return Spec(canonical, project, tuple(clauses))


def _release_prefix(pattern: str, version: str) -> bool:
    """Whether ``version`` matches ``pattern`` (``1.4.*``): its release starts so."""
    wanted = version_key(pattern.removesuffix(".*"))
    found = version_key(version)
    if wanted[0] != 1 or found[0] != 1 or wanted[1] != found[1]:
        return False
    parts = [int(p) for p in pattern.removesuffix(".*").lstrip("v").split("!")[-1].split(".")]
    release = list(found[2]) + [0] * len(parts)
    return release[: len(parts)] == parts


def _holds(op: str, target: str, version: str) -> bool:
    if op == "===":
        return version.lower() == target.lower()
    if op in ("==", "!=") and target.endswith(".*"):
        return _release_prefix(target, version) == (op == "==")
    have, want = version_key(version), version_key(target)
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    if op == "<":
        return have < want
    if op == "<=":
        return have <= want
    if op == ">":
        return have > want
    if op == ">=":
        return have >= want
    # ~=: >= target and == the target's release prefix without its last part
    prefix = ".".join(target.split("!")[-1].split("+")[0].split(".")[:-1])
    return have >= want and _release_prefix(prefix + ".*", version)


@dataclass(frozen=True, slots=True)
class Rule:
    spec: Spec
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    deny: tuple[Rule, ...] = ()
    allow: tuple[Rule, ...] = ()
    allow_only: bool = False
    _allowed_projects: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def of(cls, deny: Iterable[Rule], allow: Iterable[Rule], allow_only: bool = False) -> Policy:
        allow = tuple(allow)
        projects = frozenset(rule.spec.project for rule in allow)
        return cls(tuple(deny), allow, allow_only, projects)

    def denied(self, project: str, version: str) -> Rule | None:
        return next((r for r in self.deny if r.spec.matches(project, version)), None)

    def allowed(self, project: str, version: str) -> bool:
        return any(r.spec.matches(project, version) for r in self.allow)

    def project_denied(self, project: str) -> Rule | None:
        """A deny of the whole project, or (allow-only) None-allowed: the page is empty."""
        return next(
            (r for r in self.deny if r.spec.project == project and r.spec.whole_project), None
        )

    def proxies(self, project: str) -> bool:
        """Whether ``project`` may be proxied at all (allow-only: an allow names it)."""
        return not self.allow_only or project in self._allowed_projects


EMPTY = Policy()


def _rules(value: Any) -> list[Rule]:
    rules: list[Rule] = []
    if not isinstance(value, list):
        return rules
    for item in value[:MAX_ENTRIES]:
        if not isinstance(item, Mapping) or not isinstance(item.get("spec"), str):
            continue
        try:
            spec = parse_spec(item["spec"])
        except SpecError:
            continue
        reason = item.get("reason")
        rules.append(Rule(spec, clean_reason(reason) if isinstance(reason, str) else ""))
    return rules


def clean_reason(text: str) -> str:
    return yank_reason(text)[:MAX_REASON].rstrip()


def decode(body: bytes | None, allow_only: bool = False) -> Policy:
    """The policy stored in ``body`` (None: no object). An unreadable object
    raises ValueError: the caller must not proxy on a policy it cannot read."""
    if body is None:
        return Policy.of((), (), allow_only)
    value = json.loads(body)
    if not isinstance(value, dict) or value.get("schema") != SCHEMA:
        raise ValueError("the upstream policy object is not of this schema")
    return Policy.of(_rules(value.get("deny")), _rules(value.get("allow")), allow_only)


def encode(policy: Policy) -> bytes:
    def rows(rules: tuple[Rule, ...]) -> list[dict[str, str]]:
        return [{"spec": r.spec.text, **({"reason": r.reason} if r.reason else {})} for r in rules]

    value = {"schema": SCHEMA, "deny": rows(policy.deny), "allow": rows(policy.allow)}
    return json.dumps(value, indent=1, ensure_ascii=False).encode()


def add(policy: Policy, kind: str, specs: Iterable[Spec], reason: str = "") -> Policy:
    """``policy`` with ``specs`` on its ``kind`` ("deny" or "allow") list, replacing
    the same SPEC's earlier entry."""
    new = {spec.text: Rule(spec, clean_reason(reason)) for spec in specs}
    current = policy.deny if kind == "deny" else policy.allow
    kept = [rule for rule in current if rule.spec.text not in new] + list(new.values())
    if kind == "deny":
        return Policy.of(kept, policy.allow, policy.allow_only)
    return Policy.of(policy.deny, kept, policy.allow_only)


def remove(policy: Policy, specs: Iterable[Spec]) -> tuple[Policy, int]:
    """``policy`` without ``specs`` on either list, and how many entries went."""
    gone = {spec.text for spec in specs}
    deny = [rule for rule in policy.deny if rule.spec.text not in gone]
    allow = [rule for rule in policy.allow if rule.spec.text not in gone]
    removed = len(policy.deny) + len(policy.allow) - len(deny) - len(allow)
    return Policy.of(deny, allow, policy.allow_only), removed
