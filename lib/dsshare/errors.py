"""The dsshare exception hierarchy: one base to catch, structured fields to read.

Every error the library raises is a :class:`DsShareError`. AWS errors are translated by
:func:`from_client_error` into one class per AWS error code (see ``docs/aws-sharing.md``), keeping
the operation, code, message and request id, and adding what the operator should do next.
All exceptions pickle, so they cross thread and process boundaries intact.

Example
-------
>>> try:
...     raise ParameterError("directory_id", "d-123", "d- followed by 10 hex digits")
... except DsShareError as err:
...     print(err.parameter)
directory_id
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as NotSentError

__all__ = [
    "AWS_ERROR_CLASSES",
    "AccessDeniedError",
    "AwsError",
    "AwsTransportError",
    "DirectoryAlreadySharedError",
    "DirectoryClientError",
    "DirectoryNotSharedError",
    "DsShareError",
    "EntityDoesNotExistError",
    "InvalidNextTokenError",
    "InvalidParameterError",
    "InvalidTargetError",
    "MissingExtraError",
    "OrganizationsError",
    "ParameterError",
    "PlanMismatchError",
    "PreflightError",
    "ServiceError",
    "ShareLimitExceededError",
    "ThrottlingError",
    "UnknownNameError",
    "UnsupportedOperationError",
    "WaitTimeoutError",
    "from_client_error",
]


#: Accounts a message names before it says "and N more".
LISTED_ACCOUNTS = 10


def _listed(items: list[str]) -> str:
    """At most :data:`LISTED_ACCOUNTS` items, comma-separated, then "and N more"."""
    shown = ", ".join(items[:LISTED_ACCOUNTS])
    more = len(items) - LISTED_ACCOUNTS
    return f"{shown} and {more} more" if more > 0 else shown


def _rebuild(cls: type[DsShareError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Recreate an exception from its pickled parts without calling ``__init__``."""
    obj = cls.__new__(cls)
    Exception.__init__(obj, *args)
    obj.__dict__.update(state)
    return obj


