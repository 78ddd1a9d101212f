#!/usr/bin/env python3
"""The generated parts of the docs: docs/reference.md's inputs and outputs tables,
from variables.tf, outputs.tf and compat.tf.

    python scripts/doc_tables.py      # `make docs`: rewrite the tables

tests/unit/test_docs.py checks, with the same parser and renderer, that the docs are in
step (and the hand-kept parts against what they describe). The .tf files are read with
a small line-based parser (terraform fmt layout: top-level attributes of a block
indented by two spaces), not with terraform.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REFERENCE = ROOT / "docs" / "reference.md"
EXAMPLE = ROOT / "examples" / "basic" / "main.tf"
USAGE = ("<!-- BEGIN_USAGE -->", "<!-- END_USAGE -->")
TF_DOCS = ("<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->")
REGISTRY_SOURCE = re.compile(r'^\s*source\s*=\s*"[\w-]+/[\w-]+/aws"\s*$', re.MULTILINE)
VERSION_PIN = re.compile(r'^\s*version\s*=\s*"~>\s*\d+(\.\d+)*"\s*$', re.MULTILINE)

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BLOCK = re.compile(r'^(variable|output|module) "([^"]+)" \{\s*$')
_ATTRIBUTE = re.compile(r"^  ([A-Za-z_][\w-]*)\s*=\s*(.*)$")
_NESTED_BLOCK = re.compile(r"^  [A-Za-z_][\w-]*( \"[^\"]*\")* \{\s*$")


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    description: str
    default: str | None  # HCL source text; None when the variable is required

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Output:
    name: str
    description: str


# -- reading .tf files -------------------------------------------------------------


def _depth(text: str) -> int:
    """How many brackets ``text`` leaves open (strings do not count)."""
    bare = _STRING.sub('""', text)
    return sum(bare.count(c) for c in "([{") - sum(bare.count(c) for c in ")]}")


def blocks(text: str, kind: str) -> Iterator[tuple[str, list[str]]]:
    """``(label, body lines)`` of each top-level ``<kind> "<label>" { ... }`` block."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _BLOCK.match(lines[index])
        index += 1
        if not match:
            continue
        body = []
        while index < len(lines) and lines[index].rstrip() != "}":
            body.append(lines[index])
            index += 1
        index += 1
        if match.group(1) == kind:
            yield match.group(2), body


def attributes(body: list[str]) -> dict[str, str]:
    """The block's own attributes (not those of nested blocks), as HCL source text."""
    found: dict[str, str] = {}
    index = 0
    while index < len(body):
        line = body[index]
        index += 1
        if _NESTED_BLOCK.match(line):
            while index < len(body) and body[index].rstrip() != "  }":
                index += 1
            index += 1
            continue
        match = _ATTRIBUTE.match(line)
        if not match:
            continue
        value = match.group(2).strip()
        while _depth(value) > 0 and index < len(body):
            value += " " + body[index].strip()
            index += 1
        found[match.group(1)] = value
    return found


def _string(literal: str) -> str:
    value = json.loads(literal)
    assert isinstance(value, str), literal
    return value


def read_variables(path: Path = ROOT / "variables.tf") -> list[Variable]:
    result = []
    for name, body in blocks(path.read_text(), "variable"):
        found = attributes(body)
        result.append(
            Variable(name, found["type"], _string(found["description"]), found.get("default"))
        )
    return result


def read_outputs(path: Path = ROOT / "outputs.tf") -> list[Output]:
    return [
        Output(name, _string(attributes(body)["description"]))
        for name, body in blocks(path.read_text(), "output")
    ]


# -- the README --------------------------------------------------------------------


def section(text: str, markers: tuple[str, str]) -> str:
    begin, end = markers
    assert text.count(begin) == 1, f"one {begin} is needed"
    assert text.count(end) == 1, f"one {end} is needed"
    start, stop = text.index(begin) + len(begin), text.index(end)
    assert start < stop, f"{begin} must come before {end}"
    return text[start:stop]


def _escape(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _code(value: str) -> str:
    return f"`{_escape(value)}`"


def render_tables(variables: list[Variable], outputs: list[Output]) -> str:
    """The inputs and outputs tables (the TF_DOCS section of docs/reference.md)."""
    lines = [
        "",
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "| --- | --- | --- | --- | :---: |",
    ]
    for variable in variables:
        default = "n/a" if variable.default is None else _code(variable.default)
        required = "yes" if variable.required else "no"
        lines.append(
            f"| {_code(variable.name)} | {_escape(variable.description)} "
            f"| {_code(variable.type)} | {default} | {required} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    lines += [f"| {_code(out.name)} | {_escape(out.description)} |" for out in outputs]
    return "\n".join([*lines, ""])


def _cells(row: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", row.strip())[1:-1]
    return [cell.strip().replace("\\|", "|") for cell in cells]


def uncode(cell: str) -> str:
    return cell[1:-1] if len(cell) >= 2 and cell[0] == cell[-1] == "`" else cell


def table(text: str, heading: str) -> list[list[str]]:
    """The rows (cells, header and rule excluded) of the first table under ``## <heading>``
    (before the next heading)."""
    match = re.search(rf"^#+ {heading}\s*$", text, re.MULTILINE)
    assert match, f"no {heading} heading"
    rows: list[list[str]] = []
    for line in text[match.end() :].strip("\n").splitlines():
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows or line.startswith("#"):
            break
    return rows[2:]


def module_block(text: str) -> list[str]:
    """The lines of the first ``module "..." { }`` block, without source and version."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r'^module "[^"]+" \{', line))
    stop = next(i for i in range(start, len(lines)) if lines[i].rstrip() == "}")
    block = lines[start : stop + 1]
    return [line for line in block if not re.match(r"^\s*(source|version)\s*=", line)]


# The older module's inputs and outputs (compat.tf) come last in the tables.
COMPAT = ROOT / "compat.tf"


def module_variables() -> list[Variable]:
    """Every input of the module: variables.tf's, then the older module's."""
    return read_variables() + read_variables(COMPAT)


def module_outputs() -> list[Output]:
    return read_outputs() + read_outputs(COMPAT)


def write_reference() -> None:
    """Rewrite docs/reference.md's TF_DOCS section from variables.tf, outputs.tf and compat.tf."""
    text = REFERENCE.read_text()
    section(text, TF_DOCS)
    start = text.index(TF_DOCS[0]) + len(TF_DOCS[0])
    stop = text.index(TF_DOCS[1])
    tables = render_tables(module_variables(), module_outputs())
    REFERENCE.write_text(text[:start] + tables + text[stop:])


if __name__ == "__main__":
    write_reference()
    sys.exit(0)
