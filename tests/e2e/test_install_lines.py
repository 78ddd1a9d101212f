"""Every line that tells someone how to install this command line works, and none
names the project bare: ``serverless-pypi`` on the public index is another
author's project, so a bare name would install a stranger's code.

Scanned: README.md, CHANGELOG.md, docs/*.md and every file of examples/ (each line),
and the string literals of src/ (what the code prints). An install line is one of
pip (``pip``, ``pip3``, ``python -m pip``, ``uv pip``), ``pipx`` or ``uv tool``
install, or ``uvx`` / ``pipx run``; it installs this project when a requirement is
this project's name (bare: refused), a URL of this repository, or a path into
``.terraform/modules/`` (the module's own files after ``terraform init``).

Each such line of the docs, and ``release.install_line`` (what the command line
prints when versions differ), runs in a fresh virtual environment, in bash as
written, with pip isolated from the public index and from this machine's
configuration: ``PIP_CONFIG_FILE=/dev/null``, ``PIP_NO_INDEX=1``, proxies set to a
closed port on loopback, and ``PIP_FIND_LINKS`` a wheelhouse made from what this
environment has installed (tests/wheelhouse.py: the build backend, boto3 and, for
the ``serve`` extra, moto's server, each with its dependencies); ``PIP_NO_COMPILE=1``
saves time. Two rewritings, and no other:

- ``https://github.com/serverless-pypi/terraform-aws-serverless-pypi`` (``release.REPOSITORY``)
  becomes ``file://localhost<path>`` of a git repository made here from this
  checkout's files (tracked and new, as they are on disk), in one commit tagged
  ``v<serverless_pypi.__version__>``: a line with any other tag fails. (The host is
  there because the pip that ``python -m venv`` brings, 23.2 with Python 3.11,
  refuses a URL requirement without one, as ``git+file:///...``; git takes either.)
- the line runs in a temporary directory whose ``.terraform/modules/<name>/`` is a
  copy of the same files, as ``terraform init`` leaves the module there.

Then ``serverless-pypi --version`` must say this version and where it came from,
and a line with the ``serve`` extra must give moto's server.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

import serverless_pypi
from serverless_pypi import release
from tests import wheelhouse
from tests.clients import isolated_env, venv

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "serverless_pypi"
NAME = canonicalize_name(release.DISTRIBUTION)
REPOSITORY_NAME = release.REPOSITORY.rsplit("/", 1)[1]
MODULES = ".terraform/modules/"

_INSTALL = re.compile(
    r"(?<![\w/.-])(?:(?:(?:python3? -m |uv )?pip3?|pipx|uv tool) install|uvx|pipx run|uv tool run)"
    r"(?![\w-])[^`\n]*"
)
_COMMENT = re.compile(r"\s+#(?:\s.*)?$")
# Options of these installers that take a value which is not a requirement.
_VALUED = {
    *("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-c", "--constraint"),
    *("-r", "--requirement", "-t", "--target", "--prefix", "--root", "--python", "--platform"),
    *("--python-version", "--implementation", "--abi", "--only-binary", "--no-binary"),
    *("--upgrade-strategy", "-C", "--config-settings", "--src", "--report", "--log"),
    *("--trusted-host", "--cert", "--client-cert", "--cache-dir", "--proxy", "--retries"),
    *("--timeout", "--exists-action", "--progress-bar", "--index", "--default-index"),
}
# Options whose value is a requirement.
_REQUIREMENT_VALUED = {"-e", "--editable", "--from", "--with", "--spec"}


@dataclass(frozen=True)
class InstallLine:
    """An install command found in a doc or a hint, and what it says of this project."""

    where: str  # page:line, or the function that prints it
    command: str  # as written
    bare: tuple[str, ...] = ()  # requirements that name this project without a URL or path
    ours: tuple[str, ...] = ()  # requirements of this project by this repository or the module
    extras: frozenset[str] = field(default_factory=frozenset)


def requirement_words(command: str) -> list[str]:
    """The requirements an install command names (its options and their values left out)."""
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote (prose with an apostrophe, say)
        words = [word.strip("'\"") for word in command.split()]
    runs = " ".join(words[:3]).startswith(("uvx", "pipx run", "uv tool run"))
    start = next((i + 1 for i, w in enumerate(words) if w in ("install", "run", "uvx")), 0)
    found: list[str] = []
    index = start
    while index < len(words):
        word = words[index]
        if word in _VALUED:
            index += 2
            continue
        if word in _REQUIREMENT_VALUED:
            found += words[index + 1 : index + 2]
            index += 2
            continue
        index += 1
        if word.startswith("-"):
            continue
        found.append(word)
        if runs:
            break  # the rest are the program's arguments
    return found


def kind(word: str) -> tuple[str, frozenset[str]]:
    """``("bare" | "ours" | "", extras)`` of one requirement word."""
    if MODULES in word:
        listed = re.search(r"\[([\w,\s-]+)\]$", word)
        return "ours", frozenset(e.strip() for e in listed[1].split(",")) if listed else frozenset()
    if REPOSITORY_NAME in word and "://" in word and "@" not in word.split("://")[0]:
        return "ours", frozenset()  # a bare URL of this repository
    try:
        requirement = Requirement(word)
    except InvalidRequirement:
        return "", frozenset()
    if canonicalize_name(requirement.name) != NAME:
        return "", frozenset()
    extras = frozenset(requirement.extras)
    if requirement.url and REPOSITORY_NAME in requirement.url:
        return "ours", extras
    return ("bare" if requirement.url is None else ""), extras


def classify(where: str, command: str) -> InstallLine:
    bare: list[str] = []
    ours: list[str] = []
    extras: set[str] = set()
    for word in requirement_words(command):
        found, asked = kind(word)
        if found == "bare":
            bare.append(word)
        elif found == "ours":
            ours.append(word)
        extras |= asked
    return InstallLine(where, command, tuple(bare), tuple(ours), frozenset(extras))


def commands_in(text: str) -> Iterator[tuple[int, str]]:
    """(line number, command) of each install command in ``text``."""
    for number, line in enumerate(text.splitlines(), 1):
        for found in _INSTALL.finditer(line):
            yield number, _COMMENT.sub("", found[0]).strip()


def _doc_pages() -> list[Path]:
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    pages += sorted(path for path in (ROOT / "examples").rglob("*") if path.is_file())
    return [page for page in pages if ".terraform" not in page.parts]


def doc_lines() -> list[InstallLine]:
    return [
        classify(f"{page.relative_to(ROOT)}:{number}", command)
        for page in _doc_pages()
        for number, command in commands_in(page.read_text())
    ]


def _strings(path: Path) -> Iterator[tuple[int, str]]:
    """The string literals of a module, f-strings with ``{}`` for what they format."""
    nodes = list(ast.walk(ast.parse(path.read_text())))
    parts = {id(part) for node in nodes if isinstance(node, ast.JoinedStr) for part in node.values}
    for node in nodes:
        if isinstance(node, ast.JoinedStr):
            text = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
            yield node.lineno, "".join(str(part) for part in text)
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts
        ):
            yield node.lineno, node.value


def hint_lines() -> list[InstallLine]:
    """The install commands in the strings of src/ (what the code prints)."""
    return [
        classify(f"{path.relative_to(ROOT)}:{lineno}", command)
        for path in sorted(SOURCE.rglob("*.py"))
        for lineno, text in _strings(path)
        for _, command in commands_in(text)
    ]


def lines_to_run() -> list[InstallLine]:
    """Each distinct command that installs this project, from the docs and the printed
    hint, named by where it is first written."""
    printed = classify("release.install_line", release.install_line(serverless_pypi.__version__))
    unique: dict[str, InstallLine] = {}
    for line in [*doc_lines(), printed]:
        if line.ours or line.bare:
            unique.setdefault(line.command, line)
    return list(unique.values())


# -- the scan ----------------------------------------------------------------------


SAMPLES = """\
pip install serverless-pypi
- run: pip install serverless-pypi   # the scheduled job
`pip install 'serverless-pypi[serve]'` (or `make venv` here)
python -m pip install --upgrade serverless_pypi==0.1.0
uv pip install -U Serverless.PyPI
pipx install serverless-pypi
uvx serverless-pypi status --bucket my-pypi-bucket
uvx --from serverless-pypi serverless-pypi status
uv tool install "serverless-pypi>=0.1"
"""
GOOD_SAMPLES = """\
pip install "serverless-pypi @ git+https://github.com/serverless-pypi/terraform-aws-serverless-pypi@v0.1.0"
pip install ./.terraform/modules/pypi   # the module's files
pip install "./.terraform/modules/pypi[serve]"
pip install --index-url "$(terraform output -raw index_url)" my-pkg
uv pip install --index-url "https://alice:$TOKEN@<api>/simple/" my-pkg
pip install 'moto[server]>=5'
`make serve` prints ready `pip install` and `twine upload` lines
"""


def test_the_scan_finds_the_project_named_bare_in_every_installer() -> None:
    found = [classify("sample", command) for _, command in commands_in(SAMPLES)]
    assert len(found) == len(SAMPLES.splitlines())
    assert all(line.bare for line in found), [line.command for line in found if not line.bare]
    assert found[2].extras == {"serve"}


def test_the_scan_tells_this_project_by_repository_or_module_from_others() -> None:
    found = [classify("sample", command) for _, command in commands_in(GOOD_SAMPLES)]
    assert [bool(line.ours) for line in found] == [True, True, True, False, False, False, False]
    assert not any(line.bare for line in found)
    assert found[1].command == "pip install ./.terraform/modules/pypi"
    assert found[2].extras == {"serve"}


def test_no_doc_or_printed_hint_names_the_project_bare() -> None:
    """A bare name resolves to another author's project on the public index."""
    bare = [f"{line.where}: {line.command}" for line in [*doc_lines(), *hint_lines()] if line.bare]
    assert not bare, bare


