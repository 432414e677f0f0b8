"""The sandbox's answers against answers AWS published or users recorded from AWS.

The recorded answers, each with its source quoted, are in tests/fixtures/aws_examples.json.
Values differ (ids, times); the members present, their nesting and the fixed values
(type, stage, status for a Shared share, error codes and messages) must match.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox

EXAMPLES = json.loads((Path(__file__).parent / "fixtures" / "aws_examples.json").read_text())


def members(value: Any, name: str = "") -> Any:
    """The member names of a structure, nested, with each scalar's kind; lists by their
    first item. Timestamps are one kind: the CLI prints them as ISO text, the wire sends
    epoch seconds."""
    if isinstance(value, dict):
        return {key: members(item, key) for key, item in value.items()}
    if isinstance(value, list):
        return [members(value[0])] if value and isinstance(value[0], dict) else "list"
    if name.endswith(("Time", "DateTime")):
        return "timestamp"
    return type(value).__name__


def accepted_handshake(sb: Sandbox, aws, notes: str | None) -> tuple[str, str]:
    """A Standard directory shared by HANDSHAKE with sandbox-bob, accepted: (bob, shared id)."""
    sb.set_transition_delay(0)
    bob = sb.account_id("sandbox-bob")
    extra = {"ShareNotes": notes} if notes is not None else {}
    shared_id = aws("ds").share_directory(
        DirectoryId=sb.directory_id("corp.example.com"),
        ShareTarget={"Id": bob, "Type": "ACCOUNT"},
        ShareMethod="HANDSHAKE",
        **extra,
    )["SharedDirectoryId"]
    aws("ds", account_id=bob).accept_shared_directory(SharedDirectoryId=shared_id)
    return bob, shared_id


def raw_json(client: Any, call: str, **params: Any) -> dict[str, Any]:
    """The JSON body the sandbox sent for one call (before botocore parses timestamps)."""
    seen: list[Any] = []
    client.meta.events.register(
        "after-call.ds", lambda http_response, **_: seen.append(http_response)
    )
    getattr(client, call)(**params)
    [response] = seen
    assert response.headers["Content-Type"] == "application/x-amz-json-1.1"
    request_id = response.headers["x-amzn-RequestId"]
    assert str(uuid.UUID(request_id)) == request_id
    return dict(json.loads(response.content))


def test_the_consumer_s_shared_microsoft_ad_has_the_documented_members(sb: Sandbox, aws) -> None:
    [documented] = EXAMPLES["describe_directories_shared_microsoft_ad"]["output"][
        "DirectoryDescriptions"
    ]
    bob, shared_id = accepted_handshake(sb, aws, "These are my share notes")

    [view] = raw_json(aws("ds", account_id=bob), "describe_directories", DirectoryIds=[shared_id])[
        "DirectoryDescriptions"
    ]

    assert members(view) == members(documented)
    for fixed in (
        "Size",
        "Edition",
        "Stage",
        "ShareStatus",
        "ShareMethod",
        "ShareNotes",
        "Type",
        "SsoEnabled",
        "DesiredNumberOfDomainControllers",
    ):
        assert view[fixed] == documented[fixed], fixed
    # As in the example, the consumer's alias and access URL are its own directory id's.
    assert view["Alias"] == view["DirectoryId"] == shared_id
    assert view["AccessUrl"] == f"{shared_id}.awsapps.com"
    assert view["LaunchTime"] <= view["StageLastUpdatedDateTime"]


def test_without_share_notes_the_consumer_s_entry_has_no_share_notes_member(
    sb: Sandbox, aws
) -> None:
    [documented] = EXAMPLES["describe_directories_shared_microsoft_ad"]["output"][
        "DirectoryDescriptions"
    ]
    bob, shared_id = accepted_handshake(sb, aws, None)

    [view] = raw_json(aws("ds", account_id=bob), "describe_directories", DirectoryIds=[shared_id])[
        "DirectoryDescriptions"
    ]

    expected = members(documented)
    del expected["ShareNotes"]
    assert members(view) == expected


def test_the_owner_s_shared_directory_records_have_the_recorded_members(sb: Sandbox, aws) -> None:
    [recorded] = EXAMPLES["describe_shared_directories_owner"]["output"]["SharedDirectories"]
    _, with_notes = accepted_handshake(sb, aws, "This is for testing purpose")
    corp = sb.directory_id("corp.example.com")

    records = {
        r["SharedDirectoryId"]: r
        for r in raw_json(aws("ds"), "describe_shared_directories", OwnerDirectoryId=corp)[
            "SharedDirectories"
        ]
    }

    assert members(records[with_notes]) == members(recorded)
    assert (records[with_notes]["ShareMethod"], records[with_notes]["ShareStatus"]) == (
        recorded["ShareMethod"],
        recorded["ShareStatus"],
    )
    # The seed's ORGANIZATIONS shares were made without notes: no ShareNotes member.
    without = [r for r in records.values() if r["ShareMethod"] == "ORGANIZATIONS"]
    assert without
    expected = members(recorded)
    del expected["ShareNotes"]
    assert all(members(r) == expected for r in without)


def test_accept_answers_the_shared_directory_record(sb: Sandbox, aws) -> None:
    """AcceptSharedDirectory's SharedDirectory has the members of the owner's record."""
    [recorded] = EXAMPLES["describe_shared_directories_owner"]["output"]["SharedDirectories"]
    sb.set_transition_delay(0)
    bob = sb.account_id("sandbox-bob")
    shared_id = aws("ds").share_directory(
        DirectoryId=sb.directory_id("corp.example.com"),
        ShareTarget={"Id": bob, "Type": "ACCOUNT"},
        ShareMethod="HANDSHAKE",
        ShareNotes="notes",
    )["SharedDirectoryId"]
    accepted = raw_json(
        aws("ds", account_id=bob), "accept_shared_directory", SharedDirectoryId=shared_id
    )["SharedDirectory"]
    assert members(accepted) == members(recorded)


def test_the_owner_description_carries_no_empty_radius_settings(sb: Sandbox, aws) -> None:
    """No ``RadiusSettings: {}`` when RADIUS is not configured, on either side."""
    owner = raw_json(aws("ds"), "describe_directories")["DirectoryDescriptions"]
    assert owner and all("RadiusSettings" not in d and "RadiusStatus" not in d for d in owner)
    views = raw_json(aws("ds", account_id=sb.account_id("prod-app1")), "describe_directories")[
        "DirectoryDescriptions"
    ]
    assert views and all("RadiusSettings" not in v["OwnerDirectoryDescription"] for v in views)


@pytest.mark.parametrize(
    "example, call",
    [
        ("describe_event_topics_on_shared_directory", "describe_event_topics"),
        ("get_snapshot_limits_on_shared_directory", "get_snapshot_limits"),
    ],
)
def test_refusals_on_a_shared_directory_read_as_aws_s(
    sb: Sandbox, aws, example: str, call: str
) -> None:
    recorded = EXAMPLES[example]
    prod_app1 = sb.account_id("prod-app1")
    shared_id = next(
        s["shared_directory_id"]
        for s in sb.manifest["shares"]
        if s["shared_account_id"] == prod_app1
    )
    with pytest.raises(ClientError) as excinfo:
        getattr(aws("ds", account_id=prod_app1), call)(DirectoryId=shared_id)
    response = excinfo.value.response
    assert response["Error"] == {"Code": recorded["code"], "Message": recorded["message"]}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == recorded["status"]
