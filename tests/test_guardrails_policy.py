"""Guardrails policy file: parsing refuses what is ambiguous, the pure checks name the rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dsshare.errors import DsShareError, ParameterError
from dsshare.guardrails import (
    CHECKS,
    ENV_VAR,
    Guardrails,
    GuardrailsError,
    active_guardrails,
    load_guardrails,
    parse_guardrails,
)
from dsshare.planning import PlanRow

EXAMPLE = Path(__file__).resolve().parents[1] / "parameters" / "guardrails.yaml"
DIR = "d-1234567890"
OTHER_DIR = "d-abcdef0123"


def share_row(account: str, *, directory: str = DIR, external: bool = False,
              method: str = "HANDSHAKE", action: str = "share") -> PlanRow:
    return PlanRow(directory_id=directory, region="us-east-1", owner_account_id="123456789012",
                   account_id=account, action=action, reason="not shared", method=method,
                   external=external)


def test_the_documented_example_policy_parses_and_sets_every_rule() -> None:
    policy = load_guardrails(EXAMPLE)
    assert policy.shareable_directories and len(policy.shareable_directories) == 2
    assert policy.allowed_accounts == {"200000000001", "200000000002"}
    assert policy.allowed_ous == {"ou-ykem-nyith3cb", "ou-ykem-wjrtnt49"}
    assert policy.denied_accounts == {"200000000006"}
    assert policy.allow_external_handshake is False
    assert policy.max_targets_per_run == 50
    assert policy.protected_accounts == {"200000000003"}
    assert policy.allow_external_owners is False
    assert policy.source == str(EXAMPLE)


def test_an_empty_policy_limits_nothing() -> None:
    policy = parse_guardrails(None)
    rows = [share_row(f"2000000000{i:02d}", external=True) for i in range(1, 30)]
    assert policy.enforce(rows) == rows


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"denied_accounts": [200000000004]}, "denied_accounts[0]"),
        ({"allowed_targets": [15]}, "allowed_targets[0]"),
        ({"denied_accounts": "200000000004"}, "denied_accounts"),
        ({"allowed_targets": ["r-ab12"]}, "allowed_targets[0]"),
        ({"allowed_targets": ["20000000000"]}, "allowed_targets[0]"),
        ({"shareable_directories": ["d-XYZ"]}, "shareable_directories[0]"),
        ({"allow_external_handshake": "no"}, "allow_external_handshake"),
        ({"max_targets_per_run": 0}, "max_targets_per_run"),
        ({"max_targets_per_run": True}, "max_targets_per_run"),
        ({"max_targets_per_run": 2.5}, "max_targets_per_run"),
        ({"version": 2}, "version"),
        ({"version": True}, "version"),
        ({"denied_acounts": ["200000000004"]}, "guardrails"),
        ({1: "x", "y": 2}, "guardrails"),
        (["denied_accounts"], "guardrails"),
    ],
)
def test_invalid_policies_are_refused_naming_the_key(data: object, where: str) -> None:
    with pytest.raises(GuardrailsError) as caught:
        parse_guardrails(data, source="policy.yaml")
    err = caught.value
    assert isinstance(err, ParameterError) and isinstance(err, DsShareError)
    assert err.parameter == where
    assert str(err).startswith("Guardrails policy policy.yaml: Invalid ")
    assert "Next step:" in str(err)


def test_an_unquoted_octal_looking_account_id_is_kept_as_typed(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    # YAML 1.1 would read the octal number 15; the input reader keeps the text.
    path.write_text("denied_accounts:\n  - 000000000017\n  - 012345670123\n")
    assert load_guardrails(path).denied_accounts == {"000000000017", "012345670123"}
    with pytest.raises(GuardrailsError, match="quote ids"):
        parse_guardrails({"denied_accounts": [15]})


def test_a_missing_or_unreadable_policy_file_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(GuardrailsError, match="readable"):
        load_guardrails(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe denied")
    with pytest.raises(GuardrailsError, match="readable UTF-8"):
        load_guardrails(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("denied_accounts: [unclosed\n")
    with pytest.raises(GuardrailsError, match="valid YAML"):
        load_guardrails(broken)


def test_the_environment_variable_activates_a_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert active_guardrails() is None
    explicit = Guardrails(max_targets_per_run=3)
    assert active_guardrails(explicit) is explicit
    monkeypatch.setenv(ENV_VAR, str(EXAMPLE))
    active = active_guardrails()
    assert active is not None and active.max_targets_per_run == 50
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone.yaml"))
    with pytest.raises(GuardrailsError):
        active_guardrails()


def test_each_rule_refuses_with_its_own_check_code_naming_the_rule() -> None:
    policy = parse_guardrails(
        {
            "shareable_directories": [DIR],
            "allowed_targets": ["200000000004", "ou-ab12-cd34ef56"],
            "denied_accounts": ["200000000005"],
            "allow_external_handshake": False,
        },
        source="g.yaml",
    )
    ou_accounts = frozenset({"200000000005", "200000000007"})
    rows = [
        share_row("200000000004", directory=OTHER_DIR),  # directory not shareable
        share_row("200000000005"),                       # denied, although in the OU
        share_row("200000000006"),                       # not allowed
        share_row("200000000007"),                       # allowed through the OU
        share_row("200000000004", external=True),        # allowed, but external HANDSHAKE
        share_row("200000000004"),                       # allowed account
    ]
    out = policy.enforce(rows, ou_accounts)
    assert [r.action for r in out] == ["refuse", "refuse", "refuse", "share", "refuse", "share"]
    checks = [r.check for r in out]
    assert checks == ["GuardrailDirectoryNotAllowed", "GuardrailDeniedAccount",
                      "GuardrailTargetNotAllowed", None, "GuardrailExternalHandshake", None]
    for row in out:
        if row.check:
            assert f"rule {CHECKS[row.check]}" in row.reason and "g.yaml" in row.reason


def test_external_organizations_rows_are_not_external_handshakes() -> None:
    policy = parse_guardrails({"allow_external_handshake": False})
    row = share_row("200000000004", external=True, method="ORGANIZATIONS")
    assert policy.enforce([row]) == [row]


def test_unreadable_allowed_ous_allow_only_the_listed_accounts_and_say_why() -> None:
    policy = parse_guardrails({"allowed_targets": ["200000000004", "ou-ab12-cd34ef56"]})
    out = policy.enforce([share_row("200000000004"), share_row("200000000007")], None)
    assert [r.action for r in out] == ["share", "refuse"]
    assert "could not be read" in out[1].reason


def test_over_the_limit_a_run_shares_with_nobody_and_keeps_other_rows() -> None:
    policy = parse_guardrails({"max_targets_per_run": 2})
    rows = [share_row(f"20000000000{i}") for i in range(1, 4)]
    rows.append(share_row("200000000009", action="skip"))
    rows.append(share_row("200000000008", action="unshare"))
    out = policy.enforce(rows)
    assert [r.action for r in out] == ["refuse", "refuse", "refuse", "skip", "unshare"]
    assert {r.check for r in out[:3]} == {"GuardrailMaxTargets"}
    assert "3 accounts; at most 2" in out[0].reason
    assert policy.enforce(rows[:2]) == rows[:2]


def test_rows_refused_by_a_rule_do_not_count_towards_the_limit() -> None:
    policy = parse_guardrails({"max_targets_per_run": 2, "denied_accounts": ["200000000001"]})
    rows = [share_row(f"20000000000{i}") for i in range(1, 4)]
    out = policy.enforce(rows)
    assert [r.check for r in out] == ["GuardrailDeniedAccount", None, None]


def test_never_limits_unshare_reject_or_leave() -> None:
    policy = parse_guardrails({"shareable_directories": [], "denied_accounts": ["200000000004"],
                               "max_targets_per_run": 1})
    rows = [share_row("200000000004", action=a) for a in ("unshare", "reject", "leave", "skip")]
    assert policy.enforce(rows) == rows


def test_a_policy_change_changes_its_identity() -> None:
    one = parse_guardrails({"denied_accounts": ["200000000004"]})
    two = parse_guardrails({"denied_accounts": ["200000000004", "200000000005"]})
    assert one.digest() != two.digest()
    assert one.digest() == parse_guardrails({"denied_accounts": ["200000000004"]}, "x").digest()


def test_errors_pickle_across_processes() -> None:
    import pickle

    with pytest.raises(GuardrailsError) as caught:
        parse_guardrails({"max_targets_per_run": -1}, source="g.yaml")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert str(copy) == str(caught.value) and copy.source == "g.yaml"


def test_a_pending_invitation_of_a_share_request_to_a_forbidden_account_is_refused() -> None:
    policy = parse_guardrails({"denied_accounts": ["200000000005"]})
    pending = dataclasses.replace(share_row("200000000005", action="skip"),
                                  share_status="PendingAcceptance")  # fmt: skip
    shared = dataclasses.replace(pending, share_status="Shared")
    out = policy.enforce([pending, shared, pending], actions=["share", "share", "leave"])
    assert [r.action for r in out] == ["refuse", "skip", "skip"]
    assert out[0].check == "GuardrailDeniedAccount"
    assert "pending invitation will not be accepted" in out[0].reason
    assert policy.enforce([pending]) == [pending]  # no actions given: share rows only
    with pytest.raises(ValueError):
        policy.enforce([pending], actions=[])


def test_protected_accounts_refuse_every_action_and_denied_ones_refuse_accepting() -> None:
    policy = parse_guardrails({"protected_accounts": ["200000000004"],
                               "denied_accounts": ["200000000005"]})  # fmt: skip
    actions = ("share", "accept", "unshare", "reject", "leave")
    protected = policy.enforce([share_row("200000000004", action=a) for a in actions])
    assert {r.check for r in protected} == {"GuardrailProtectedAccount"}
    denied = policy.enforce([share_row("200000000005", action=a) for a in actions])
    assert [r.check for r in denied] == ["GuardrailDeniedAccount", "GuardrailDeniedAccount",
                                         None, None, None]  # fmt: skip


def test_accepting_from_an_external_owner_follows_allow_external_owners() -> None:
    row = dataclasses.replace(share_row("200000000004", action="accept"), external=True)
    assert parse_guardrails({}).enforce([row]) == [row]
    (out,) = parse_guardrails({"allow_external_owners": False}).enforce([row])
    assert out.check == "GuardrailExternalOwner" and "allow_external_owners" in out.reason
    with pytest.raises(GuardrailsError):
        parse_guardrails({"allow_external_owners": "no"})
