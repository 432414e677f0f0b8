"""Input checks that run before any AWS call.

Each ``validate_*`` function returns the value (normalised where that is harmless, e.g.
stripped whitespace) or raises :class:`~dsshare.errors.ParameterError` naming the
parameter, the bad value and what is allowed. botocore checks types but not patterns or
enums, so these checks are what keeps a malformed id from ever reaching AWS.

Example
-------
>>> validate_account_id("200000000004")
'200000000004'
>>> validate_method("handshake")
Traceback (most recent call last):
...
dsshare.errors.ParameterError: Invalid method: 'handshake'; allowed: one of HANDSHAKE, ORGANIZATIONS. ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from dsshare.errors import ParameterError
from dsshare.model import Action, ShareMethod

__all__ = [
    "ACCOUNT_ID_PATTERN",
    "ACTIONS",
    "DIRECTORY_ID_PATTERN",
    "MAX_NOTES_LENGTH",
    "METHODS",
    "OU_ID_PATTERN",
    "REGION_PATTERN",
    "ROOT_ID_PATTERN",
    "is_account_id",
    "is_ou_id",
    "is_root_id",
    "known_regions",
    "validate_account_id",
    "validate_action",
    "validate_directory_id",
    "validate_method",
    "validate_notes",
    "validate_ou_id",
    "validate_positive",
    "validate_region",
    "validate_regions",
    "validate_root_id",
    "validate_target",
    "validate_targets",
]

# \Z, not $: "$" also matches before a trailing newline. [0-9], not \d: "\d" also matches
# other scripts' digits (fullwidth ２), which AWS does not accept in an id.
DIRECTORY_ID_PATTERN = re.compile(r"^d-[0-9a-f]{10}\Z")
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{12}\Z")
OU_ID_PATTERN = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}\Z")
ROOT_ID_PATTERN = re.compile(r"^r-[0-9a-z]{4,32}\Z")
#: Region names of every partition (aws, aws-cn, aws-us-gov, iso...), for Regions newer
#: than the installed botocore.
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}\Z")
METHODS: tuple[str, ...] = tuple(ShareMethod)
#: The actions dsshare plans that call AWS.
ACTIONS: tuple[str, ...] = (Action.SHARE, Action.UNSHARE, Action.ACCEPT, Action.REJECT, Action.LEAVE)
MAX_NOTES_LENGTH = 1024


def _text(parameter: str, value: object, allowed: str) -> str:
    if not isinstance(value, str):
        raise ParameterError(parameter, value, allowed)
    return value.strip()


def is_account_id(value: object) -> bool:
    """Return True when ``value`` is a 12-digit account id."""
    return isinstance(value, str) and ACCOUNT_ID_PATTERN.match(value) is not None


def is_ou_id(value: object) -> bool:
    """Return True when ``value`` is an organizational unit id (``ou-xxxx-yyyyyyyy``)."""
    return isinstance(value, str) and OU_ID_PATTERN.match(value) is not None


def is_root_id(value: object) -> bool:
    """Return True when ``value`` is an organization root id (``r-xxxx``)."""
    return isinstance(value, str) and ROOT_ID_PATTERN.match(value) is not None


def validate_directory_id(value: object, parameter: str = "directory_id") -> str:
    """Return a directory id matching ``^d-[0-9a-f]{10}$`` or raise ParameterError."""
    allowed = "'d-' followed by 10 lowercase hex digits, e.g. d-1234567890"
    text = _text(parameter, value, allowed)
    if not DIRECTORY_ID_PATTERN.match(text):
        raise ParameterError(parameter, value, allowed)
    return text


def validate_account_id(value: object, parameter: str = "account_id") -> str:
    """Return a 12-digit account id or raise ParameterError."""
    allowed = "a 12-digit AWS account id, e.g. 123456789012"
    text = _text(parameter, value, allowed)
    if not ACCOUNT_ID_PATTERN.match(text):
        raise ParameterError(parameter, value, allowed)
    return text


def validate_ou_id(value: object, parameter: str = "ou_id") -> str:
    """Return an OU id matching ``^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`` or raise."""
    allowed = "an organizational unit id, e.g. ou-ab12-cd34ef56"
    text = _text(parameter, value, allowed)
    if not OU_ID_PATTERN.match(text):
        raise ParameterError(parameter, value, allowed)
    return text


def validate_root_id(value: object, parameter: str = "root_id") -> str:
    """Return a root id matching ``^r-[0-9a-z]{4,32}$`` or raise ParameterError."""
    allowed = "an organization root id, e.g. r-ab12"
    text = _text(parameter, value, allowed)
    if not ROOT_ID_PATTERN.match(text):
        raise ParameterError(parameter, value, allowed)
    return text


def validate_target(value: object, parameter: str = "target") -> str:
    """Return an account id, OU id or root id, or raise ParameterError."""
    allowed = "a 12-digit account id, an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)"
    text = _text(parameter, value, allowed)
    if is_account_id(text) or is_ou_id(text) or is_root_id(text):
        return text
    raise ParameterError(parameter, value, allowed)


def validate_targets(values: object, parameter: str = "targets") -> list[str]:
    """Return a non-empty list of valid targets, deduplicated in order.

    A single string is refused (a common slip that would otherwise iterate characters).
    """
    allowed = "a non-empty list of account ids, OU ids or root ids"
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ParameterError(parameter, values, allowed)
    items = list(values)
    if not items:
        raise ParameterError(parameter, items, allowed)
    seen: dict[str, None] = {}
    for index, item in enumerate(items):
        seen.setdefault(validate_target(item, f"{parameter}[{index}]"), None)
    return list(seen)


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Regions where the installed botocore knows Directory Service, in every partition."""
    import botocore.session  # local: keep this module importable by pure planners cheaply

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ds", partition_name=partition))
    return frozenset(regions)