class DsShareError(Exception):
    """Base of every error dsshare raises.

    Parameters
    ----------
    message
        What went wrong, in one sentence.
    next_step
        What the operator should do about it (may be empty).
    """

    default_next_step: ClassVar[str] = ""

    def __init__(self, message: str, *, next_step: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = self.default_next_step if next_step is None else next_step

    def __str__(self) -> str:
        summary = str(self.args[0]) if self.args else ""
        if self.next_step:
            return f"{summary} Next step: {self.next_step}"
        return summary

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


#: Values that look like AWS credentials (an access key id, a 40-character secret key, a
#: session token): never echoed back in a message, whatever slot they were pasted into.
_CREDENTIAL_LIKE = re.compile(
    r"(?:AKIA|ASIA)[A-Z0-9]{16}|(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
    r"|[A-Za-z0-9/+=]{100,}"
)
_SHOWN_CHARACTERS = 200


def _credential_like(text: str) -> bool:
    """An access key id, or base64-looking text (digits, upper and lower case) of a secret
    key's 40 characters or a session token's 100+."""
    for match in _CREDENTIAL_LIKE.finditer(text):
        found = match.group()
        if found.startswith(("AKIA", "ASIA")) and len(found) == 20:
            return True
        if any(c.isdigit() for c in found) and any(c.isupper() for c in found) and any(
            c.islower() for c in found
        ):
            return True
    return False


def _shown(value: object) -> str:
    """``repr(value)`` for a message: credential-like text masked, long text cut."""
    text = repr(value)
    if isinstance(value, str) and _credential_like(value):
        return f"<{len(value)} characters, not shown: it looks like an AWS credential>"
    if len(text) > _SHOWN_CHARACTERS:
        return f"{text[:_SHOWN_CHARACTERS]}... ({len(text)} characters)"
    return text


class ParameterError(DsShareError, ValueError):
    """An input is malformed; raised before any AWS call is made.

    The message shows the bad value, except text that looks like an AWS credential (masked)
    and beyond 200 characters (cut); ``value`` keeps it whole.
    """

    def __init__(self, parameter: str, value: object, allowed: str) -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        super().__init__(
            f"Invalid {parameter}: {_shown(value)}; allowed: {allowed}.",
            next_step=f"Correct {parameter} and run again; nothing was sent to AWS.",
        )


class UnknownNameError(DsShareError, KeyError):
    """A name looked up in a declaration (a runbook parameter, a column) is not declared."""

    def __init__(self, kind: str, name: str) -> None:
        self.name = name
        super().__init__(f"No {kind} named {name!r}.")


class PreflightError(DsShareError):
    """A plan has rows that preflight refused.

    ``refusals`` holds ``(account_id, check, reason)`` tuples.
    """

    default_next_step = "Fix the refused prerequisites, re-plan, and review the plan again."

    def __init__(self, refusals: list[tuple[str, str, str]]) -> None:
        self.refusals = list(refusals)
        shown = [f"{acct or '-'}: {check} ({reason})" for acct, check, reason in refusals]
        listed = "; ".join(shown[:LISTED_ACCOUNTS])
        if len(shown) > LISTED_ACCOUNTS:
            listed += f"; and {len(shown) - LISTED_ACCOUNTS} more"
        super().__init__(f"Preflight refused {len(refusals)} row(s): {listed}.")


class PlanMismatchError(DsShareError):
    """Live state changed since the plan was reviewed: its fingerprint no longer matches.

    ``changed`` lists the rows that differ (see :func:`dsshare.model.row_changes`); the
    message names at most ten and says how many more. Empty when the reviewed rows are
    not at hand (only the fingerprint was given).
    """

    default_next_step = "Re-run plan, review the new rows, then apply with the new fingerprint."

    def __init__(self, expected: str, actual: str, changed: Sequence[str] = ()) -> None:
        self.expected = expected
        self.actual = actual
        self.changed = list(changed)
        message = (
            f"The live plan fingerprint {actual[:12]} differs from the reviewed {expected[:12]}; "
            "nothing was applied."
        )
        if self.changed:
            shown = "; ".join(self.changed[:10])
            more = f"; and {len(self.changed) - 10} more" if len(self.changed) > 10 else ""
            message += f" Rows that changed ({len(self.changed)}): {shown}{more}."
        super().__init__(message)


class WaitTimeoutError(DsShareError):
    """Targets did not reach a terminal share status in time.

    ``pending`` maps each account id still waiting to its last seen ShareStatus (keys are
    ``"<account id> in <Region>"`` when the plan covers several Regions).
    ``results`` carries the result frame: the pending targets are failed rows with
    error_code ``WaitTimeout``. The message names at most ten accounts ("and N more").
    """

    default_next_step = (
        "Re-plan later to see where the pending targets ended up, or wait longer (timeout=...)."
    )

    def __init__(
        self, pending: Mapping[str, str], timeout: float, results: Any | None = None
    ) -> None:
        self.pending = dict(pending)
        self.timeout = timeout
        self.results = results
        listed = _listed([f"{acct} ({status})" for acct, status in sorted(self.pending.items())])
        super().__init__(
            f"Timed out after {timeout:g}s waiting for {len(self.pending)} target(s): {listed}."
        )


class MissingExtraError(DsShareError, ImportError):
    """A feature needs an optional dependency (a ``dsshare[...]`` extra) that is not installed.

    ``module`` is the module that could not be imported, ``extra`` the extra that brings it.
    """

    def __init__(self, feature: str, module: str, extra: str) -> None:
        self.feature = feature
        self.module = module
        self.extra = extra
        super().__init__(
            f"{feature} needs {module}, which is not installed.",
            next_step=f"pip install 'dsshare[{extra}]'",
        )


class AwsError(DsShareError):
    """An AWS API call failed; keeps the operation, code, message and request id.

    ``message`` is AWS's own message; ``str(err)`` adds the operation, code, request id and
    the next step. ``in_doubt`` is True when the call may have landed although no answer
    came back (see :func:`from_client_error`).
    """

    in_doubt: bool = False

    code: ClassVar[str] = ""
    default_next_step = "Read the AWS message; check the request and the account's permissions."

    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        request_id: str | None = None,
        *,
        next_step: str | None = None,
    ) -> None:
        rid = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{operation} failed with {code}: {message}{rid}.", next_step=next_step)
        self.operation = operation
        self.code = code  # type: ignore[misc]  # the instance keeps the exact code seen
        self.message = message  # the AWS message, unchanged
        self.request_id = request_id


class DirectoryAlreadySharedError(AwsError):
    """The directory is already shared with this account (or the share is not pending)."""

    code = "DirectoryAlreadySharedException"
    default_next_step = "Nothing to do for this account; re-plan to see its current status."


class EntityDoesNotExistError(AwsError):
    """The directory or shared directory was not found in this account and Region."""

    code = "EntityDoesNotExistException"
    default_next_step = "Check the directory id, the Region and the account the call ran in."


class InvalidTargetError(AwsError):
    """The share target is not valid (for example the owner account itself)."""

    code = "InvalidTargetException"
    default_next_step = "Remove the owner account and malformed ids from the targets."


class InvalidParameterError(AwsError):
    """A parameter was rejected by the service."""

    code = "InvalidParameterException"
    default_next_step = "Correct the parameter the message names."


class DirectoryClientError(AwsError):
    """Generic client error: wrong directory stage or kind, or active shares block the call."""

    code = "ClientException"
    default_next_step = "Check the directory's Type and Stage (it must be an Active MicrosoftAD)."


class ShareLimitExceededError(AwsError):
    """The directory reached its edition's share quota in this Region."""

    code = "ShareLimitExceededException"
    default_next_step = (
        "Unshare unused accounts, or request a quota increase; Standard allows 25, "
        "Hybrid 125, Enterprise 500 per Region."
    )