def test_the_readme_says_how_to_install_the_command_line() -> None:
    readme = [line for line in doc_lines() if line.where.startswith("README.md:") and line.ours]
    assert {kind(word)[0] for line in readme for word in line.ours} == {"ours"}
    assert any(MODULES in word for line in readme for word in line.ours), "from the module"
    assert any(REPOSITORY_NAME in word for line in readme for word in line.ours), "from a tag"


_INDEX_OPTIONS = ("-i", "--index-url", "--index", "--default-index")


def names_an_index(command: str) -> bool:
    """Whether an install command says which index it installs from: the pages for
    people's ``pip install --index-url <this index> <project>`` installs a project of
    this index, whatever its name, never the public index's."""
    return any(word.split("=")[0] in _INDEX_OPTIONS for word in command.split())


def test_printed_hints_that_may_install_this_project_come_from_release() -> None:
    """What the code prints is run here through ``release.install_line``: a hint that
    names this project, or formats its requirement (from the public index), must be
    made there."""
    hints = hint_lines()
    formatted = [
        line
        for line in hints
        if any("{}" in word for word in requirement_words(line.command))
        and not names_an_index(line.command)
    ]
    assert formatted, "release.install_line's f-string is found"
    places = {line.where.split(":")[0] for line in hints if line.ours or line.bare}
    places |= {line.where.split(":")[0] for line in formatted}
    assert places == {"src/serverless_pypi/release.py"}
    # The pages' lines are there, and exempt only for the index they name.
    pages = [
        line
        for line in hints
        if line.where.startswith("src/serverless_pypi/webpage.py")
        and any("{}" in word for word in requirement_words(line.command))
    ]
    assert pages and all(names_an_index(line.command) for line in pages)
    assert not names_an_index("pip install {}") and names_an_index("uv add --index=u p")


