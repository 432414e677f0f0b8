"""ListAccounts and ListAccountsForParent: the sandbox pages them without moto's full scan
per page, and answers byte for byte as moto's own Organizations does.

Each comparison walks the same listings over HTTP twice against the same world: through
the sandbox's :class:`~dsshare.sandbox.organization.ListingResponse`, then with its two
methods taken away, so that moto's own ``OrganizationsResponse`` methods answer.
"""

from __future__ import annotations

import http.client
import json
import re
from typing import Any

import pytest
from botocore.paginate import TokenEncoder
from moto.organizations.responses import OrganizationsResponse

from dsshare.sandbox import Sandbox, dispatch
from dsshare.sandbox.organization import ListingResponse

TARGET = "AWSOrganizationsV20161128."
HEADERS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/organizations/"
    "aws4_request, SignedHeaders=host, Signature=0",
    "Content-Type": "application/x-amz-json-1.1",
}
#: An error's request id differs from call to call.
REQUEST_ID = re.compile(rb'"RequestId": "[^"]*"')


def call(sb: Sandbox, operation: str, params: dict[str, Any]) -> tuple[int, bytes]:
    """One Organizations call in the management account: HTTP status and body as sent."""
    host, port = sb.endpoint_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", "/", body=json.dumps(params),
                           headers={**HEADERS, "X-Amz-Target": TARGET + operation})  # fmt: skip
        response = connection.getresponse()
        return response.status, REQUEST_ID.sub(b'"RequestId": ""', response.read())
    finally:
        connection.close()


def walk(sb: Sandbox, operation: str, params: dict[str, Any]) -> list[tuple[int, bytes]]:
    """Every page of a listing, following NextToken until there is none (or an error)."""
    pages = []
    token = params.get("NextToken")
    while len(pages) < 200:
        status, body = call(sb, operation, {**params, **({"NextToken": token} if token else {})})
        pages.append((status, body))
        token = json.loads(body).get("NextToken") if status == 200 else None
        if not token:
            break
    return pages


def grow(sb: Sandbox, org: Any, accounts: int) -> str:
    """Add ``accounts`` accounts over the API, a third of them moved to a new OU; its id."""
    root = sb.manifest["root_id"]
    ou = org.create_organizational_unit(ParentId=root, Name="listing")["OrganizationalUnit"]["Id"]
    for n in range(accounts):
        status = org.create_account(AccountName=f"listing-{n:02d}",
                                    Email=f"listing-{n:02d}@example.com")  # fmt: skip
        account_id = status["CreateAccountStatus"]["AccountId"]
        if n % 3 == 0:
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ou)
    return ou


def listings(sb: Sandbox, ou: str) -> list[tuple[str, dict[str, Any]]]:
    """The listings compared: page sizes from 1 to the default and beyond, each parent."""
    root = sb.manifest["root_id"]
    first_ou = sb.manifest["ous"][0]["id"]
    cases: list[tuple[str, dict[str, Any]]] = [
        ("ListAccounts", {} if size is None else {"MaxResults": size})
        for size in (None, 1, 2, 7, 20, 0, 500)
    ]
    cases += [
        ("ListAccountsForParent", {"ParentId": parent, **({} if size is None else {"MaxResults": size})})
        for parent in (root, ou, first_ou) for size in (None, 1, 3, 20)
    ]  # fmt: skip
    return cases


def both_ways(sb: Sandbox, monkeypatch: pytest.MonkeyPatch,
              cases: list[tuple[str, dict[str, Any]]]) -> tuple[list[Any], list[Any]]:  # fmt: skip
    """Each case walked through the sandbox's listing, then through moto's own methods."""
    ours = [walk(sb, operation, params) for operation, params in cases]
    with monkeypatch.context() as plain:
        plain.delattr(ListingResponse, "list_accounts")
        plain.delattr(ListingResponse, "list_accounts_for_parent")
        moto_s = [walk(sb, operation, params) for operation, params in cases]
    return ours, moto_s


