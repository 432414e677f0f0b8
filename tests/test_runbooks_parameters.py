"""Runbook parameters: declared once, coerced and checked before any kernel starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dsshare.errors import DsShareError, ParameterError
from dsshare.runbooks import get_runbook, resolve_parameters, runbooks
from dsshare.runbooks.execute import load_parameter_file, parse_overrides
from dsshare.runbooks.parameters import ALL, parse_cli_value, resolve_notes
from dsshare.runbooks.record import parameters_yaml
from dsshare.sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]
SHARE = {"directory_id": "d-1234567890", "targets": ["200000000004"]}


def resolve(runbook: str, *sources: dict[str, object]) -> dict[str, object]:
    return resolve_parameters(get_runbook(runbook), list(sources))


def bad_parameter(runbook: str, *sources: dict[str, object]) -> ParameterError:
    with pytest.raises(ParameterError) as caught:
        resolve(runbook, *sources)
    return caught.value


def test_every_runbook_is_registered_and_mutating_ones_default_to_dry_run() -> None:
    names = [spec.name for spec in runbooks()]
    assert names == [
        "share_directory", "unshare_directory", "respond_to_invitations", "reconcile_shares",
        "inventory_report",
    ]  # fmt: skip
    for spec in runbooks():
        assert {"profile", "endpoint_url", "role_name", "output_dir"} <= set(spec.names)
        assert "region" in spec.names or "regions" in spec.names
        if spec.mutating:
            assert spec.param("dry_run").default is True
            assert "expected_plan" in spec.names


def test_defaults_fill_what_is_not_given_and_later_sources_win() -> None:
    params = resolve("share_directory", SHARE, {"method": "ORGANIZATIONS"}, {"dry_run": False})
    assert params["dry_run"] is False
    assert params["method"] == "ORGANIZATIONS"
    assert params["wait_timeout_minutes"] == 10.0
    assert params["role_name"] == "OrganizationAccountAccessRole"
    assert list(params) == get_runbook("share_directory").names


def test_unknown_key_is_refused_with_the_closest_name() -> None:
    err = bad_parameter("share_directory", SHARE, {"dryrun": False})
    assert err.parameter == "dryrun"
    assert "did you mean dry_run?" in str(err)


def test_a_parameter_of_another_runbook_is_unknown() -> None:
    err = bad_parameter("unshare_directory", {**SHARE, "auto_accept": True})
    assert err.parameter == "auto_accept"


@pytest.mark.parametrize(
    ("override", "parameter"),
    [
        ({"directory_id": "d-123"}, "directory_id"),
        ({"directory_id": ""}, "directory_id"),
        ({"targets": []}, "targets"),
        ({"targets": ["200000000004", "12345"]}, "targets[1]"),
        ({"targets": [ALL]}, "targets[0]"),
        ({"method": "handshake"}, "method"),
        ({"dry_run": "no"}, "dry_run"),
        ({"auto_accept": 1}, "auto_accept"),
        ({"expected_plan": "abc123"}, "expected_plan"),
        ({"wait_timeout_minutes": 0}, "wait_timeout_minutes"),
        ({"wait_timeout_minutes": "ten"}, "wait_timeout_minutes"),
        ({"region": "mars-north-1x"}, "region"),
        ({"endpoint_url": "localhost:5000"}, "endpoint_url"),
        ({"role_name": "bad role"}, "role_name"),
        ({"notes": "x" * 1025}, "notes"),
        ({"profile": 7}, "profile"),
    ],
)
def test_bad_values_name_their_parameter(override: dict[str, object], parameter: str) -> None:
    assert bad_parameter("share_directory", SHARE, override).parameter == parameter


def test_overlong_notes_are_reported_by_length_never_by_text() -> None:
    err = bad_parameter("share_directory", SHARE, {"notes": "secret " * 200})
    assert "secret" not in str(err)
    assert "1400 characters" in str(err)


def test_account_ids_given_as_numbers_are_refused_never_converted() -> None:
    err = bad_parameter("share_directory", {**SHARE, "targets": [200000000004, "ou-ab12-cd34ef56"]})
    assert err.parameter == "targets[0]" and "quote ids" in str(err)


def test_unshare_accepts_all_alone_but_not_mixed() -> None:
    assert resolve("unshare_directory", {**SHARE, "targets": [ALL]})["targets"] == [ALL]
    err = bad_parameter("unshare_directory", {**SHARE, "targets": [ALL, "200000000004"]})
    assert err.parameter == "targets"


def test_respond_to_invitations_needs_accounts_and_an_action() -> None:
    assert bad_parameter("respond_to_invitations", {"action": "accept"}).parameter == "accounts"
    assert bad_parameter("respond_to_invitations", {"accounts": [ALL]}).parameter == "action"
    err = bad_parameter(
        "respond_to_invitations",
        {"accounts": [ALL], "action": "accept", "owner_directory_ids": ["d-1234567890", "x"]},
    )
    assert err.parameter == "owner_directory_ids[1]"
    params = resolve(
        "respond_to_invitations",
        {"accounts": [ALL], "action": "reject", "owner_account_ids": ["200000000001"]},
    )
    assert params["owner_account_ids"] == ["200000000001"]
    assert params["dry_run"] is True


def test_reconcile_checks_the_desired_state_file_before_running(tmp_path: Path) -> None:
    assert bad_parameter("reconcile_shares", {"desired_state": ""}).parameter == "desired_state"
    missing = tmp_path / "nope.yaml"
    assert bad_parameter("reconcile_shares", {"desired_state": str(missing)}).parameter == (
        "desired_state"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("directories:\n  - directory_id: d-1234567890\n    targets: ['42']\n")
    err = bad_parameter("reconcile_shares", {"desired_state": str(broken)})
    assert err.parameter == "desired_state: directories[0].targets[0]"
    good = REPO / "parameters" / "desired_state.sandbox.yaml"
    assert resolve("reconcile_shares", {"desired_state": str(good)})["desired_state"] == str(good)


def test_inventory_scope_and_compare_to(tmp_path: Path) -> None:
    assert resolve("inventory_report")["accounts"] == []
    assert bad_parameter("inventory_report", {"accounts": [ALL], "ous": ["ou-ab12-cd34ef56"]}).parameter == "ous"
    assert bad_parameter("inventory_report", {"accounts": ["ou-ab12-cd34ef56"]}).parameter == "accounts[0]"
    assert bad_parameter("inventory_report", {"compare_to": str(tmp_path)}).parameter == "compare_to"
    assert resolve("inventory_report", {"compare_to": "latest"})["compare_to"] == "latest"
    (tmp_path / "snapshot").mkdir()
    (tmp_path / "snapshot" / "manifest.json").write_text("{}")
    resolved = resolve("inventory_report", {"compare_to": str(tmp_path)})["compare_to"]
    assert resolved == str((tmp_path / "snapshot").resolve())


def test_cli_values_are_read_for_their_parameter_type() -> None:
    spec = get_runbook("share_directory")
    # -p values are text, converted by the parameter's type exactly like a file's value.
    assert parse_cli_value(spec.param("dry_run"), "false") == "false"
    assert parse_cli_value(spec.param("notes"), "yes") == "yes"
    assert parse_cli_value(spec.param("expected_plan"), "1234") == "1234"
    typed = parse_overrides(spec, [["dry_run", "FALSE"], ["wait_timeout_minutes", "15"],
                                   ["targets", "012345670123"]])  # fmt: skip
    resolved = resolve_parameters(spec, [SHARE, typed])
    assert (resolved["dry_run"], resolved["wait_timeout_minutes"]) == (False, 15.0)
    assert resolved["targets"] == ["012345670123"]
    overrides = parse_overrides(
        spec, [["targets", "ou-ab12-cd34ef56,200000000004"], ["dry_run", "false"]]
    )
    params = resolve_parameters(spec, [SHARE, overrides])
    assert params["targets"] == ["ou-ab12-cd34ef56", "200000000004"]
    assert params["dry_run"] is False
    bracketed = parse_overrides(spec, [["targets", "[200000000004, 200000000005]"]])
    assert resolve_parameters(spec, [SHARE, bracketed])["targets"] == ["200000000004", "200000000005"]
    with pytest.raises(ParameterError) as caught:
        parse_overrides(spec, [["dry-run", "false"]])
    assert caught.value.parameter == "dry-run"


def test_parameter_files_must_be_yaml_mappings(tmp_path: Path) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(ParameterError) as caught:
        load_parameter_file(listed)
    assert caught.value.parameter == "-f"
    with pytest.raises(ParameterError):
        load_parameter_file(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert load_parameter_file(empty) == {}


def test_notes_references_are_read_at_run_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSSHARE_TICKET_NOTES", "from the environment")
    assert resolve_notes("env:DSSHARE_TICKET_NOTES") == "from the environment"
    note = tmp_path / "notes.txt"
    note.write_text("from a file\n")
    assert resolve_notes(f"file:{note}", folders=[tmp_path]) == "from a file"
    assert resolve_notes("plain text") == "plain text"
    monkeypatch.delenv("DSSHARE_TICKET_NOTES")
    with pytest.raises(ParameterError) as caught:
        resolve_notes("env:DSSHARE_TICKET_NOTES")
    assert caught.value.parameter == "notes"
    note.write_text("y" * 2000)
    with pytest.raises(DsShareError, match="2000 characters"):
        resolve_notes(f"file:{note}", folders=[tmp_path])


def test_recorded_parameters_keep_notes_out_but_references_in() -> None:
    text = parameters_yaml({"directory_id": "d-1234567890", "notes": "Call Bob on 555-0100"})
    assert "Bob" not in text
    assert "20 characters" in text
    assert "notes" not in yaml.safe_load(text)
    kept = yaml.safe_load(parameters_yaml({"notes": "env:TICKET_NOTES", "dry_run": True}))
    assert kept == {"notes": "env:TICKET_NOTES", "dry_run": True}


RUNBOOK_FILES = sorted(
    p for spec in runbooks() for p in (REPO / "parameters").glob(f"{spec.name}.*.yaml")
)


def test_every_runbook_has_a_sandbox_and_an_example_parameter_file() -> None:
    names = {p.name for p in RUNBOOK_FILES}
    for spec in runbooks():
        assert {f"{spec.name}.sandbox.yaml", f"{spec.name}.example.yaml"} <= names


@pytest.mark.parametrize("path", RUNBOOK_FILES, ids=lambda p: p.name)
def test_shipped_parameter_files_are_valid(path: Path) -> None:
    runbook = path.name.split(".")[0]
    data = load_parameter_file(path)
    if runbook == "reconcile_shares":
        data["desired_state"] = str(REPO / data["desired_state"])
    params = resolve(runbook, data)
    if get_runbook(runbook).mutating:
        assert params["dry_run"] is True, "shipped parameter files must be dry runs"


def test_sandbox_parameter_files_name_what_the_demo_seed_has(sb: Sandbox) -> None:
    manifest = sb.manifest
    known = (
        {d["id"] for d in manifest["directories"]}
        | {o["id"] for o in manifest["ous"]}
        | {a["id"] for a in manifest["accounts"] + manifest["external_accounts"]}
        | {ALL}
    )
    ids = re.compile(r"^(d-[0-9a-f]{10}|ou-[0-9a-z-]+|\d{12})$")
    for path in (REPO / "parameters").glob("*.sandbox.yaml"):
        named = _strings(yaml.safe_load(path.read_text()))
        unknown = {s for s in named if ids.match(s) and s not in known}
        assert not unknown, f"{path.name} names ids the demo seed does not have: {sorted(unknown)}"


def _strings(value: object) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return {str(value)}
