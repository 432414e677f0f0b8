"""Limit and NextToken on DescribeSharedDirectories and DescribeDirectories, and botocore's paginators."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from dsshare.sandbox import Sandbox

TARGETS = [f"3000000000{n:02d}" for n in range(1, 21)]  # 20 accounts, any 12 digits will do


def error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


@pytest.fixture
def corp_with_shares(sb: Sandbox, aws) -> str:
    """corp.example.com with its 3 seeded records plus 20 HANDSHAKE ones: 23 in all."""
    sb.set_transition_delay(0)
    corp = sb.directory_id("corp.example.com")
    ds = aws("ds")
    for account in TARGETS:
        ds.share_directory(
            DirectoryId=corp,
            ShareTarget={"Id": account, "Type": "ACCOUNT"},
            ShareMethod="HANDSHAKE",
        )
    return corp


def pages(call, key: str, limit: int, **kwargs) -> list[list[dict]]:
    collected, token = [], None
    while True:
        answer = call(Limit=limit, **({"NextToken": token} if token else {}), **kwargs)
        collected.append(answer[key])
        token = answer.get("NextToken")
        if not token:
            return collected


def test_shared_directories_page_by_limit_and_add_up_to_the_unpaged_list(
    corp_with_shares: str, aws
) -> None:
    ds = aws("ds")
    everything = ds.describe_shared_directories(OwnerDirectoryId=corp_with_shares)[
        "SharedDirectories"
    ]
    assert len(everything) == 23

    paged = pages(
        ds.describe_shared_directories, "SharedDirectories", 5, OwnerDirectoryId=corp_with_shares
    )

    assert [len(p) for p in paged] == [5, 5, 5, 5, 3]
    flat = [r["SharedDirectoryId"] for p in paged for r in p]
    assert flat == [r["SharedDirectoryId"] for r in everything]
    assert len(set(flat)) == 23


def test_a_limit_larger_than_the_list_gives_one_page_without_a_token(
    corp_with_shares: str, aws
) -> None:
    answer = aws("ds").describe_shared_directories(OwnerDirectoryId=corp_with_shares, Limit=100)
    assert len(answer["SharedDirectories"]) == 23
    assert "NextToken" not in answer


def test_limit_zero_means_the_default_page_size(corp_with_shares: str, aws) -> None:
    answer = aws("ds").describe_shared_directories(OwnerDirectoryId=corp_with_shares, Limit=0)
    assert len(answer["SharedDirectories"]) == 23


def test_the_botocore_paginator_for_shared_directories(corp_with_shares: str, aws) -> None:
    ds = aws("ds")
    paginator = ds.get_paginator("describe_shared_directories")
    page_sizes = [
        len(p["SharedDirectories"])
        for p in paginator.paginate(
            OwnerDirectoryId=corp_with_shares, PaginationConfig={"PageSize": 4}
        )
    ]
    assert page_sizes == [4, 4, 4, 4, 4, 3]
    full = paginator.paginate(
        OwnerDirectoryId=corp_with_shares, PaginationConfig={"PageSize": 7}
    ).build_full_result()
    assert (
        full["SharedDirectories"]
        == ds.describe_shared_directories(OwnerDirectoryId=corp_with_shares)["SharedDirectories"]
    )


def test_the_botocore_paginator_honours_max_items_and_resumes(corp_with_shares: str, aws) -> None:
    paginator = aws("ds").get_paginator("describe_shared_directories")
    first = paginator.paginate(
        OwnerDirectoryId=corp_with_shares, PaginationConfig={"PageSize": 4, "MaxItems": 10}
    ).build_full_result()
    assert len(first["SharedDirectories"]) == 10
    rest = paginator.paginate(
        OwnerDirectoryId=corp_with_shares,
        PaginationConfig={"PageSize": 4, "StartingToken": first["NextToken"]},
    ).build_full_result()
    assert len(rest["SharedDirectories"]) == 13
    ids = [r["SharedDirectoryId"] for r in first["SharedDirectories"] + rest["SharedDirectories"]]
    assert len(set(ids)) == 23


@pytest.fixture
def many_directories(sb: Sandbox, aws) -> list[str]:
    """The management account's 3 us-east-1 directories plus 6 more."""
    mgmt = sb.manifest["management_account_id"]
    for n in range(6):
        sb.add_directory(mgmt, "us-east-1", f"extra{n}.example.com", edition="Standard")
    return [d["DirectoryId"] for d in aws("ds").describe_directories()["DirectoryDescriptions"]]


