"""Specification of the desired-state form: parsed and validated before any AWS call."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsshare.desired import DesiredDirectory, load_desired_state, parse_desired_state
from dsshare.errors import ParameterError

EXAMPLE = Path(__file__).resolve().parents[1] / "parameters" / "desired_state.example.yaml"


def test_the_shipped_example_is_valid() -> None:
    state = load_desired_state(EXAMPLE)
    assert len(state.directories) == 3
    corp, services, eu = state.directories
    assert corp.method == "ORGANIZATIONS" and corp.region == "us-east-1"
    assert services.owner_account_id == "200000000001" and services.prune is True
    assert services.notes.startswith("Domain join")
    assert eu.region == "eu-west-1"
    assert state.prune is False


def test_defaults_apply_unless_an_entry_overrides_them() -> None:
    state = parse_desired_state({
        "defaults": {"method": "ORGANIZATIONS", "region": "eu-west-1"},
        "directories": [
            {"directory_id": "d-1234567890", "targets": ["200000000004"]},
            {"directory_id": "d-1234567891", "targets": [], "method": "HANDSHAKE"},
        ],
    })
    first, second = state.directories
    assert (first.method, first.region) == ("ORGANIZATIONS", "eu-west-1")
    assert (second.method, second.targets) == ("HANDSHAKE", ())


def test_unquoted_account_ids_are_kept_as_typed_and_numbers_refused(tmp_path: Path) -> None:
    path = tmp_path / "desired.yaml"
    # YAML 1.1 reads 000000000017 as the octal number 15; the input reader keeps the text.
    path.write_text("directories:\n  - directory_id: d-1234567890\n"
                    "    targets: [000000000017, 012345670123]\n")
    assert load_desired_state(path).directories[0].targets == ("000000000017", "012345670123")
    with pytest.raises(ParameterError) as info:
        parse_desired_state({"directories": [{"directory_id": "d-1234567890", "targets": [15]}]})
    assert info.value.parameter == "directories[0].targets[0]"
    assert "quote ids" in info.value.allowed
    with pytest.raises(ParameterError) as info:
        parse_desired_state({"directories": [{"directory_id": "d-1234567890", "targets": [],
                                              "owner_account_id": 200000000001}]})
    assert info.value.parameter == "directories[0].owner_account_id"


def test_notes_are_kept_out_of_repr() -> None:
    entry = DesiredDirectory("d-1234567890", (), notes="a secret message")
    assert "secret" not in repr(entry)


@pytest.mark.parametrize(
    "data,parameter",
    [
        ([], "desired_state"),
        ({"directories": "d-1234567890"}, "directories"),
        ({"directories": [{"targets": []}]}, "directories[0].directory_id"),
        ({"directories": [{"directory_id": "d-12", "targets": []}]}, "directories[0].directory_id"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": ["200000000004", "prod"]}]},
         "directories[0].targets[1]"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": "200000000004"}]},
         "directories[0].targets"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": [], "method": "handshake"}]},
         "directories[0].method"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": [], "notes": "x" * 1025}]},
         "directories[0].notes"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": [], "region": "mars"}]},
         "directories[0].region"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": [], "prune": "yes"}]},
         "directories[0].prune"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": [], "tagets": []}]},
         "directories[0]"),
        ({"directories": [], "version": 2}, "version"),
        ({"directories": [{"directory_id": "d-1234567890", "targets": []},
                          {"directory_id": "d-1234567890", "targets": []}]},
         "directories[1].directory_id"),
    ],
)
def test_bad_desired_state_names_the_exact_place(data: object, parameter: str) -> None:
    with pytest.raises(ParameterError) as info:
        parse_desired_state(data)
    assert info.value.parameter == parameter


def test_invalid_yaml_is_a_parameter_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("directories: [\n", encoding="utf-8")
    with pytest.raises(ParameterError):
        load_desired_state(path)
