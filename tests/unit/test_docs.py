"""README.md stays in sync with the module.

- The usage block (between ``<!-- BEGIN_USAGE -->`` and ``<!-- END_USAGE -->``) shows
  examples/basic's module block verbatim, with a registry source and a version pin.
- The inputs and outputs tables (between ``<!-- BEGIN_TF_DOCS -->`` and
  ``<!-- END_TF_DOCS -->``) list exactly the variables of variables.tf (name, type,
  default, required, description) and the outputs of outputs.tf (name, description).

`make docs` (scripts/readme_tables.py) rewrites the tables; this only checks.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from readme_tables import (
    EXAMPLE,
    README,
    REGISTRY_SOURCE,
    ROOT,
    TF_DOCS,
    USAGE,
    VERSION_PIN,
    module_block,
    module_outputs,
    module_variables,
    read_outputs,
    read_variables,
    section,
    table,
    uncode,
)

# -- the tests ---------------------------------------------------------------------


def test_parser_reads_every_block() -> None:
    variables_tf = (ROOT / "variables.tf").read_text()
    outputs_tf = (ROOT / "outputs.tf").read_text()
    variables = read_variables()
    assert len(variables) == len(re.findall(r'^variable "', variables_tf, re.MULTILINE))
    assert len(read_outputs()) == len(re.findall(r'^output "', outputs_tf, re.MULTILINE))
    assert {"api_id", "api_execution_arn", "s3_bucket_name"} == {
        variable.name for variable in variables if variable.required
    }


def test_markers_follow_the_intro() -> None:
    text = README.read_text()
    intro_end = text.index("\n\n", text.index("\n\n") + 2)  # title, then the intro paragraph
    for begin, end in (USAGE, TF_DOCS):
        section(text, (begin, end))
        assert text.index(begin) > intro_end


def test_usage_shows_the_example_with_a_registry_source() -> None:
    usage = section(README.read_text(), USAGE)
    shown = module_block(usage)
    assert shown[0].startswith("module "), "the usage block shows no module block"
    assert shown == module_block(EXAMPLE.read_text()), (
        "README's usage must show examples/basic's module block verbatim"
    )
    block = usage[usage.index(shown[0]) :]
    assert REGISTRY_SOURCE.search(block), "README's usage needs a registry source"
    assert VERSION_PIN.search(block), 'README\'s usage needs a version pin (version = "~> x.y")'
    assert '"../../"' not in usage


def test_inputs_table_lists_every_variable() -> None:
    rows = table(section(README.read_text(), TF_DOCS), "Inputs")
    shown = {
        uncode(name): (description, uncode(kind), uncode(default), required)
        for name, description, kind, default, required in rows
    }
    expected = {
        variable.name: (
            variable.description,
            variable.type,
            "n/a" if variable.default is None else variable.default,
            "yes" if variable.required else "no",
        )
        for variable in module_variables()
    }
    assert len(rows) == len(shown), "a variable is listed twice"
    assert shown == expected, "README is out of date: run `make docs`"


def test_outputs_table_lists_every_output() -> None:
    rows = table(section(README.read_text(), TF_DOCS), "Outputs")
    shown = {uncode(name): description for name, description in rows}
    expected = {output.name: output.description for output in module_outputs()}
    assert len(rows) == len(shown), "an output is listed twice"
    assert shown == expected, "README is out of date: run `make docs`"


def test_the_example_readme_lists_its_inputs_and_outputs() -> None:
    example = EXAMPLE.parent
    text = (example / "README.md").read_text()
    inputs = {uncode(row[0]): row[1] for row in table(text, "Inputs")}
    outputs = {uncode(row[0]): row[1] for row in table(text, "Outputs")}
    assert inputs == {v.name: v.description for v in read_variables(example / "main.tf")}
    assert outputs == {o.name: o.description for o in read_outputs(example / "outputs.tf")}
