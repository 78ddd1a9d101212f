from __future__ import annotations

import pytest

from serverless_pypi import names
from serverless_pypi.names import is_valid_name, normalize, parse_filename, version_key


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("my-pkg", "my-pkg"),
        ("My.Pkg", "my-pkg"),
        ("my_pkg", "my-pkg"),
        ("MY__--..pkg", "my-pkg"),
        ("Django", "django"),
        ("zope.interface", "zope-interface"),
    ],
)
def test_normalize(name: str, expected: str) -> None:
    assert normalize(name) == expected


def test_normalize_lower_cases_ascii_only() -> None:
    # A name that got past validation some other way still cannot merge into "key".
    assert normalize("\u212aey") != "key"


@pytest.mark.parametrize("name", ["a", "A1", "my-pkg", "my.pkg_2", "x0"])
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-pkg",
        "pkg-",
        ".serverless-pypi",
        "a b",
        "a/b",
        "..",
        "é",
        "pkg\x00",
        "pkg\n",  # "$" would match before a final newline
        "\u212aey",  # KELVIN SIGN: lower-cases to "k"
        "\u017fix",  # LATIN SMALL LETTER LONG S: case-folds to "s"
        "\u0130nfo",  # LATIN CAPITAL LETTER I WITH DOT ABOVE
        "pkg\u0661",  # ARABIC-INDIC DIGIT ONE
    ],
)
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)


@pytest.mark.parametrize(
    ("filename", "project", "version", "kind"),
    [
        ("my_pkg-1.0-py3-none-any.whl", "my-pkg", "1.0", "wheel"),
        (
            "My.Pkg-2.0.post1-1-cp311-cp311-manylinux_2_17_x86_64.whl",
            "my-pkg",
            "2.0.post1",
            "wheel",
        ),
        ("my_pkg-1.0+local.7-py3-none-any.whl", "my-pkg", "1.0+local.7", "wheel"),
        ("my_pkg-1.0.tar.gz", "my-pkg", "1.0", "sdist"),
        ("my-pkg-1.0rc1.tar.gz", "my-pkg", "1.0rc1", "sdist"),
        ("my.pkg-3.zip", "my-pkg", "3", "sdist"),
    ],
)
def test_parse_distribution(filename: str, project: str, version: str, kind: str) -> None:
    dist = parse_filename(filename, project)
    assert dist is not None
    assert (dist.version, dist.kind, dist.project) == (version, kind, project)


@pytest.mark.parametrize(
    ("filename", "project"),
    [
        ("other-1.0-py3-none-any.whl", "my-pkg"),  # another project's wheel
        ("my_pkg-1.0.whl", "my-pkg"),  # not a wheel name
        ("README.md", "my-pkg"),
        ("my_pkg-1.0.egg", "my-pkg"),
        ("my_pkg.tar.gz", "my-pkg"),  # no version
        ("my-pkg-.tar.gz", "my-pkg"),
        ("../my_pkg-1.0.tar.gz", "my-pkg"),
        ("my_pkg-1.0\n.tar.gz", "my-pkg"),
        ("my_pkg-1.0-py3-none-any.whl/x", "my-pkg"),
        ("\u212aey-1.0-py3-none-any.whl", "key"),  # a Kelvin sign spelling of "key"
        ("\u212aey-1.0.tar.gz", "key"),
        ("key-1.\u0661-py3-none-any.whl", "key"),  # a non-ASCII digit in the version
        ("key-1.0\u2028.tar.gz", "key"),
    ],
)
def test_not_a_distribution_of_the_project(filename: str, project: str) -> None:
    assert parse_filename(filename, project) is None


def test_versions_sort_as_pep_440() -> None:
    ordered = [
        "0.9",
        "1.0.dev0",
        "1.0a1",
        "1.0a2.dev1",
        "1.0a2",
        "1.0b1",
        "1.0rc1",
        "1.0",
        "1.0+local.1",
        "1.0.post1.dev0",
        "1.0.post1",
        "1.0.1",
        "1.10",
        "2!0.1",
    ]
    shuffled = ordered[1::2] + ordered[::2]
    assert sorted(shuffled, key=version_key) == ordered


def test_equal_versions_compare_equal() -> None:
    assert version_key("1.0") == version_key("1.0.0") == version_key("v1.0")


def test_invalid_versions_sort_first() -> None:
    assert sorted(["1.0", "banana"], key=version_key) == ["banana", "1.0"]


# -- folders spelled another way ------------------------------------------------


class Bucket:
    """Folder listings as S3 gives them: byte order, 1,000 names a page at most."""

    def __init__(self, folders: list[str], page: int = 1000) -> None:
        self.folders = sorted(folders)
        self.page = page
        self.listings: list[str] = []

    def list_folders(self, prefix: str) -> tuple[list[str], bool]:
        self.listings.append(prefix)
        found = [folder for folder in self.folders if folder.startswith(prefix)]
        return found[: self.page], len(found) > self.page

    def has_objects(self, prefix: str) -> bool:
        self.listings.append(prefix)
        return any(folder + "/" == prefix for folder in self.folders)


@pytest.mark.parametrize(
    "folders",
    [["corp-tool"], ["Corp.Tool"], ["CORP_TOOL"], ["corp._-tool"], ["Corp.Tool", "corp-tool"]],
)
def test_every_spelling_of_a_folder_is_found(folders: list[str]) -> None:
    bucket = Bucket([*folders, "corp-tools", "corp", "Corporate", "c", "other", "corp-tool-x"])
    found = names.spelled_folders("corp-tool", bucket.list_folders, bucket.has_objects)
    assert found == sorted(folders)
    assert sorted(bucket.listings) == ["C", "c"]  # one page per case of the first letter


def test_a_name_that_starts_with_a_digit_costs_one_listing() -> None:
    bucket = Bucket(["3to4", "3-to-4", "other"])
    assert names.spelled_folders("3to4", bucket.list_folders, bucket.has_objects) == ["3to4"]
    assert bucket.listings == ["3"]


def test_crowded_prefixes_are_narrowed_until_a_page_holds_them() -> None:
    crowd = [f"corp-{n:04d}" for n in range(3000)] + [f"Co{n:04d}" for n in range(1500)]
    bucket = Bucket([*crowd, "Corp_Tool", "corp.tool"], page=1000)
    found = names.spelled_folders("corp-tool", bucket.list_folders, bucket.has_objects)
    assert found == ["Corp_Tool", "corp.tool"]
    assert len(bucket.listings) <= names.MAX_FOLDER_LISTINGS


def test_a_bucket_too_crowded_to_tell_is_an_error_not_a_guess() -> None:
    bucket = Bucket([f"a{'-' * n}x" for n in range(1, 60)], page=1)
    with pytest.raises(names.TooManyFolders):
        names.spelled_folders("a-b", bucket.list_folders, bucket.has_objects)


@pytest.mark.parametrize(
    "version",
    ["1.0", "1.0.0", "v1.0", "1.0-1", "1.0+cpu", "1!2.0rc1.post3.dev4+local.7", "2024.1"],
)
def test_pep_440_versions(version: str) -> None:
    assert names.is_valid_version(version)


@pytest.mark.parametrize(
    "version",
    [
        '1.0"><img src=x>',
        "1.0?x=1",
        "1.0#frag",
        "1.0 ",
        "latest",
        "",
        "1.0\n",
        "1" * 129,
        "1" * 5000 + "a",
    ],
)
def test_versions_that_are_not_pep_440_or_too_long(version: str) -> None:
    assert not names.is_valid_version(version)
    names.version_key(version)  # sorts, never raises
