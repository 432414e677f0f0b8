"""The loud guard against moto changing behaviour, and the botocore-model checks on input and output.

The guard exercises moto: each test below makes one moto piece the sandbox relies on
behave differently (monkeypatched for the test alone) and expects the guard to refuse
with a message naming it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core import responses as core_responses
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.core.responses import BaseResponse
from moto.core.utils import convert_to_flask_response
from moto.ds import models as ds_models
from moto.ds import responses as ds_responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.organizations.responses import OrganizationsResponse
from moto.organizations.utils import PAGINATION_MODEL
from moto.utilities.paginator import Paginator, paginate

from dsshare.sandbox import MotoShapeError, Sandbox, check_moto_shape, dispatch
from dsshare.sandbox.backend import SharingBackend, SharingBackendDict, sharing_backends
from dsshare.sandbox.exceptions import (
    InvalidParameterException,
    InvalidTargetException,
    SandboxModelError,
)
from dsshare.sandbox.organization import ListingResponse
from dsshare.sandbox.records import ShareRecord
from dsshare.sandbox.responses import ADDED, REPLACED, SharingResponse
from dsshare.sandbox.shapes import check_output, validate_input


def moto_implements(name: str) -> Any:
    def native(self: Any) -> str:
        return "moto's own"

    native.__name__ = name
    return native


def refused(fragment: str) -> str:
    """The guard's message names what changed, and what to do about it."""
    with pytest.raises(MotoShapeError) as excinfo:
        check_moto_shape()
    message = str(excinfo.value)
    assert fragment in message, message
    assert "pin moto or update dsshare.sandbox" in message
    return message


def test_the_installed_moto_behaves_as_the_sandbox_expects() -> None:
    check_moto_shape()  # raises MotoShapeError otherwise


def test_the_sandbox_serves_its_own_subclass_and_leaves_moto_s_class_alone(sb: Sandbox) -> None:
    for name, function in {**ADDED, **REPLACED}.items():
        assert getattr(SharingResponse, name) is function
    for name in ADDED:
        assert not hasattr(ds_responses.DirectoryServiceResponse, name)
    for name in REPLACED:
        assert getattr(ds_responses.DirectoryServiceResponse, name) is not REPLACED[name]
    assert ds_models.ds_backends.backend is ds_models.DirectoryServiceBackend
    app = dispatch.create_app("ds")
    (view,) = app.view_functions.values()
    assert view.callback.__self__ is SharingResponse