def validate_region(value: object, parameter: str = "region") -> str:
    """Return a Region name botocore knows for ``ds`` (or one shaped like a Region)."""
    allowed = "an AWS Region name such as us-east-1 or eu-west-1"
    text = _text(parameter, value, allowed)
    # The pattern first: botocore's Region list costs ~80 ms to load (endpoint data and
    # the ds model, in a session of its own), only needed for the odd names it misses.
    if REGION_PATTERN.match(text) or text in known_regions():
        return text
    raise ParameterError(parameter, value, allowed)


def validate_regions(values: object, parameter: str = "regions") -> list[str]:
    """Return a non-empty, deduplicated list of valid Regions."""
    allowed = "a non-empty list of AWS Region names"
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ParameterError(parameter, values, allowed)
    if not values:
        raise ParameterError(parameter, list(values), allowed)
    seen: dict[str, None] = {}
    for index, item in enumerate(values):
        seen.setdefault(validate_region(item, f"{parameter}[{index}]"), None)
    return list(seen)


def validate_method(value: object, parameter: str = "method") -> str:
    """Return HANDSHAKE or ORGANIZATIONS (exact spelling, as the API wants)."""
    allowed = "one of " + ", ".join(METHODS)
    if value not in METHODS:
        raise ParameterError(parameter, value, allowed)
    return str(value)


def validate_action(value: object, parameter: str = "action") -> str:
    """Return one of the actions dsshare plans: share, unshare, accept, reject, leave."""
    allowed = "one of " + ", ".join(ACTIONS)
    if value not in ACTIONS:
        raise ParameterError(parameter, value, allowed)
    return str(value)


def validate_notes(value: object, parameter: str = "notes") -> str:
    """Return ShareNotes of at most 1024 characters (the text is never echoed back)."""
    allowed = f"text of at most {MAX_NOTES_LENGTH} characters"
    if not isinstance(value, str):
        raise ParameterError(parameter, type(value).__name__, allowed)
    if len(value) > MAX_NOTES_LENGTH:
        # ShareNotes is sensitive: name its length, never its text.
        raise ParameterError(parameter, f"<{len(value)} characters>", allowed)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        # A lone surrogate (e.g. from a broken decode) cannot be sent: refuse it up front.
        raise ParameterError(
            parameter, f"<text with an unencodable character at {err.start}>",
            "valid Unicode text (UTF-8 encodable)",
        ) from err
    return value


def validate_positive(value: object, parameter: str) -> float:
    """Return a positive number (timeouts, delays) or raise ParameterError."""
    allowed = "a number greater than 0"
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ParameterError(parameter, value, allowed)
    return float(value)
