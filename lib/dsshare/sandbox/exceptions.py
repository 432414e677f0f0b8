"""Directory Service sharing errors, one class per AWS error code.

Each docstring is the AWS meaning (botocore model ``ds/2015-04-16``). All are
serialized by moto as the JSON protocol's ``{"__type", "message"}`` body, which
botocore parses into ``err.response["Error"]["Code"]``.
"""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError


class SharingError(JsonRESTError):
    """Base of the sandbox's sharing errors (HTTP 400 unless stated)."""

    code = 400
    error_code = "ClientException"

    def __init__(self, message: str) -> None:
        super().__init__(self.error_code, message)


class DirectoryAlreadySharedException(SharingError):
    """The specified directory has already been shared with this Amazon Web Services account."""

    error_code = "DirectoryAlreadySharedException"


class DirectoryAlreadyInRegionException(SharingError):
    """The Region you specified is the same Region where the Managed Microsoft AD directory was created."""

    error_code = "DirectoryAlreadyInRegionException"


class EntityDoesNotExistException(SharingError):
    """The specified entity could not be found."""

    error_code = "EntityDoesNotExistException"


class InvalidTargetException(SharingError):
    """The specified shared target is not valid."""

    error_code = "InvalidTargetException"


class InvalidParameterException(SharingError):
    """One or more parameters are not valid."""

    error_code = "InvalidParameterException"


class ClientException(SharingError):
    """A client exception has occurred."""

    error_code = "ClientException"


class ShareLimitExceededException(SharingError):
    """The maximum number of Amazon Web Services accounts that you can share with this directory has been reached."""

    error_code = "ShareLimitExceededException"


class OrganizationsException(SharingError):
    """Exception encountered while trying to access your Amazon Web Services organization."""

    error_code = "OrganizationsException"


class AccessDeniedException(SharingError):
    """Client authentication is not available in this region at this time."""

    code = 403
    error_code = "AccessDeniedException"


class UnsupportedOperationException(SharingError):
    """The operation is not supported."""

    error_code = "UnsupportedOperationException"


class DirectoryNotSharedException(SharingError):
    """The specified directory has not been shared with this Amazon Web Services account."""

    error_code = "DirectoryNotSharedException"


class InvalidNextTokenException(SharingError):
    """The NextToken value is not valid."""

    error_code = "InvalidNextTokenException"


class ServiceException(SharingError):
    """An exception has occurred in Directory Service."""

    code = 500
    error_code = "ServiceException"


class SandboxModelError(ServiceException):
    """The sandbox tried to send a field or enum value that AWS would not send.

    This is a sandbox bug surfaced loudly (HTTP 500) instead of leaking a shape
    AWS never produces.
    """