@pytest.mark.parametrize("operation", sorted(ADDED))
def test_moto_implementing_a_sharing_operation_is_refused(
    monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    monkeypatch.setattr(
        ds_responses.DirectoryServiceResponse, operation, moto_implements(operation), raising=False
    )
    message = refused(f"moto now implements DirectoryServiceResponse.{operation} itself")
    assert "tested with moto 5." in message


@pytest.mark.parametrize("operation", sorted(REPLACED))
def test_moto_losing_a_replaced_operation_is_refused(
    monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    monkeypatch.delattr(ds_responses.DirectoryServiceResponse, operation)
    refused(f"DirectoryServiceResponse.{operation} is gone")


def test_moto_s_operations_no_longer_using_ds_backend_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def get_directory_limits(self: Any) -> Any:
        limits = ds_models.ds_backends[self.current_account][self.region].get_directory_limits()
        return core_responses.ActionResult({"DirectoryLimits": limits})

    monkeypatch.setattr(
        ds_responses.DirectoryServiceResponse, "get_directory_limits", get_directory_limits
    )
    refused("no longer reach the backend through its ds_backend property")


def test_call_action_serializing_plain_answers_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = BaseResponse._transform_response

    def transform(headers: dict[str, str], response: Any) -> Any:
        status, headers, body = original(headers, response)
        return status, headers, body.upper() if isinstance(body, str) else body

    monkeypatch.setattr(BaseResponse, "_transform_response", staticmethod(transform))
    refused("(body, headers) answer is no longer sent as 200 with that body")


def test_call_action_dropping_the_request_id_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        BaseResponse, "_enrich_response", staticmethod(lambda headers, body: (headers, body))
    )
    refused("those headers and a request id")


def test_sharing_errors_answered_differently_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        status, headers, body = original(self)
        return (500 if status == 400 else status), headers, body

    monkeypatch.setattr(BaseResponse, "call_action", call_action)
    refused("is no longer answered 400 with its code and message as JSON")


def test_account_backends_keyed_differently_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = AccountSpecificBackend.__getitem__

    def lookup(self: Any, region_name: str) -> Any:
        return original(self, "us-west-2" if region_name == "us-east-1" else region_name)

    monkeypatch.setattr(AccountSpecificBackend, "__getitem__", lookup)
    refused("DirectoryServiceBackend(region_name, account_id) no longer keeps")


def test_directory_losing_a_constructor_parameter_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def init(
        self: Any, account_id: str, region: str, name: str, directory_type: str, vpc_settings: Any
    ) -> None:
        pass

    monkeypatch.setattr(ds_models.Directory, "__init__", init)
    refused("Directory.__init__ lost 'edition'")


def test_directory_description_reading_other_attributes_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = ds_responses._directory_description

    def description(directory: Any) -> dict[str, Any]:
        return {**original(directory), "Stage": directory.lifecycle_stage}

    monkeypatch.setattr(ds_responses, "_directory_description", description)
    refused("_directory_description no longer describes a Directory's attributes")


def test_directory_description_gone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(ds_responses, "_directory_description")
    refused("moto.ds.responses._directory_description is gone")


def test_paginator_paging_differently_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Paginator.paginate

    def paginate(self: Any, results: list[Any]) -> Any:
        page, token = original(self, results)
        return list(reversed(page)), token

    monkeypatch.setattr(Paginator, "paginate", paginate)
    refused("Paginator no longer pages as it did")


def test_paginator_accepting_a_token_for_other_parameters_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Paginator.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["param_values_to_check"] = None
        original(self, *args, **kwargs)

    monkeypatch.setattr(Paginator, "__init__", init)
    refused("accepts a NextToken issued for other parameters")


def test_dispatcher_no_longer_resolving_hosts_by_method_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def get_application(self: Any, environ: dict) -> Any:
        return self.create_app("ds")

    monkeypatch.setattr(DomainDispatcherApplication, "get_application", get_application)
    refused("no longer finds Directory Service's app through get_backend_for_host(host)")


def test_dispatcher_host_lookup_changing_signature_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def get_backend_for_host(self: Any, host: str, environ: dict) -> Any:
        return None

    monkeypatch.setattr(DomainDispatcherApplication, "get_backend_for_host", get_backend_for_host)
    refused("DomainDispatcherApplication no longer dispatches as it did")


def test_dispatcher_doing_more_than_calling_the_app_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def call(self: Any, environ: dict, start_response: Any) -> Any:
        environ = {**environ, "HTTP_X_REWRITTEN": "1"}
        return self.get_application(environ)(environ, start_response)

    monkeypatch.setattr(DomainDispatcherApplication, "__call__", call)
    refused("does more than call get_application")


def test_moto_s_flask_view_changing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    original = convert_to_flask_response.__call__

    def view(self: Any, *args: Any, **kwargs: Any) -> Any:
        response = original(self, *args, **kwargs)
        response.headers["X-Moto-Added"] = "1"
        return response

    monkeypatch.setattr(convert_to_flask_response, "__call__", view)
    refused("convert_to_flask_response answers differently from the sandbox's DirectRoute")


def test_moto_s_ds_app_routing_elsewhere_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(dispatch.RESPONSE_CLASSES, "ds", (BaseResponse, SharingResponse))
    refused("no longer routes its requests to DirectoryServiceResponse.dispatch")


def test_losing_master_accounts_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(organizations_backends, "master_accounts")
    refused("organizations_backends.master_accounts is gone")


def test_moto_listing_accounts_in_another_order_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def list_accounts(self: Any) -> list[Any]:
        return sorted((a.describe() for a in self.accounts), key=lambda a: a["Id"])

    monkeypatch.setattr(OrganizationsBackend, "list_accounts",
                        paginate(PAGINATION_MODEL)(list_accounts))  # fmt: skip
    refused("Organizations ListAccounts answers")


def test_moto_answering_list_accounts_for_parent_otherwise_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = OrganizationsResponse.list_accounts_for_parent

    def list_accounts_for_parent(self: Any) -> str:
        answer = json.loads(original(self))
        answer.pop("NextToken")  # fmt: skip
        return json.dumps(answer)

    monkeypatch.setattr(OrganizationsResponse, "list_accounts_for_parent", list_accounts_for_parent)
    refused("Organizations ListAccountsForParent answers")


def test_moto_s_organizations_app_routing_elsewhere_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        dispatch.RESPONSE_CLASSES, "organizations", (BaseResponse, ListingResponse)
    )
    refused("Organizations app no longer routes its requests to OrganizationsResponse.dispatch")


