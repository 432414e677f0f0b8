"""Request parsing and serialization for the sharing operations.

These are the methods of :class:`SharingResponse`, the sandbox's subclass of moto's
DirectoryServiceResponse (moto's own class is left as it is). Each validates its input against the
botocore model first, then checks its output against the same model while
writing it as the JSON protocol's body. They answer ``(body, headers)``, which
moto's ``BaseResponse.call_action`` sends as is (plus the request id), instead
of an ActionResult for moto's generic serializer: that serializer searched
every model member among attribute-name variants of our already AWS-shaped
dicts, and was ~30 % of the sandbox's CPU in a profile of the inventory benchmark.
Errors are still raised, and serialized by moto as before.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import InvalidToken
from moto.ds import responses as ds_responses
from moto.ds.responses import DirectoryServiceResponse
from moto.utilities.paginator import TokenDecoder

from .backend import ConsumerView, SharingBackend, regions_info, sharing_backends
from .exceptions import InvalidNextTokenException, InvalidParameterException
from .records import utcnow
from .shapes import json_content_type, output_json, validate_input

#: What each operation answers: the JSON body and the headers moto adds to its own.
Response = tuple[str, dict[str, str]]


def _backend(response: Any) -> SharingBackend:
    backend: SharingBackend = sharing_backends[response.current_account][response.region]
    return backend


def _params(response: Any, operation: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(response.params)
    validate_input("ds", operation, params)
    return params


def _result(operation: str, result: dict[str, Any]) -> Response:
    return output_json("ds", operation, result), {"Content-Type": json_content_type("ds")}


def _next_token(params: dict[str, Any]) -> str | None:
    """The NextToken, refused unless it is one the sandbox could have issued.

    moto's paginator only catches tokens that fail to decode: a token that decodes
    to JSON of the wrong shape (say base64 of a quoted string) crashes it into an
    HTTP 500, which botocore then retries. AWS answers InvalidNextTokenException.
    """
    token = params.get("NextToken")
    if token is None:
        return None
    try:
        decoded = TokenDecoder().decode(token)
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise InvalidNextTokenException("The NextToken value is not valid.") from exc
    if not isinstance(decoded, dict) or not isinstance(decoded.get("uniqueAttributes"), str):
        raise InvalidNextTokenException("The NextToken value is not valid.")
    return str(token)


def _limit(params: dict[str, Any]) -> int | None:
    limit = params.get("Limit")
    return limit if limit else None  # Limit 0 means "the default page size"


def share_directory(self: Any) -> Response:
    params = _params(self, "ShareDirectory")
    shared_id = _backend(self).share_directory(
        directory_id=params["DirectoryId"],
        share_target=params["ShareTarget"],
        share_method=params.get("ShareMethod", "HANDSHAKE"),
        share_notes=params.get("ShareNotes"),
    )
    return _result("ShareDirectory", {"SharedDirectoryId": shared_id})


def unshare_directory(self: Any) -> Response:
    params = _params(self, "UnshareDirectory")
    shared_id = _backend(self).unshare_directory(
        directory_id=params["DirectoryId"], unshare_target=params["UnshareTarget"]
    )
    return _result("UnshareDirectory", {"SharedDirectoryId": shared_id})


def describe_shared_directories(self: Any) -> Response:
    params = _params(self, "DescribeSharedDirectories")
    try:
        records, next_token = _backend(self).describe_shared_directories(
            owner_directory_id=params["OwnerDirectoryId"],
            shared_directory_ids=params.get("SharedDirectoryIds"),
            next_token=_next_token(params),
            limit=_limit(params),
        )
    except InvalidToken as exc:
        raise InvalidNextTokenException("The NextToken value is not valid.") from exc
    now = utcnow()
    result: dict[str, Any] = {"SharedDirectories": [r.to_dict(now) for r in records]}
    if next_token:
        result["NextToken"] = next_token
    return _result("DescribeSharedDirectories", result)


def accept_shared_directory(self: Any) -> Response:
    params = _params(self, "AcceptSharedDirectory")
    record = _backend(self).accept_shared_directory(params["SharedDirectoryId"])
    return _result("AcceptSharedDirectory", {"SharedDirectory": record.to_dict()})


def reject_shared_directory(self: Any) -> Response:
    params = _params(self, "RejectSharedDirectory")
    shared_id = _backend(self).reject_shared_directory(params["SharedDirectoryId"])
    return _result("RejectSharedDirectory", {"SharedDirectoryId": shared_id})


def delete_directory(self: Any) -> Response:
    params = _params(self, "DeleteDirectory")
    directory_id = _backend(self).delete_directory(params["DirectoryId"])
    return _result("DeleteDirectory", {"DirectoryId": directory_id})


def add_region(self: Any) -> Response:
    params = _params(self, "AddRegion")
    _backend(self).add_region(
        directory_id=params["DirectoryId"],
        region_name=params["RegionName"],
        vpc_settings=dict(params["VPCSettings"]),
    )
    return _result("AddRegion", {})


def _owner_description(directory: Any) -> dict[str, Any]:
    # Read from the module at call time: a moto without it fails the guard, by name.
    description = ds_responses._directory_description(directory)
    description["RegionsInfo"] = regions_info(directory)
    return {k: v for k, v in description.items() if v is not None and v != {}}


def describe_directories(self: Any) -> Response:
    params = _params(self, "DescribeDirectories")
    if "DirectoryIds" in params and not params["DirectoryIds"]:
        raise InvalidParameterException("DirectoryIds must not be an empty list.")
    try:
        entries, next_token = _backend(self).describe_directories(
            directory_ids=params.get("DirectoryIds"),
            next_token=_next_token(params),
            limit=_limit(params),
        )
    except InvalidToken as exc:
        raise InvalidNextTokenException("The NextToken value is not valid.") from exc
    now = utcnow()
    descriptions = [
        e.describe(now) if isinstance(e, ConsumerView) else _owner_description(e) for e in entries
    ]
    result: dict[str, Any] = {
        "DirectoryDescriptions": [
            {k: v for k, v in d.items() if v is not None} for d in descriptions
        ]
    }
    if next_token:
        result["NextToken"] = next_token
    return _result("DescribeDirectories", result)


#: The operations the sandbox adds to moto's Directory Service, and those it answers itself.
ADDED = {
    "share_directory": share_directory,
    "unshare_directory": unshare_directory,
    "describe_shared_directories": describe_shared_directories,
    "accept_shared_directory": accept_shared_directory,
    "reject_shared_directory": reject_shared_directory,
    "add_region": add_region,
}
REPLACED = {
    "delete_directory": delete_directory,
    "describe_directories": describe_directories,
}


class SharingResponse(DirectoryServiceResponse):
    """moto's Directory Service answers plus the sharing API, over the sandbox's backends.

    The sandbox's server routes Directory Service requests here
    (:func:`dsshare.sandbox.dispatch.create_app`); moto's DirectoryServiceResponse and
    ``ds_backends`` are untouched. moto's own operations (CreateMicrosoftAD, tags, ...)
    reach :data:`~dsshare.sandbox.backend.sharing_backends` through ``ds_backend``.
    """

    @property
    def ds_backend(self) -> SharingBackend:
        return _backend(self)


# The operations are the functions above, as listed in ADDED and REPLACED (one list).
for _name, _operation in {**ADDED, **REPLACED}.items():
    setattr(SharingResponse, _name, _operation)
