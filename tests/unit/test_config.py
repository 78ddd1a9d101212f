"""Every function's settings (config.py), read one way, tied to variables.tf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from serverless_pypi import config
from serverless_pypi.config import ApiSettings, AuthSettings, ConfigError, users_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw", ["-1", "1.5", "1e3", "1_000", "\u0663", " 12 3", "9" * 30, "x"])
def test_integers_are_read_one_way_for_every_function(raw: str) -> None:
    for read in (
        lambda: ApiSettings.from_env({"S3_BUCKET": "b", "PAGE_MAX_AGE": raw}),
        lambda: AuthSettings.from_env({"USER_CACHE_SECONDS": raw}),
    ):
        with pytest.raises(ConfigError, match="must be"):
            read()


def test_settings_from_the_environment() -> None:
    assert ApiSettings.from_env({"S3_BUCKET": "b", "PAGE_MAX_AGE": " 30 "}).page_max_age == 30
    assert AuthSettings.from_env({}) == AuthSettings(config.DEFAULT_USERS_PATH, 60)
    assert AuthSettings.from_env({"USERS_PATH": "/x/y/", "USER_CACHE_SECONDS": "0"}) == (
        AuthSettings("/x/y/", 0)
    )
    assert config.ReindexSettings.from_env({"S3_BUCKET": "b"}) == config.ReindexSettings("b")
    assert config.UploadSettings.from_env({"S3_BUCKET": "b", "UPLOAD_RIGHT": "authorizer"}) == (
        config.UploadSettings("b", require_upload_right=False)
    )
    for env in ({}, {"S3_BUCKET": " "}):
        with pytest.raises(ConfigError, match="S3_BUCKET"):
            config.ReindexSettings.from_env(env)
    with pytest.raises(ConfigError, match="UPLOAD_RIGHT must be one of required, authorizer"):
        config.UploadSettings.from_env({"S3_BUCKET": "b", "UPLOAD_RIGHT": "anyone"})
    refusing = config.UploadSettings.from_env({"S3_BUCKET": "b", "LOCAL_VERSIONS": "refuse"})
    assert refusing == config.UploadSettings("b", refuse_local_versions=True)
    with pytest.raises(ConfigError, match="LOCAL_VERSIONS must be one of accept, refuse"):
        config.UploadSettings.from_env({"S3_BUCKET": "b", "LOCAL_VERSIONS": "no"})


@pytest.mark.parametrize(
    "path",
    [
        "/serverless-pypi/users",
        "serverless-pypi/users/",
        "/",
        "/serverless-pypi//users/",
        "/serverless pypi/users*/",
        "/" + "u" * 899 + "/",
        "/" + "a/" * 15,
    ],
)
def test_a_users_path_follows_the_rule_of_variables_tf(path: str) -> None:
    with pytest.raises(ConfigError, match="the users path"):
        users_path(path)


def test_the_users_path_rule_and_default_are_the_module_s() -> None:
    """variables.tf validates users_ssm_path with the same pattern, length and levels;
    main.tf defaults it to /<name>/users/ with the name's default."""
    variables = (ROOT / "variables.tf").read_text()
    block = variables[variables.index('variable "users_ssm_path"') :]
    block = block[: block.index("\nvariable ")]
    assert f'regex("{config.USERS_PATH_PATTERN}"' in block
    assert f"length(var.users_ssm_path) <= {config.MAX_USERS_PATH}" in block
    assert f"- 2 <= {config.MAX_USERS_PATH_LEVELS}" in block
    name = variables[variables.index('variable "name"') :]
    default = re.search(r'default\s*=\s*"([^"]+)"', name)
    assert default and f"/{default[1]}/users/" == config.DEFAULT_USERS_PATH
    assert '"/${var.name}/users/"' in (ROOT / "main.tf").read_text()
    assert users_path(None) == users_path("") == config.DEFAULT_USERS_PATH
    assert users_path("/" + "a/" * 14) == "/" + "a/" * 14


@pytest.mark.parametrize(
    "bus",
    ["default", "my-bus", "aws.partner/x/y", "arn:aws:events:eu-west-1:123456789012:event-bus/b"],
)
def test_an_event_bus_is_a_name_or_an_arn(bus: str) -> None:
    assert config.event_bus(f" {bus} ") == bus
    settings = config.ReindexSettings.from_env({"S3_BUCKET": "b", "EVENT_BUS": bus})
    assert settings.event_bus == bus


@pytest.mark.parametrize(
    "bus", ["my bus", "x" * 257, "arn:aws:sns:eu-west-1:123456789012:topic", "bus!"]
)
def test_anything_else_is_no_event_bus(bus: str) -> None:
    with pytest.raises(ConfigError, match="the event bus"):
        config.event_bus(bus)


def test_no_event_bus_by_default() -> None:
    assert config.ReindexSettings.from_env({"S3_BUCKET": "b"}).event_bus is None
    assert config.event_bus("  ") is None


def test_the_event_bus_rule_is_the_module_s() -> None:
    """variables.tf validates event_bus_name with the same pattern."""
    variables = (ROOT / "variables.tf").read_text()
    block = variables[variables.index('variable "event_bus_name"') :]
    hcl = config.EVENT_BUS_PATTERN.replace("\\", "\\\\")
    assert f'regex("^(?:{hcl})$"' in block
