"""The docs stay in step with what they describe.

Generated (``make docs``, scripts/doc_tables.py; this only checks):
- docs/reference.md's inputs and outputs tables list exactly the variables of
  variables.tf and compat.tf (name, type, default, required, description) and the
  outputs of outputs.tf and compat.tf.

Hand-kept, checked here:
- the README's usage block shows examples/basic's module block verbatim, with a
  registry source and a version pin;
- the README's "Where the code is" map names every module of the package;
- the handlers' environment table names what main.tf sets and config.py reads;
- the command table names every command, and every `serverless-pypi` line parses;
- docs/events.md's tables are the fields and detail-types of the events the code emits;
- every relative link resolves, anchors included, and every repository path named in
  the docs or in a comment exists.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from doc_tables import (
    EXAMPLE,
    README,
    REFERENCE,
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

from serverless_pypi import changeevents
from serverless_pypi.cli import parser

DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS, EXAMPLE.parent / "README.md"]
PACKAGE = ROOT / "src" / "serverless_pypi"

# -- generated ---------------------------------------------------------------------


def test_parser_reads_every_block() -> None:
    variables_tf = (ROOT / "variables.tf").read_text()
    outputs_tf = (ROOT / "outputs.tf").read_text()
    variables = read_variables()
    assert len(variables) == len(re.findall(r'^variable "', variables_tf, re.MULTILINE))
    assert len(read_outputs()) == len(re.findall(r'^output "', outputs_tf, re.MULTILINE))
    assert {"api_id", "api_execution_arn", "s3_bucket_name"} == {
        variable.name for variable in variables if variable.required
    }


def test_the_usage_follows_the_intro_and_the_tables_are_in_the_reference() -> None:
    text = README.read_text()
    intro_end = text.index("\n\n", text.index("\n\n") + 2)  # title, then the intro paragraph
    section(text, USAGE)
    assert text.index(USAGE[0]) > intro_end
    section(REFERENCE.read_text(), TF_DOCS)
    assert TF_DOCS[0] not in text


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
    rows = table(section(REFERENCE.read_text(), TF_DOCS), "Inputs")
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
    assert shown == expected, "docs/reference.md is out of date: run `make docs`"


def test_outputs_table_lists_every_output() -> None:
    rows = table(section(REFERENCE.read_text(), TF_DOCS), "Outputs")
    shown = {uncode(name): description for name, description in rows}
    expected = {output.name: output.description for output in module_outputs()}
    assert len(rows) == len(shown), "an output is listed twice"
    assert shown == expected, "docs/reference.md is out of date: run `make docs`"


def test_the_example_readme_lists_its_inputs_and_outputs() -> None:
    example = EXAMPLE.parent
    text = (example / "README.md").read_text()
    inputs = {uncode(row[0]): row[1] for row in table(text, "Inputs")}
    outputs = {uncode(row[0]): row[1] for row in table(text, "Outputs")}
    assert inputs == {v.name: v.description for v in read_variables(example / "main.tf")}
    assert outputs == {o.name: o.description for o in read_outputs(example / "outputs.tf")}


# -- hand-kept ---------------------------------------------------------------------


def test_the_code_map_names_every_module() -> None:
    text = (ROOT / "docs" / "development.md").read_text()
    start = text.index("## Where the code is")
    first = text.index("\n|", start)
    lines = []
    for line in text[first + 1 :].splitlines():
        if not line.startswith("|"):
            break
        lines.append(line)
    named = [
        name for line in lines[2:] for name in re.findall(r"`([\w/]+\.py)`", line.split("|")[1])
    ]
    modules = sorted(
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "__main__.py"
        and not (path.name == "__init__.py" and path.parent == PACKAGE)
    )
    assert len(named) == len(set(named)), "a module is named twice"
    assert sorted(named) == modules


def _main_tf_environments() -> dict[str, set[str]]:
    # The pages' function is an optional feature, in its own file (ui.tf).
    text = (ROOT / "main.tf").read_text() + (ROOT / "ui.tf").read_text()
    found = {}
    for function in ("api", "reindex", "authorizer", "upload", "mint", "ui"):
        start = text.index(f"  {function}_environment = ")
        merged = text.startswith("merge(", start + len(f"  {function}_environment = "))
        end = text.index("\n  )" if merged else "\n  }", start)
        found[function] = set(re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", text[start:end]))
    return found


def test_the_handlers_environment_table_is_what_main_tf_sets_and_config_reads() -> None:
    rows = table(REFERENCE.read_text(), "Configuration of the handlers")
    shown: dict[str, set[str]] = {}
    for name, functions, _default, _meaning in rows:
        for function in functions.split(", "):
            shown.setdefault(function, set()).add(uncode(name))
    assert shown == _main_tf_environments()
    read = (PACKAGE / "config.py").read_text()
    for name in {uncode(row[0]) for row in rows}:
        assert f'"{name}"' in read, f"config.py does not read {name}"


def _commands() -> set[str]:
    found: set[str] = set()
    for action in parser()._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():  # type: ignore[union-attr]
            nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
            if nested:
                found.update(f"{name} {child}" for child in nested[0].choices)
            else:
                found.add(name)
    return found


def test_the_command_table_names_every_command() -> None:
    rows = table(REFERENCE.read_text(), "Command line")
    assert {uncode(row[0]) for row in rows} == _commands()


def _command_lines() -> list[tuple[str, str, bool]]:
    """(page, text, whole) of every `serverless-pypi ...`: a whole command in a shell
    block or a comment of a .tf file, or a mention in an inline span."""
    found = []
    for page in [*PAGES, *ROOT.glob("examples/*/*.tf")]:
        text = page.read_text()
        blocks = re.findall(r"```(?:sh|bash|yaml)\n(.*?)```", text, re.DOTALL)
        if page.suffix == ".tf":
            blocks = ["\n".join(line.lstrip("# ") for line in text.splitlines())]
        for block in blocks:
            for line in block.splitlines():
                line = line.split(" #")[0].strip().removeprefix("- run: ")
                if line.startswith("serverless-pypi "):
                    found.append((page.name, line, True))
        for span in re.findall(r"`(serverless-pypi [^`]+)`", text):
            found.append((page.name, span, False))
    return found


@pytest.mark.parametrize(("page", "line", "whole"), _command_lines())
def test_every_command_line_in_the_docs_parses(page: str, line: str, whole: bool) -> None:
    """A whole command parses as it is; a mention names a command that exists, with
    options it has."""
    if re.search(r"[\[|]|\.\.\.", line):
        pytest.skip("a synopsis, not a command")  # e.g. `user add|list|remove|rotate`
    text = re.sub(r'"?\$\([^)]*\)"?', "VALUE", line)
    words = shlex.split(text)[1:]
    if not whole and words and words[0].startswith("-"):  # an option of its own: --version
        assert words[0] in parser()._option_string_actions, line
        return
    if not whole:
        command = " ".join(w for w in words[:2] if not w.startswith("-") and w.isidentifier())
        assert command in _commands() or command.split(" ")[0] in _commands(), line
        return
    try:
        parser().parse_args(words)
    except SystemExit as error:
        raise AssertionError(f"{page}: `{line}` does not parse") from error


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.MULTILINE)
            assert anchor in {_anchor(h) for h in headings}, f"{page.name}: no #{anchor}"


def test_every_repository_path_named_exists() -> None:
    """Paths in the docs, the Makefile and comments (they went stale when tests moved)."""
    sources = [
        *PAGES,
        ROOT / "Makefile",
        ROOT / ".ci" / "run",
        *ROOT.glob("*.tf"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("bench/*.py"),
        *PACKAGE.rglob("*.py"),
    ]
    # A file (with its suffix) or a folder (with its slash), not a part of an SSM path.
    pattern = re.compile(
        r"(?<![\w/])((?:tests|src|scripts|bench|docs|examples|package)/[\w./-]*"
        r"(?:\.(?:py|md|tf|hcl|json|sh|zip|txt)\b|/(?![\w.-])))"
    )
    # What a command writes (bench/results-quick.json) is in .gitignore, not in a clone.
    outputs = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    missing = set()
    for source in sources:
        for path in pattern.findall(source.read_text()):
            if "*" in path or "<" in path or path in outputs:
                continue
            if not (ROOT / path).exists():
                missing.add(f"{source.relative_to(ROOT)}: {path}")
    assert not missing, sorted(missing)


def test_the_events_schema_is_what_the_code_emits() -> None:
    """docs/events.md's tables: the fields of every detail, then each detail-type
    with its own fields, as changeevents builds them."""
    text = (ROOT / "docs" / "events.md").read_text()
    common = [uncode(row[0]) for row in table(text, "The events")]
    assert common == list(changeevents.COMMON)
    documented = {
        uncode(row[0]): [uncode(field) for field in row[1].split(", ") if field != "(none)"]
        for row in table(text, "The detail-types")
    }
    emitted = {
        changeevents.DETAIL_TYPES[kind]: list(fields)
        for kind, fields in changeevents.FIELDS.items()
    }
    assert documented == emitted
    assert f"source `{changeevents.SOURCE}`" in text