def test_the_sandbox_s_backends_are_its_own_and_read_present_accounts_directly(
    sb: Sandbox,
) -> None:
    account = sb.manifest["management_account_id"]
    accounts = sharing_backends[account]
    assert sharing_backends[account] is accounts
    assert isinstance(accounts["us-east-1"], SharingBackend)
    assert sharing_backends not in BackendDict._instances
    assert account not in ds_models.ds_backends
    fresh = SharingBackendDict()
    assert isinstance(fresh["999999999990"]["eu-west-1"], SharingBackend)
    assert fresh not in BackendDict._instances


# -- responses are checked against the botocore model --------------------------------------


def test_check_output_passes_a_valid_result_through_unchanged(sb: Sandbox) -> None:
    result = {"SharedDirectories": [{"SharedDirectoryId": "d-1234567890", "ShareStatus": "Shared"}]}
    assert check_output("ds", "DescribeSharedDirectories", result) is result


def test_check_output_rejects_a_member_aws_never_sends() -> None:
    with pytest.raises(
        SandboxModelError, match=r"SharedDirectories\[0\]\.Colour, which AWS never sends"
    ):
        check_output(
            "ds",
            "DescribeSharedDirectories",
            {"SharedDirectories": [{"SharedDirectoryId": "d-1234567890", "Colour": "blue"}]},
        )


def test_check_output_rejects_a_value_outside_the_enum() -> None:
    with pytest.raises(SandboxModelError, match="'Pending' is not in the model's enum"):
        check_output(
            "ds", "DescribeSharedDirectories", {"SharedDirectories": [{"ShareStatus": "Pending"}]}
        )
    with pytest.raises(SandboxModelError, match="not in the model's enum"):
        check_output(
            "ds", "DescribeDirectories", {"DirectoryDescriptions": [{"Type": "SharedSimpleAD"}]}
        )


def test_check_output_rejects_wrong_types() -> None:
    with pytest.raises(SandboxModelError, match="is not a string"):
        check_output("ds", "ShareDirectory", {"SharedDirectoryId": 42})
    with pytest.raises(SandboxModelError, match="is not a timestamp"):
        check_output("ds", "AcceptSharedDirectory", {"SharedDirectory": {"CreatedDateTime": ["x"]}})


