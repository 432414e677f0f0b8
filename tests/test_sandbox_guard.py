"""The loud guard against moto changing shape, and the botocore-model checks on input and output."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.core.base_backend import BackendDict
from moto.core.responses import BaseResponse
from moto.core.utils import convert_to_flask_response
from moto.ds import models as ds_models
from moto.ds import responses as ds_responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.organizations.models import organizations_backends

from dsshare.sandbox import MotoShapeError, Sandbox, check_moto_shape
from dsshare.sandbox.exceptions import (
    InvalidParameterException,
    InvalidTargetException,
    SandboxModelError,
)
from dsshare.sandbox.records import ShareRecord
from dsshare.sandbox.responses import ADDED, REPLACED
from dsshare.sandbox.shapes import check_output, validate_input

install_module = importlib.import_module("dsshare.sandbox.install")


def moto_implements(name: str) -> Any:
    def native(self: Any) -> str:
        return "moto's own"

    native.__name__ = name
    return native


def test_the_installed_moto_has_the_expected_shape(sb: Sandbox) -> None:
    check_moto_shape()  # raises MotoShapeError otherwise
    for name, function in {**ADDED, **REPLACED}.items():
        assert getattr(ds_responses.DirectoryServiceResponse, name) is function


@pytest.mark.parametrize("operation", sorted(ADDED))
def test_moto_implementing_a_sharing_operation_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    monkeypatch.setattr(
        ds_responses.DirectoryServiceResponse, operation, moto_implements(operation)
    )
    with pytest.raises(MotoShapeError) as excinfo:
        check_moto_shape()
    message = str(excinfo.value)
    assert f"moto now implements DirectoryServiceResponse.{operation} itself" in message
    assert "5.2.x" in message and "pin moto" in message


@pytest.mark.parametrize("operation", sorted(REPLACED))
def test_moto_losing_a_replaced_operation_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    monkeypatch.delattr(ds_responses.DirectoryServiceResponse, operation)
    with pytest.raises(MotoShapeError, match=f"DirectoryServiceResponse.{operation} is gone"):
        check_moto_shape()


def test_ds_backends_no_longer_a_backend_dict_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ds_models, "ds_backends", {})
    with pytest.raises(MotoShapeError, match="moto.ds.models.ds_backends is not a BackendDict"):
        check_moto_shape()


def test_ds_backends_building_another_class_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NewBackend:
        pass

    monkeypatch.setattr(ds_models.ds_backends, "backend", NewBackend)
    with pytest.raises(
        MotoShapeError, match="ds_backends no longer builds DirectoryServiceBackend"
    ):
        check_moto_shape()


def test_directory_losing_a_constructor_parameter_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def init(
        self: Any, account_id: str, region: str, name: str, directory_type: str, vpc_settings: Any
    ) -> None:
        pass

    monkeypatch.setattr(ds_models.Directory, "__init__", init)
    with pytest.raises(MotoShapeError, match="Directory.__init__ lost 'edition'"):
        check_moto_shape()


def test_losing_master_accounts_is_refused(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(organizations_backends, "master_accounts")
    with pytest.raises(MotoShapeError, match="organizations_backends.master_accounts is gone"):
        check_moto_shape()


def test_call_action_no_longer_sending_plain_answers_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def call_action(self: Any) -> Any:
        return self.serialized(self.method())

    monkeypatch.setattr(BaseResponse, "call_action", call_action)
    with pytest.raises(MotoShapeError, match="no longer passes a .body, headers. answer"):
        check_moto_shape()


def test_transform_response_reading_answers_differently_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        BaseResponse,
        "_transform_response",
        staticmethod(lambda headers, response: (200, headers, response)),
    )
    with pytest.raises(MotoShapeError, match="_transform_response no longer sends"):
        check_moto_shape()


def test_dispatcher_no_longer_resolving_hosts_by_method_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def get_application(self: Any, environ: dict) -> Any:
        return self.create_app("ds")

    monkeypatch.setattr(DomainDispatcherApplication, "get_application", get_application)
    with pytest.raises(
        MotoShapeError, match="no longer resolves hosts through get_backend_for_host"
    ):
        check_moto_shape()


def test_dispatcher_host_lookup_changing_signature_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def get_backend_for_host(self: Any, host: str, environ: dict) -> Any:
        return None

    monkeypatch.setattr(DomainDispatcherApplication, "get_backend_for_host", get_backend_for_host)
    with pytest.raises(MotoShapeError, match=r"get_backend_for_host\(self, host\) is gone"):
        check_moto_shape()


def test_call_action_no_longer_listing_methods_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def call_action(self: Any) -> Any:
        return self._transform_response({}, self._enrich_response({}, ""))

    monkeypatch.setattr(BaseResponse, "call_action", call_action)
    with pytest.raises(MotoShapeError, match="no longer looks actions up with method_names"):
        check_moto_shape()


def test_backend_dict_lookup_changing_shape_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lookup(self: Any, account_id: str) -> Any:
        return dict.__getitem__(self, account_id)

    monkeypatch.setattr(install_module, "_moto_backend_lookup", lookup)
    with pytest.raises(MotoShapeError, match="no longer registers accounts"):
        check_moto_shape()


def test_moto_s_flask_view_changing_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def view(self: Any, args: Any = None, **kwargs: Any) -> Any:
        return self.callback(args, kwargs, self.new_argument)

    monkeypatch.setattr(convert_to_flask_response, "__call__", view)
    with pytest.raises(MotoShapeError, match="convert_to_flask_response.__call__ changed"):
        check_moto_shape()


def test_dispatcher_doing_more_than_calling_the_app_is_refused(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    def call(self: Any, environ: dict, start_response: Any) -> Any:
        environ = self.rewrite(environ)
        return self.get_application(environ)(environ, start_response)

    monkeypatch.setattr(DomainDispatcherApplication, "__call__", call)
    with pytest.raises(MotoShapeError, match="does more than call get_application"):
        check_moto_shape()


def test_method_names_are_listed_once_per_class_with_the_sharing_operations(
    sb: Sandbox,
) -> None:
    names = install_module.method_names_from_class(ds_responses.DirectoryServiceResponse)
    assert {*ADDED, *REPLACED} <= names
    assert names is install_module.method_names_from_class(ds_responses.DirectoryServiceResponse)


def test_a_new_account_is_registered_for_reset_and_a_present_one_is_read_directly(
    sb: Sandbox,
) -> None:
    backends = ds_models.ds_backends
    account = "999999999990"
    assert account not in backends
    created = backends[account]
    assert backends in BackendDict._instances
    assert backends[account] is created
    BackendDict.reset()
    assert account not in backends


def test_install_refuses_before_patching_anything(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(install_module, "_installed", False)
    native = moto_implements("share_directory")
    monkeypatch.setattr(ds_responses.DirectoryServiceResponse, "share_directory", native)
    with pytest.raises(MotoShapeError):
        install_module.install()
    assert ds_responses.DirectoryServiceResponse.share_directory is native
    assert (
        ds_responses.DirectoryServiceResponse.describe_directories
        is REPLACED["describe_directories"]
    )
    assert install_module._installed is False


def test_install_is_idempotent(sb: Sandbox) -> None:
    backend_class = ds_models.ds_backends.backend
    install_module.install()
    assert ds_models.ds_backends.backend is backend_class


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