class OrganizationsError(AwsError):
    """An AWS Organizations prerequisite of the ORGANIZATIONS method is not met."""

    code = "OrganizationsException"
    default_next_step = (
        "Run from the management account, enable all features and trusted access for "
        "ds.amazonaws.com, and target members only; or use HANDSHAKE."
    )


class AccessDeniedError(AwsError):
    """The caller lacks permission for the operation."""

    code = "AccessDeniedException"
    default_next_step = "Grant the caller (or the assumed role) the ds: permission named."


class UnsupportedOperationError(AwsError):
    """The directory type cannot be shared (SimpleAD, ADConnector, SharedMicrosoftAD)."""

    code = "UnsupportedOperationException"
    default_next_step = "Only AWS Managed Microsoft AD (MicrosoftAD) directories can be shared."


class DirectoryNotSharedError(AwsError):
    """The directory is not shared with that account."""

    code = "DirectoryNotSharedException"
    default_next_step = "Nothing to unshare for this account; re-plan to see its status."


class InvalidNextTokenError(AwsError):
    """A pagination token was not valid."""

    code = "InvalidNextTokenException"
    default_next_step = "Restart the listing from the beginning."


class ServiceError(AwsError):
    """A server-side fault; botocore already retried it."""

    code = "ServiceException"
    default_next_step = "Retry later; if it persists, check the AWS Health Dashboard."


class ThrottlingError(AwsError):
    """The request rate was too high even after botocore's retries."""

    code = "ThrottlingException"
    default_next_step = "Lower max_workers or raise max_attempts, then re-plan and apply."


class AwsTransportError(AwsError):
    """The call never got an AWS answer: no credentials, endpoint unreachable, timeout.

    ``code`` is the botocore exception's class name (e.g. ``NoCredentialsError``,
    ``EndpointConnectionError``); there is no request id.
    """

    default_next_step = (
        "Check the credentials (profile, environment or role), network access to AWS, "
        "and AWS_ENDPOINT_URL if a sandbox is meant to answer."
    )


#: AWS error code -> exception class. Throttling has several spellings across services.
AWS_ERROR_CLASSES: dict[str, type[AwsError]] = {
    cls.code: cls
    for cls in (
        DirectoryAlreadySharedError,
        EntityDoesNotExistError,
        InvalidTargetError,
        InvalidParameterError,
        DirectoryClientError,
        ShareLimitExceededError,
        OrganizationsError,
        AccessDeniedError,
        UnsupportedOperationError,
        DirectoryNotSharedError,
        InvalidNextTokenError,
        ServiceError,
        ThrottlingError,
    )
}
AWS_ERROR_CLASSES.update(
    {
        "Throttling": ThrottlingError,
        "TooManyRequestsException": ThrottlingError,
        "RequestLimitExceeded": ThrottlingError,
        "AccessDenied": AccessDeniedError,
    }
)


#: What to do about a call whose outcome is unknown.
IN_DOUBT_NEXT_STEP = (
    "The call may or may not have landed: run the same plan again; it re-reads live state "
    "and skips what landed or completes what did not."
)


def from_client_error(err: ClientError | BotoCoreError, operation: str) -> AwsError:
    """Translate a botocore error into the matching :class:`AwsError` subclass.

    A ``ClientError`` (AWS answered with an error) maps by its code; any other botocore
    error (no credentials, unreachable endpoint...) becomes :class:`AwsTransportError`.
    ``in_doubt`` is set when the call may have landed: a read timeout or closed connection
    (the request was sent), or a 5xx answer (after botocore's retries); a connect failure
    leaves it False (the request never left).
    Raise the result ``from err`` so the original traceback is kept.

    Example
    -------
    >>> from botocore.exceptions import ClientError
    >>> raw = ClientError({"Error": {"Code": "ShareLimitExceededException",
    ...                              "Message": "limit"}}, "ShareDirectory")
    >>> type(from_client_error(raw, "ShareDirectory")).__name__
    'ShareLimitExceededError'
    """
    if not isinstance(err, ClientError):
        transport = AwsTransportError(operation, type(err).__name__, str(err))
        # The request was sent but its answer lost (read timeout, connection closed):
        # it may have landed. A connect failure (ConnectionError) never sent it.
        transport.in_doubt = isinstance(err, HTTPClientError) and not isinstance(err, NotSentError)
        if transport.in_doubt:
            transport.next_step = IN_DOUBT_NEXT_STEP
        return transport
    response: Mapping[str, Any] = err.response or {}
    error = response.get("Error", {}) or {}
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or "")
    metadata = response.get("ResponseMetadata", {}) or {}
    request_id = metadata.get("RequestId") or None
    cls = AWS_ERROR_CLASSES.get(code, AwsError)
    result = cls(operation, code, message, request_id)
    # A server error after botocore's retries: the service may have acted before failing.
    status = metadata.get("HTTPStatusCode")
    if isinstance(status, int) and status >= 500:
        result.in_doubt = True
        result.next_step = IN_DOUBT_NEXT_STEP
    return result