def test_a_sandbox_bug_surfaces_as_a_500_instead_of_leaking(
    sb: Sandbox, aws_once, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ShareRecord.to_dict

    def leaky(self: ShareRecord, now: Any = None) -> dict[str, object]:
        return {**original(self, now), "InternalTimeline": "oops"}

    monkeypatch.setattr(ShareRecord, "to_dict", leaky)
    with pytest.raises(ClientError) as excinfo:
        aws_once("ds").describe_shared_directories(
            OwnerDirectoryId=sb.directory_id("corp.example.com")
        )
    err = excinfo.value.response["Error"]
    assert err["Code"] == "ServiceException"
    assert "InternalTimeline, which AWS never sends" in err["Message"]
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


@pytest.mark.parametrize(
    "operation, params, fragment",
    [
        (
            "ShareDirectory",
            {"DirectoryId": "d-1234567890", "ShareTarget": {"Id": "1", "Type": "ACCOUNT"}},
            "ShareMethod is required.",
        ),
        (
            "ShareDirectory",
            {
                "DirectoryId": "d-1234567890",
                "ShareMethod": "HANDSHAKE",
                "ShareTarget": {"Id": "1", "Type": "ACCOUNT"},
                "Extra": 1,
            },
            "Extra is not a known member.",
        ),
        (
            "ShareDirectory",
            {
                "DirectoryId": "d-1234567890",
                "ShareMethod": "HANDSHAKE",
                "ShareTarget": {"Id": "x" * 65, "Type": "ACCOUNT"},
            },
            "length less than or equal to 64",
        ),
        (
            "ShareDirectory",
            {
                "DirectoryId": "d-1234567890",
                "ShareMethod": "HANDSHAKE",
                "ShareTarget": {"Id": "200000000011", "Type": "ACCOUNT"},
                "ShareNotes": "top secret" * 200,
            },
            "Value *** at 'ShareNotes'",
        ),
        (
            "DescribeSharedDirectories",
            {"OwnerDirectoryId": "d-1234567890", "Limit": -3},
            "greater than or equal to 0",
        ),
        (
            "DescribeSharedDirectories",
            {"OwnerDirectoryId": "d-1234567890", "Limit": True},
            "Limit must be an integer.",
        ),
        ("DescribeDirectories", {"DirectoryIds": "d-1234567890"}, "DirectoryIds must be a list."),
        ("AcceptSharedDirectory", {"SharedDirectoryId": 7}, "SharedDirectoryId must be a string."),
        (
            "UnshareDirectory",
            {"DirectoryId": "d-1234567890", "UnshareTarget": "200000000011"},
            "UnshareTarget must be a structure.",
        ),
    ],
)
def test_validate_input_applies_the_model(operation: str, params: dict, fragment: str) -> None:
    # An operation whose model lists no InvalidParameterException answers with one it lists.
    expected = InvalidTargetException if operation == "UnshareDirectory" else InvalidParameterException
    with pytest.raises(expected) as excinfo:
        validate_input("ds", operation, params)
    assert fragment in excinfo.value.message
    assert "top secret" not in excinfo.value.message


def test_validate_input_accepts_a_valid_request() -> None:
    validate_input(
        "ds",
        "ShareDirectory",
        {
            "DirectoryId": "d-1234567890",
            "ShareMethod": "HANDSHAKE",
            "ShareTarget": {"Id": "200000000011", "Type": "ACCOUNT"},
            "ShareNotes": "n" * 1024,
        },
    )


# -- a missing or different moto, at import ---------------------------------------------


def python(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, with this checkout's library first on the path."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "lib")}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_importing_the_sandbox_needs_no_moto_and_using_it_names_the_extra() -> None:
    done = python(
        "import sys\n"
        "sys.modules['moto'] = None  # as if moto were not installed\n"
        "import dsshare.sandbox as sandbox\n"
        "try:\n"
        "    sandbox.Sandbox\n"
        "except sandbox.SandboxNotInstalledError as err:\n"
        "    from dsshare.errors import DsShareError\n"
        "    assert isinstance(err, DsShareError)\n"
        "    print(type(err).__mro__[1].__name__, '|', err)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "MissingExtraError | The dsshare sandbox needs moto, which is not installed. "
        "Next step: pip install 'dsshare[sandbox]'"
    )


def test_a_moto_without_a_piece_the_sandbox_imports_is_refused_by_name() -> None:
    done = python(
        "import moto.moto_server.werkzeug_app as app\n"
        "del app.BackendRequest  # as in moto 5.2.3 and older\n"
        "import dsshare.sandbox as sandbox\n"
        "try:\n"
        "    sandbox.Sandbox\n"
        "except sandbox.MotoShapeError as err:\n"
        "    print(err)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "cannot extend moto" in done.stdout
    assert "cannot import name 'BackendRequest'" in done.stdout
    assert "pip install 'dsshare[sandbox]'" in done.stdout
