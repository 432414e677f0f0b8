"""Specification of dsshare.errors: one base, structured fields, picklable, readable."""

from __future__ import annotations

import pickle

import pytest
from botocore.exceptions import ClientError

from dsshare import errors
from dsshare.errors import (
    AWS_ERROR_CLASSES,
    AwsError,
    DsShareError,
    ParameterError,
    PlanMismatchError,
    PreflightError,
    WaitTimeoutError,
    from_client_error,
)

#: Every error code of docs/aws-sharing.md's table, plus throttling.
DOCUMENTED_CODES = [
    "DirectoryAlreadySharedException",
    "EntityDoesNotExistException",
    "InvalidTargetException",
    "InvalidParameterException",
    "ClientException",
    "ShareLimitExceededException",
    "OrganizationsException",
    "AccessDeniedException",
    "UnsupportedOperationException",
    "DirectoryNotSharedException",
    "InvalidNextTokenException",
    "ServiceException",
    "ThrottlingException",
]


def _client_error(code: str, message: str = "boom", request_id: str = "req-1") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"RequestId": request_id}},
        "ShareDirectory",
    )


@pytest.mark.parametrize("code", DOCUMENTED_CODES)
def test_every_documented_code_maps_to_its_own_class(code: str) -> None:
    err = from_client_error(_client_error(code), "ShareDirectory")
    assert type(err) is AWS_ERROR_CLASSES[code]
    assert type(err) is not AwsError
    assert isinstance(err, DsShareError)
    assert (err.operation, err.code, err.message, err.request_id) == (
        "ShareDirectory", code, "boom", "req-1",
    )
    assert err.next_step, "every AWS error tells the operator what to do next"


def test_each_code_has_a_distinct_class() -> None:
    classes = [AWS_ERROR_CLASSES[code] for code in DOCUMENTED_CODES]
    assert len(set(classes)) == len(classes)


def test_unknown_code_is_still_an_aws_error_keeping_the_code() -> None:
    err = from_client_error(_client_error("SomethingNew"), "UnshareDirectory")
    assert type(err) is AwsError
    assert err.code == "SomethingNew"


def test_throttling_spellings_share_one_class() -> None:
    for code in ("Throttling", "TooManyRequestsException", "RequestLimitExceeded"):
        assert isinstance(from_client_error(_client_error(code), "X"), errors.ThrottlingError)


def test_aws_error_str_names_operation_code_message_request_id_and_next_step() -> None:
    text = str(from_client_error(_client_error("ShareLimitExceededException", "full"), "ShareDirectory"))
    for part in ("ShareDirectory", "ShareLimitExceededException", "full", "req-1", "Next step:"):
        assert part in text


def test_parameter_error_names_parameter_value_and_what_is_allowed() -> None:
    err = ParameterError("directory_id", "d-XYZ", "d- followed by 10 hex digits")
    assert (err.parameter, err.value, err.allowed) == ("directory_id", "d-XYZ", "d- followed by 10 hex digits")
    assert "directory_id" in str(err) and "'d-XYZ'" in str(err) and "10 hex digits" in str(err)
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    "err",
    [
        ParameterError("account_id", "12", "12 digits"),
        PreflightError([("200000000004", "QuotaExceeded", "full")]),
        PlanMismatchError("a" * 64, "b" * 64),
        WaitTimeoutError({"200000000004": "Sharing"}, 5.0),
        from_client_error(_client_error("OrganizationsException"), "ShareDirectory"),
        from_client_error(_client_error("Brand-new"), "ShareDirectory"),
        DsShareError("plain", next_step="do this"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling_with_their_fields(err: DsShareError) -> None:
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is type(err)
    assert str(copy) == str(err)
    assert copy.__dict__ == err.__dict__


def test_wait_timeout_names_each_pending_target_and_last_status() -> None:
    err = WaitTimeoutError({"200000000005": "PendingAcceptance", "200000000004": "Sharing"}, 2)
    assert err.pending == {"200000000005": "PendingAcceptance", "200000000004": "Sharing"}
    assert "200000000004 (Sharing)" in str(err) and "200000000005 (PendingAcceptance)" in str(err)


def test_preflight_error_lists_refusals() -> None:
    err = PreflightError([("200000000004", "TargetNotMember", "not a member")])
    assert err.refusals == [("200000000004", "TargetNotMember", "not a member")]
    assert "TargetNotMember" in str(err)


def test_botocore_errors_without_an_aws_answer_become_transport_errors() -> None:
    from botocore.exceptions import EndpointConnectionError

    err = from_client_error(EndpointConnectionError(endpoint_url="http://x"), "ShareDirectory")
    assert isinstance(err, errors.AwsTransportError) and isinstance(err, DsShareError)
    assert (err.code, err.request_id) == ("EndpointConnectionError", None)
    assert pickle.loads(pickle.dumps(err)).__dict__ == err.__dict__
