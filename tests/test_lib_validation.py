"""Specification of dsshare.validation: malformed input is refused, named, before any call."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsshare.errors import ParameterError
from dsshare.validation import (
    validate_account_id,
    validate_action,
    validate_directory_id,
    validate_method,
    validate_notes,
    validate_ou_id,
    validate_positive,
    validate_region,
    validate_regions,
    validate_root_id,
    validate_target,
    validate_targets,
)


@pytest.mark.parametrize("good", ["d-1234567890", "d-abcdef0123"])
def test_directory_ids_accepted(good: str) -> None:
    assert validate_directory_id(good) == good


@pytest.mark.parametrize("bad", ["d-123456789", "d-12345678901", "d-ABCDEF0123", "x-1234567890", "", None, 5])
def test_malformed_directory_ids_name_the_parameter(bad: object) -> None:
    with pytest.raises(ParameterError) as info:
        validate_directory_id(bad)
    assert info.value.parameter == "directory_id"
    assert info.value.value == bad
    assert "d-" in info.value.allowed


@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_any_twelve_digits_is_an_account_id(value: str) -> None:
    assert validate_account_id(value) == value


@given(st.text().filter(lambda s: not (len(s.strip()) == 12 and s.strip().isascii() and s.strip().isdigit())))
def test_anything_else_is_not_an_account_id(value: str) -> None:
    with pytest.raises(ParameterError):
        validate_account_id(value)


def test_ou_and_root_ids() -> None:
    assert validate_ou_id("ou-ab12-cd34ef56") == "ou-ab12-cd34ef56"
    assert validate_root_id("r-ab12") == "r-ab12"
    for bad in ("ou-AB12-cd34ef56", "ou-ab1-cd34ef56", "ou-ab12-cd34"):
        with pytest.raises(ParameterError):
            validate_ou_id(bad)
    with pytest.raises(ParameterError):
        validate_root_id("r-a")


def test_target_is_account_ou_or_root() -> None:
    for good in ("200000000004", "ou-ab12-cd34ef56", "r-ab12"):
        assert validate_target(good) == good
    with pytest.raises(ParameterError) as info:
        validate_target("prod-app1")
    assert "account id" in info.value.allowed


def test_targets_must_be_a_non_empty_list_and_are_deduplicated_in_order() -> None:
    assert validate_targets(["200000000005", "200000000004", "200000000005"]) == [
        "200000000005", "200000000004",
    ]
    with pytest.raises(ParameterError):
        validate_targets([])
    with pytest.raises(ParameterError) as info:
        validate_targets("200000000004")  # a string, not a list
    assert info.value.parameter == "targets"
    with pytest.raises(ParameterError) as info:
        validate_targets(["200000000004", "nope"])
    assert info.value.parameter == "targets[1]"


def test_regions_known_to_botocore_or_region_shaped() -> None:
    assert validate_region("eu-west-1") == "eu-west-1"
    assert validate_region("us-gov-west-1") == "us-gov-west-1"
    assert validate_region("xx-newplace-9") == "xx-newplace-9"  # newer than botocore
    for bad in ("US-EAST-1", "us-east", "useast1", ""):
        with pytest.raises(ParameterError):
            validate_region(bad)
    assert validate_regions(["us-east-1", "us-east-1", "eu-west-1"]) == ["us-east-1", "eu-west-1"]
    with pytest.raises(ParameterError):
        validate_regions("us-east-1")


def test_method_is_an_exact_enum() -> None:
    assert validate_method("HANDSHAKE") == "HANDSHAKE"
    with pytest.raises(ParameterError) as info:
        validate_method("handshake")
    assert "ORGANIZATIONS" in info.value.allowed


def test_action_enum() -> None:
    assert validate_action("leave") == "leave"
    with pytest.raises(ParameterError):
        validate_action("delete")


def test_notes_at_most_1024_characters_and_never_echoed() -> None:
    assert validate_notes("x" * 1024) == "x" * 1024
    secret = "s3cret-" * 200
    with pytest.raises(ParameterError) as info:
        validate_notes(secret)
    assert secret not in str(info.value)
    assert str(len(secret)) in str(info.value)


def test_positive_numbers() -> None:
    assert validate_positive(2, "timeout") == 2.0
    for bad in (0, -1, True, "5"):
        with pytest.raises(ParameterError):
            validate_positive(bad, "timeout")