# -- running them ------------------------------------------------------------------


def _git(*args: str, cwd: Path) -> None:
    env = {**isolated_env(), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _checkout_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return [name for name in listed.stdout.decode().split("\0") if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's files as they are on disk, in a git repository named like this
    one on GitHub, in one commit tagged v<version>."""
    repository = tmp_path_factory.mktemp("github") / REPOSITORY_NAME
    for name in _checkout_files():
        (repository / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repository / name)
    _git("init", "-q", cwd=repository)
    _git("add", "-A", cwd=repository)
    _git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "snapshot", cwd=repository)
    _git("-c", "tag.gpgsign=false", "tag", f"v{serverless_pypi.__version__}", cwd=repository)
    return repository


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the lines need, from what this environment has installed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = [*project["build-system"]["requires"], *project["project"]["dependencies"]]
    for extra in sorted({extra for line in lines_to_run() for extra in line.extras}):
        needed += project["project"]["optional-dependencies"][extra]
    into = tmp_path_factory.mktemp("wheelhouse")
    wheelhouse.build(needed, into)
    return into


_PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def _file_url(repository: Path) -> str:
    return f"file://localhost{repository}"


def _offline_env(environment: Path, wheels: Path) -> dict[str, str]:
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens, nothing leaves
    return isolated_env(
        {
            "PATH": f"{environment / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "VIRTUAL_ENV": str(environment),
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheels),
            "PIP_NO_COMPILE": "1",
            **dict.fromkeys(_PROXIES + tuple(name.lower() for name in _PROXIES), closed),
            "NO_PROXY": "",
            "no_proxy": "",
        }
    )


@pytest.mark.parametrize("line", lines_to_run(), ids=lambda line: line.where)
def test_each_install_line_installs_this_command_line(
    line: InstallLine, snapshot: Path, wheels: Path, tmp_path: Path
) -> None:
    assert not line.bare, f"{line.where}: names {line.bare} bare, another project on PyPI"
    workdir = tmp_path / "configuration"
    for module in set(re.findall(r"\.terraform/modules/([\w-]+)", line.command)):
        shutil.copytree(snapshot, workdir / MODULES / module, ignore=shutil.ignore_patterns(".git"))
    workdir.mkdir(exist_ok=True)
    environment = tmp_path / "venv"
    python = venv(environment)
    command = line.command.replace(release.REPOSITORY, _file_url(snapshot))
    env = _offline_env(environment, wheels)
    ran = subprocess.run(
        ["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )
    assert ran.returncode == 0, f"{line.where}: `{command}`\n{ran.stdout}\n{ran.stderr}"

    said = subprocess.run(
        [str(environment / "bin" / "serverless-pypi"), "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    site = next((environment / "lib").glob("python3*/site-packages"))
    head = f"serverless-pypi {serverless_pypi.__version__} from {site / 'serverless_pypi'} ("
    assert said.startswith(head), said
    if MODULES in command:
        module = re.findall(r"\.terraform/modules/([\w-]+)", command)[0]
        assert said[len(head) :].startswith(f"directory: {workdir / MODULES / module})"), said
    else:
        origin = f"git+{_file_url(snapshot)}@v{serverless_pypi.__version__}, commit "
        assert said[len(head) :].startswith(origin), said
    if "serve" in line.extras:
        subprocess.run([str(python), "-c", "import moto.server"], env=env, check=True, timeout=60)
