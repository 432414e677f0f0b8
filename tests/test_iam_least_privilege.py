"""Least privilege: the IAM policies in docs/iam allow every AWS action the kit makes, and
grant nothing it never uses.

Representative flows run against the sandbox: the runbooks as ``dsshare run`` child
processes (their kernels' calls are read from the sandbox's request log), and library and
console calls in this process (also recorded by a botocore ``before-call`` hook registered
for every session created, which must agree with the log). Each call is attributed to the
role that makes it: the operator (owner-operator.json, the identity running the kit, and
the cross-account role in an owner account that is not the caller's), the consumer
acceptor (consumer-acceptor.json, the cross-account role in consumer accounts), or the
inventory reader (inventory-reader.json, the reader identity and the member role it
assumes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.handlers
import pytest

import dsshare
from dsshare.inventory.collect import collect_inventory, enabled_regions
from dsshare.sandbox import Sandbox

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "docs" / "iam"
PARAMETERS = REPO / "parameters"
#: AWS requires no permission for these (GetCallerIdentity works even when denied).
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}
OPERATOR, ACCEPTOR, READER = "owner-operator", "consumer-acceptor", "inventory-reader"

Action = tuple[str, str]  # (iam action, account id)


def policy_actions(name: str) -> set[str]:
    """Every action the policy allows (the documents list actions exactly, no wildcards)."""
    document = json.loads((POLICIES / f"{name}.json").read_text())
    assert document["Version"] == "2012-10-17"
    actions: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement
        listed = statement["Action"]
        for action in [listed] if isinstance(listed, str) else listed:
            assert "*" not in action, f"{name}: wildcard {action}"
            actions.add(action)
    return actions


@pytest.fixture(scope="module")
def hook_calls() -> Iterator[list[str]]:
    """Every API call made by sessions created in this process while the module runs."""
    seen: list[str] = []

    def record(model: Any, **_: Any) -> None:
        seen.append(f"{model.service_model.signing_name}:{model.name}")

    botocore.handlers.BUILTIN_HANDLERS.append(("before-call", record))
    yield seen
    botocore.handlers.BUILTIN_HANDLERS.remove(("before-call", record))


def logged(sb: Sandbox) -> list[Action]:
    """Calls the sandbox served since its log was cleared (injected faults excluded)."""
    return [(f"{e['service']}:{e['operation']}", e["account_id"]) for e in sb.request_log
            if not e["injected"]]  # fmt: skip


def dsshare_run(sb: Sandbox, runbook: str, tmp: Path, *args: str) -> None:
    folder = tmp / f"{runbook}-{len(list(tmp.iterdir()))}"
    done = subprocess.run(
        [sys.executable, "-m", "dsshare.cli", "run", runbook, *args, "--out", str(folder)],
        env=dict(os.environ), capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]


def flows(sb: Sandbox, tmp: Path) -> Iterator[tuple[str, Callable[[str], str], Callable[[], None]]]:
    """(name, role of an account, action) for each representative flow."""
    management = sb.manifest["management_account_id"]
    services_owner = sb.account_id("shared-services")
    services = sb.directory_id("services.example.com")

    def operator_then_acceptor(account: str) -> str:
        return OPERATOR if account == management else ACCEPTOR

    def reader(account: str) -> str:
        return READER

    def owner_member(account: str) -> str:
        return OPERATOR if account in (management, services_owner) else ACCEPTOR

    apply = ("-p", "dry_run", "false")
    yield ("share_directory runbook (HANDSHAKE, auto-accept)", operator_then_acceptor,
           lambda: dsshare_run(sb, "share_directory", tmp, "-f",
                               str(PARAMETERS / "share_directory.sandbox.yaml"), *apply))
    yield ("reconcile_shares runbook (ORGANIZATIONS and HANDSHAKE, prune)", operator_then_acceptor,
           lambda: dsshare_run(sb, "reconcile_shares", tmp, "-f",
                               str(PARAMETERS / "reconcile_shares.sandbox.yaml"), *apply,
                               "-p", "prune", "true"))
    yield ("unshare_directory runbook", operator_then_acceptor,
           lambda: dsshare_run(sb, "unshare_directory", tmp, "-f",
                               str(PARAMETERS / "unshare_directory.sandbox.yaml"), *apply))
    def member_owner_library() -> None:
        conn = dsshare.Connection()
        dev2, bob = sb.account_id("dev-app2"), sb.account_id("sandbox-bob")
        dsshare.reject(conn, services, [dev2], owner_account_id=services_owner, progress=False)
        dsshare.share(conn, services, [bob], auto_accept=True, owner_account_id=services_owner,
                      progress=False)
        dsshare.leave(conn, services, [bob], owner_account_id=services_owner, progress=False)
        dsshare.unshare(conn, services, [dev2], owner_account_id=services_owner, progress=False)

    yield ("library: directory owned by a member (reject, share, leave, unshare)", owner_member,
           member_owner_library)

    yield ("respond_to_invitations runbook (accept)", operator_then_acceptor,
           lambda: dsshare_run(sb, "respond_to_invitations", tmp, "-f",
                               str(PARAMETERS / "respond_to_invitations.sandbox.yaml"), *apply))
    yield ("inventory_report runbook", reader,
           lambda: dsshare_run(sb, "inventory_report", tmp, "-f",
                               str(PARAMETERS / "inventory_report.sandbox.yaml")))
    yield ("adopt_shares runbook (desired state and Terraform)", reader,
           lambda: dsshare_run(sb, "adopt_shares", tmp, "-f",
                               str(PARAMETERS / "adopt_shares.sandbox.yaml")))

    def all_regions_inventory() -> None:
        conn = dsshare.Connection()
        regions = [r for r in enabled_regions(conn) if r in ("us-east-1", "eu-west-1")]
        collect_inventory(conn, all_accounts=True, regions=regions)

    yield ("inventory over every enabled Region", reader, all_regions_inventory)

    def console() -> None:
        from dsshare.widgets.services import LibraryServices

        service = LibraryServices(dsshare.Connection())
        service.identity()
        service.directories()
        service.targets()
        glob = sb.directory_id("global.example.com")
        plan = service.plan(glob, [sb.account_id("sandbox-carol")], method="HANDSHAKE",
                            notes="", allow_external=False)
        service.apply(plan, plan.fingerprint)

    yield ("console service", operator_then_acceptor, console)


@pytest.fixture(scope="module")
def recorded(
    sandbox: Sandbox, hook_calls: list[str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, set[str]]:
    """Actions made per role, over every flow (attributed by the account each call ran in)."""
    tmp = tmp_path_factory.mktemp("iam")
    per_role: dict[str, set[str]] = {OPERATOR: set(), ACCEPTOR: set(), READER: set()}
    with pytest.MonkeyPatch.context() as mp:
        sandbox.reset()
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "DSSHARE_GUARDRAILS"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", sandbox.endpoint_url)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_CONFIG_FILE", "/dev/null")
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        for _name, role_of, act in flows(sandbox, tmp):
            sandbox.clear_request_log()
            before = len(hook_calls)
            act()
            calls = logged(sandbox)
            assert calls, _name
            in_process = set(hook_calls[before:])
            # The hook saw exactly what the sandbox served for in-process flows (runbook
            # flows run in kernels: only the request log sees them).
            assert in_process <= {action for action, _ in calls}, _name
            for action, account in calls:
                per_role[role_of(account)].add(action)
    return per_role


@pytest.mark.parametrize("role", [OPERATOR, ACCEPTOR, READER])
def test_each_policy_allows_every_action_its_role_makes(
    recorded: dict[str, set[str]], role: str
) -> None:
    missing = recorded[role] - NO_PERMISSION_NEEDED - policy_actions(role)
    assert not missing, f"{role}.json lacks {sorted(missing)}"


@pytest.mark.parametrize("role", [OPERATOR, ACCEPTOR, READER])
def test_no_policy_grants_an_action_its_role_never_makes(
    recorded: dict[str, set[str]], role: str
) -> None:
    unused = policy_actions(role) - recorded[role]
    assert not unused, f"{role}.json grants {sorted(unused)}, never used"


def test_the_inventory_reader_cannot_change_anything() -> None:
    mutating = ("Share", "Unshare", "Accept", "Reject", "Delete", "Create", "Enable", "Update")
    changes = [a for a in policy_actions(READER) if a.split(":")[1].startswith(mutating)]
    assert changes == []


def test_the_consumer_acceptor_cannot_share_or_unshare() -> None:
    assert not {"ds:ShareDirectory", "ds:UnshareDirectory"} & policy_actions(ACCEPTOR)


def test_recorded_actions_for_review(recorded: dict[str, set[str]]) -> None:
    """The recorded sets themselves: every role made calls, and only to the services
    the kit is about."""
    print(json.dumps({r: sorted(a) for r, a in recorded.items()}, indent=1))
    for role, actions in recorded.items():
        assert actions, role
        assert {a.split(":")[0] for a in actions} <= {"ds", "organizations", "sts", "ec2"}