def test_account_lists_answer_as_moto_s_own_byte_for_byte(
    sb: Sandbox, aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    ou = grow(sb, aws("organizations"), 25)
    cases = listings(sb, ou)

    ours, moto_s = both_ways(sb, monkeypatch, cases)

    for (operation, params), mine, theirs in zip(cases, ours, moto_s, strict=True):
        assert mine == theirs, (operation, params)
    # What was compared is real paging: every account, in many pages, once each.
    by_two = ours[cases.index(("ListAccounts", {"MaxResults": 2}))]
    listed = [a["Id"] for _, body in by_two for a in json.loads(body)["Accounts"]]
    assert len(by_two) > 10 and all(status == 200 for status, _ in by_two)
    assert len(listed) == len(set(listed)) == len(sb.manifest["accounts"]) + 25
    in_ou = ours[cases.index(("ListAccountsForParent", {"ParentId": ou, "MaxResults": 3}))]
    assert sum(len(json.loads(body)["Accounts"]) for _, body in in_ou) == 9
    assert len(in_ou) == 3


def test_tokens_and_page_sizes_moto_refuses_are_refused_alike(
    sb: Sandbox, aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    ou = grow(sb, aws("organizations"), 4)
    root = sb.manifest["root_id"]
    token_for_root = json.loads(call(sb, "ListAccountsForParent",
                                     {"ParentId": root, "MaxResults": 1})[1])["NextToken"]  # fmt: skip
    account_token = json.loads(call(sb, "ListAccounts", {"MaxResults": 1})[1])["NextToken"]
    cases: list[tuple[str, dict[str, Any]]] = [
        ("ListAccountsForParent", {"ParentId": ou, "NextToken": token_for_root}),
        ("ListAccountsForParent", {"ParentId": root, "NextToken": account_token}),
        ("ListAccounts", {"NextToken": TokenEncoder().encode({"uniqueAttributes": "1.5"})}),
        ("ListAccounts", {"NextToken": TokenEncoder().encode({"other": "shape"})}),
        ("ListAccounts", {"NextToken": "not-a-token"}),
        ("ListAccounts", {"NextToken": ""}),
        ("ListAccounts", {"MaxResults": -3}),
        ("ListAccountsForParent", {"ParentId": "ou-none-12345678", "MaxResults": 2}),
        ("ListAccountsForParent", {"ParentId": root, "MaxResults": -1}),
    ]

    ours, moto_s = both_ways(sb, monkeypatch, cases)

    for (operation, params), mine, theirs in zip(cases, ours, moto_s, strict=True):
        assert mine == theirs, (operation, params)
    refused = [json.loads(pages[0][1]).get("__type") for pages in ours[:3]]
    assert refused == ["InvalidToken", "InvalidToken", "InvalidToken"]
    assert json.loads(ours[7][0][1])["__type"] == "ParentNotFoundException"


def test_accounts_that_join_leave_or_move_are_listed_where_they_now_are(
    sb: Sandbox, aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = aws("organizations")
    ou = grow(sb, org, 6)
    cases = listings(sb, ou)
    before, _ = both_ways(sb, monkeypatch, cases)  # the sandbox has now read this world
    root = sb.manifest["root_id"]
    member = sb.manifest["accounts"][1]["id"]
    org.move_account(AccountId=member, SourceParentId=sb.manifest["accounts"][1]["ou_id"],
                     DestinationParentId=ou)  # fmt: skip
    org.create_account(AccountName="late", Email="late@example.com")
    leaving = next(a["Id"] for a in org.list_accounts_for_parent(ParentId=root)["Accounts"]
                   if a["Name"] == "listing-01")  # fmt: skip
    org.remove_account_from_organization(AccountId=leaving)

    ours, moto_s = both_ways(sb, monkeypatch, cases)

    assert ours == moto_s
    assert ours != before
    listed = {a["Id"]: a["Name"] for _, body in ours[0] for a in json.loads(body)["Accounts"]}
    assert leaving not in listed
    assert "late" in listed.values()
    in_ou = {a["Id"] for _, body in ours[cases.index(("ListAccountsForParent", {"ParentId": ou}))]
             for a in json.loads(body)["Accounts"]}  # fmt: skip
    assert member in in_ou


def test_the_sandbox_serves_organizations_through_its_listing_class(sb: Sandbox) -> None:
    app = dispatch.create_app("organizations")
    (view,) = app.view_functions.values()
    assert view.callback.__self__ is ListingResponse
    assert "list_accounts" not in vars(OrganizationsResponse) or (
        vars(OrganizationsResponse)["list_accounts"] is not vars(ListingResponse)["list_accounts"]
    )
