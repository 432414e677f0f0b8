"""Specification of dsshare.organization against the sandbox's demo organization."""

from __future__ import annotations

import pytest

from dsshare.connection import Connection
from dsshare.errors import ParameterError
from dsshare.organization import (
    describe_organization,
    expand_targets,
    iter_accounts,
    iter_organizational_units,
    trusted_access_enabled,
)
from dsshare.sandbox import Sandbox


@pytest.fixture
def conn(aws_env: Sandbox) -> Connection:
    return Connection()


def ids(sb: Sandbox, *names: str) -> list[str]:
    return [sb.account_id(name) for name in names]


def test_an_ou_expands_recursively_own_accounts_first(conn: Connection, aws_env: Sandbox) -> None:
    accounts = expand_targets(conn, [aws_env.ou_id("Workloads")])
    assert accounts == ids(aws_env, "prod-app1", "prod-app2", "prod-data", "dev-app1", "dev-app2", "dev-data")


def test_targets_mix_accounts_and_ous_stably_without_duplicates(conn: Connection, aws_env: Sandbox) -> None:
    accounts = expand_targets(
        conn,
        [aws_env.account_id("dev-data"), aws_env.ou_id("Dev"), aws_env.ou_id("Sandbox"),
         aws_env.account_id("dev-data")],
    )
    assert accounts == ids(aws_env, "dev-data", "dev-app1", "dev-app2", "sandbox-alice", "sandbox-bob", "sandbox-carol")


def test_the_root_expands_to_every_account(conn: Connection, aws_env: Sandbox) -> None:
    accounts = expand_targets(conn, [aws_env.manifest["root_id"]])
    assert sorted(accounts) == sorted(a["id"] for a in aws_env.manifest["accounts"])


def test_accounts_and_ous_are_listed_in_full(conn: Connection, aws_env: Sandbox) -> None:
    assert {a["Id"] for a in iter_accounts(conn)} == {a["id"] for a in aws_env.manifest["accounts"]}
    ous = {ou["name"]: ou for ou in iter_organizational_units(conn)}
    assert set(ous) == {"Infrastructure", "Workloads", "Prod", "Dev", "Sandbox"}
    assert ous["Prod"]["parent_id"] == ous["Workloads"]["id"]
    assert ous["Workloads"]["parent_id"] == aws_env.manifest["root_id"]


def test_listings_use_paginators(conn: Connection, aws_env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    client = conn.client("organizations")
    used: list[str] = []
    original = client.get_paginator

    def spy(name: str):  # type: ignore[no-untyped-def]
        used.append(name)
        return original(name)

    monkeypatch.setattr(client, "get_paginator", spy)
    expand_targets(conn, [aws_env.ou_id("Workloads")])
    list(iter_accounts(conn))
    assert {"list_accounts_for_parent", "list_organizational_units_for_parent", "list_accounts"} <= set(used)


def test_organization_and_trusted_access(conn: Connection, aws_env: Sandbox) -> None:
    org = describe_organization(conn)
    assert org is not None
    assert org["FeatureSet"] == "ALL"
    assert org["MasterAccountId"] == aws_env.manifest["management_account_id"]
    assert trusted_access_enabled(conn) is True
    conn.client("organizations").disable_aws_service_access(ServicePrincipal="ds.amazonaws.com")
    assert trusted_access_enabled(conn) is False


def test_a_member_sees_its_organization_but_not_the_members(conn: Connection, aws_env: Sandbox) -> None:
    member = aws_env.account_id("prod-app1")
    org = conn.client("organizations", account_id=member).describe_organization()["Organization"]
    assert org["MasterAccountId"] == aws_env.manifest["management_account_id"]


@pytest.mark.parametrize("bad", [["prod-app1"], [], "200000000004", ["ou-XYZ"]])
def test_bad_targets_are_refused_without_a_call(conn: Connection, aws_env: Sandbox, bad: object) -> None:
    before = len(aws_env.request_log)
    with pytest.raises(ParameterError):
        expand_targets(conn, bad)  # type: ignore[arg-type]
    assert len(aws_env.request_log) == before