def test_directories_page_by_limit_and_add_up_to_the_unpaged_list(
    many_directories: list[str], aws
) -> None:
    assert len(many_directories) == 9
    paged = pages(aws("ds").describe_directories, "DirectoryDescriptions", 2)
    assert [len(p) for p in paged] == [2, 2, 2, 2, 1]
    assert [d["DirectoryId"] for p in paged for d in p] == many_directories


def test_the_botocore_paginator_for_directories(many_directories: list[str], aws) -> None:
    paginator = aws("ds").get_paginator("describe_directories")
    result = paginator.paginate(PaginationConfig={"PageSize": 4}).build_full_result()
    assert [d["DirectoryId"] for d in result["DirectoryDescriptions"]] == many_directories


def test_a_consumers_views_are_paged_with_its_own_directories(sb: Sandbox, aws) -> None:
    sb.set_transition_delay(0)
    network = sb.account_id("network")
    own = [sb.add_directory(network, "us-east-1", f"net{n}.example.com") for n in range(2)]
    owner = aws("ds")
    shared = [
        owner.share_directory(
            DirectoryId=sb.directory_id(name),
            ShareTarget={"Id": network, "Type": "ACCOUNT"},
            ShareMethod="ORGANIZATIONS",
        )["SharedDirectoryId"]
        for name in ("corp.example.com", "global.example.com")
    ]
    consumer = aws("ds", account_id=network)

    paged = pages(consumer.describe_directories, "DirectoryDescriptions", 1)

    assert [len(p) for p in paged] == [1, 1, 1, 1]
    assert sorted(d["DirectoryId"] for p in paged for d in p) == sorted(own + shared)
    assert [d["Type"] for p in paged for d in p].count("SharedMicrosoftAD") == 2


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "%%%",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(
            json.dumps("a string").encode()
        ).decode(),  # crashed moto's paginator (HTTP 500)
        base64.b64encode(json.dumps({"uniqueAttributes": "d-0000000000"}).encode()).decode(),
    ],
)
def test_a_bad_token_is_invalid_next_token(corp_with_shares: str, aws_once, token: str) -> None:
    ds = aws_once("ds")
    for call, kwargs in (
        (ds.describe_shared_directories, {"OwnerDirectoryId": corp_with_shares}),
        (ds.describe_directories, {}),
    ):
        with pytest.raises(ClientError) as excinfo:
            call(NextToken=token, **kwargs)
        assert error(excinfo) == ("InvalidNextTokenException", "The NextToken value is not valid.")
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_token_from_another_directory_is_invalid_next_token(
    corp_with_shares: str, sb: Sandbox, aws, aws_once
) -> None:
    token = aws("ds").describe_shared_directories(OwnerDirectoryId=corp_with_shares, Limit=2)[
        "NextToken"
    ]
    with pytest.raises(ClientError) as excinfo:
        aws_once("ds").describe_shared_directories(
            OwnerDirectoryId=sb.directory_id("global.example.com"), NextToken=token
        )
    assert error(excinfo)[0] == "InvalidNextTokenException"


def test_a_token_from_one_operation_is_invalid_for_the_other(
    corp_with_shares: str, aws, aws_once
) -> None:
    token = aws("ds").describe_shared_directories(OwnerDirectoryId=corp_with_shares, Limit=2)[
        "NextToken"
    ]
    with pytest.raises(ClientError) as excinfo:
        aws_once("ds").describe_directories(NextToken=token)
    assert error(excinfo)[0] == "InvalidNextTokenException"


def test_a_negative_limit_is_invalid_parameter_on_the_server_too(sb: Sandbox) -> None:
    ds = boto3.client(
        "ds",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )
    for call, kwargs in (
        (ds.describe_shared_directories, {"OwnerDirectoryId": sb.directory_id("corp.example.com")}),
        (ds.describe_directories, {}),
    ):
        with pytest.raises(ClientError) as excinfo:
            call(Limit=-1, **kwargs)
        code, message = error(excinfo)
        assert code == "InvalidParameterException"
        assert "'Limit'" in message and "greater than or equal to 0" in message
