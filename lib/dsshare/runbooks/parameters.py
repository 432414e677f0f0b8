"""Runbook parameters: declared once, checked before any kernel starts.

Each runbook declares its parameters as :class:`Param` objects (name, type, default, help
and a check). :func:`resolve_parameters` merges the defaults with parameter sources (YAML
files, ``-p key value`` pairs) in order, rejects unknown keys, converts what files and the
command line deliver through the one input reader, :mod:`dsshare.inputs` (text stays the
text that was written: an unquoted ``012345670123`` is that account id; only ``true`` and
``false`` are booleans; numbers are decimal and finite) and runs every check, raising
:class:`~dsshare.errors.ParameterError` that names the parameter. The same declaration is what the notebooks' ``parameters`` cells mirror
(a test keeps them in step) and what ``dsshare run --describe`` prints.

This module is pure: it imports neither boto3 nor papermill.

Example
-------
>>> from dsshare.runbooks.catalog import get_runbook
>>> params = resolve_parameters(get_runbook("unshare_directory"),
...                             [{"directory_id": "d-1234567890", "targets": ["ALL"]}])
>>> params["dry_run"], params["targets"]
(True, ['ALL'])
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsshare import inputs
from dsshare.errors import DsShareError, ParameterError, UnknownNameError
from dsshare.inputs import NOTES_REFERENCE_PATTERN
from dsshare.validation import (
    validate_account_id,
    validate_directory_id,
    validate_notes,
    validate_region,
    validate_target,
)

__all__ = [
    "ALL",
    "FINGERPRINT_PATTERN",
    "NOTES_REFERENCE_PATTERN",
    "Param",
    "ParamValue",
    "RunbookSpec",
    "UnknownParameterError",
    "check_account_ids",
    "check_directory_id",
    "check_directory_ids",
    "check_endpoint_url",
    "check_expected_plan",
    "check_notes",
    "check_positive",
    "check_minutes",
    "check_region",
    "check_regions",
    "check_required_text",
    "check_scope",
    "check_targets",
    "coerce",
    "parse_cli_value",
    "resolve_notes",
    "resolve_parameters",
    "unknown_parameter",
]

#: The word that stands for "every account" (or every current share) in list parameters.
ALL = "ALL"
FINGERPRINT_PATTERN = re.compile(r"^[0-9a-f]{64}$")
#: The longest wait a runbook accepts: one day.
MAX_WAIT_MINUTES = 24 * 60.0

ParamValue = str | bool | int | float | list[str]
Check = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Param:
    """One runbook parameter.

    ``kind`` is the Python type the notebook annotates it with: ``str``, ``bool``,
    ``float`` or ``list`` (a list of strings). ``check`` receives the coerced value and the
    parameter name, and returns the value to use (normalised) or raises ParameterError.
    ``sensitive`` text (ShareNotes) may span lines and is never echoed in an error.
    """

    name: str
    kind: type
    default: ParamValue
    help: str
    check: Check | None = None
    sensitive: bool = False

    @property
    def annotation(self) -> str:
        """The annotation used in the notebook's parameters cell."""
        return "list[str]" if self.kind is list else self.kind.__name__


@dataclass(frozen=True)
class RunbookSpec:
    """A runbook: its notebook's name, what it does and the parameters it takes.

    ``cross_check`` runs after every parameter passed its own check, for rules that tie
    parameters together (e.g. ``ALL`` must stand alone).
    """

    name: str
    title: str
    description: str
    mutating: bool
    params: tuple[Param, ...]
    cross_check: Callable[[dict[str, Any]], None] | None = field(default=None, repr=False)

    def param(self, name: str) -> Param:
        """The declared parameter ``name`` (UnknownNameError, a KeyError, when unknown)."""
        for param in self.params:
            if param.name == name:
                return param
        raise UnknownNameError("parameter", name)

    @property
    def names(self) -> list[str]:
        """Parameter names in declaration order."""
        return [param.name for param in self.params]

    def defaults(self) -> dict[str, ParamValue]:
        """Every parameter's default (lists copied)."""
        return {
            p.name: list(p.default) if isinstance(p.default, list) else p.default
            for p in self.params
        }


# -- coercion ----------------------------------------------------------------------------


def coerce(param: Param, value: object) -> ParamValue:
    """Bring ``value`` to ``param.kind`` with the input reader's rules, else ParameterError.

    None (an empty YAML value) means the empty string or list; text for a list is split on
    commas, semicolons and whitespace. Text is kept exactly (an id is never a number),
    booleans are only true/false, numbers decimal and finite; control characters are refused.
    """
    name = param.name
    if param.kind is str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ParameterError(name, value, "text (quote it in YAML)")
        return inputs.check_text(value, name, multiline=param.sensitive, secret=param.sensitive)
    if param.kind is bool:
        return inputs.boolean(value, name)
    if param.kind is float:
        return inputs.number(value, name)
    if param.kind is list:
        return inputs.text_list(value, name)
    raise DsShareError(f"parameter {name} has an unsupported kind {param.kind!r}")


def parse_cli_value(param: Param, text: str) -> object:
    """Interpret ``-p key value`` text for ``param``: the text itself, converted later by
    :func:`coerce` exactly like a file's value.

    ``-p notes yes`` is the word yes, ``-p dry_run off`` is refused, ``-p targets
    012345670123`` is that account id; a list may be ``a,b`` or ``[a, b]``.
    """
    return inputs.cli_value(param.kind, text, param.name)


# -- checks ------------------------------------------------------------------------------


def check_required_text(value: str, name: str) -> str:
    """Non-empty text."""
    if not value.strip():
        raise ParameterError(name, value, "a value (it has no default)")
    return value.strip()


def check_directory_id(value: str, name: str) -> str:
    """A directory id, required."""
    return validate_directory_id(check_required_text(value, name), name)


def check_region(value: str, name: str) -> str:
    """Empty (the profile's or environment's Region) or a Region name."""
    return "" if not value.strip() else validate_region(value, name)


def check_regions(value: list[str], name: str) -> list[str]:
    """Empty (the connection's Region) or Region names, deduplicated."""
    return list(dict.fromkeys(validate_region(v, f"{name}[{i}]") for i, v in enumerate(value)))


def check_endpoint_url(value: str, name: str) -> str:
    """Empty (AWS_ENDPOINT_URL, else AWS itself) or an http(s) URL."""
    text = value.strip()
    if text and not re.match(r"^https?://[^\s/]+", text):
        raise ParameterError(name, value, "empty, or an http:// or https:// URL")
    return text


def check_expected_plan(value: str, name: str) -> str:
    """Empty (no reviewed plan) or a 64-hex-digit plan fingerprint."""
    text = value.strip().lower()
    if text and not FINGERPRINT_PATTERN.match(text):
        raise ParameterError(
            name, value, "empty, or the 64-hex-digit fingerprint a dry run printed"
        )
    return text


def check_positive(value: float, name: str) -> float:
    """A number greater than 0."""
    if value <= 0:
        raise ParameterError(name, value, "a number greater than 0")
    return value


def check_minutes(value: float, name: str) -> float:
    """Minutes to wait: greater than 0 and at most a day (1440)."""
    return inputs.number(value, name, minimum=0, maximum=MAX_WAIT_MINUTES, above_minimum=True)


def check_notes(value: str, name: str) -> str:
    """ShareNotes text of at most 1024 characters, or an ``env:VAR`` / ``file:PATH`` reference.

    The text itself is never echoed in an error: only its length.
    """
    if NOTES_REFERENCE_PATTERN.match(value.strip()):
        return value.strip()
    # The library's check also refuses text that cannot be encoded (a lone surrogate),
    # which would otherwise crash writing the run folder.
    return validate_notes(inputs.notes_text(value, name), name)


def resolve_notes(
    value: str, parameter: str = "notes", *, folders: Sequence[str | os.PathLike[str]] = ()
) -> str:
    """The ShareNotes text: ``value`` itself, or read from ``env:VAR`` or ``file:PATH``.

    References read only from the allow-list (see :func:`dsshare.inputs.read_notes_reference`):
    variables named ``DSSHARE_*``, files inside ``folders`` or ``$DSSHARE_NOTES_DIR``.
    Raises ParameterError when the reference is outside it, the variable unset, the file
    unreadable, or the text too long or holding control characters (the error names the
    length, never the text).
    """
    if NOTES_REFERENCE_PATTERN.match(value.strip()) is None:
        return check_notes(value, parameter)
    return inputs.read_notes_reference(value, parameter, folders=folders)


def _check_all_alone(value: list[str], name: str) -> bool:
    """True when the list is exactly ``["ALL"]``; raise when ALL is mixed with ids."""
    if ALL in value:
        if len(value) != 1:
            raise ParameterError(name, value, f'["{ALL}"] alone, or a list of ids without {ALL}')
        return True
    return False


def check_targets(value: list[str], name: str, *, allow_all: bool = False) -> list[str]:
    """A non-empty list of account, OU and root ids (or ``["ALL"]`` where allowed)."""
    if not value:
        allowed = "a non-empty list of account, OU or root ids"
        raise ParameterError(name, value, allowed + (f', or ["{ALL}"]' if allow_all else ""))
    if allow_all and _check_all_alone(value, name):
        return [ALL]
    return list(dict.fromkeys(validate_target(v, f"{name}[{i}]") for i, v in enumerate(value)))


def check_scope(value: list[str], name: str) -> list[str]:
    """Accounts (or OUs) to work on: ``["ALL"]``, or account, OU and root ids; may be empty."""
    if _check_all_alone(value, name):
        return [ALL]
    return list(dict.fromkeys(validate_target(v, f"{name}[{i}]") for i, v in enumerate(value)))


def check_account_ids(value: list[str], name: str) -> list[str]:
    """A (possibly empty) list of 12-digit account ids."""
    return list(dict.fromkeys(validate_account_id(v, f"{name}[{i}]") for i, v in enumerate(value)))


def check_directory_ids(value: list[str], name: str) -> list[str]:
    """A (possibly empty) list of directory ids."""
    return list(
        dict.fromkeys(validate_directory_id(v, f"{name}[{i}]") for i, v in enumerate(value))
    )


# -- resolution --------------------------------------------------------------------------


class UnknownParameterError(ParameterError):
    """A parameter name the runbook does not declare (a typo, or another runbook's)."""

    def __init__(self, runbook: str, key: str, known: Sequence[str]) -> None:
        close = difflib.get_close_matches(key, list(known), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        self.parameter, self.value = key, key
        self.allowed = "one of " + ", ".join(known)
        DsShareError.__init__(
            self,
            f"Unknown parameter {key!r} for {runbook}{hint} Known: {', '.join(known)}.",
            next_step=f"Correct or remove {key} and run again; nothing was sent to AWS.",
        )


def unknown_parameter(spec: RunbookSpec, key: object) -> ParameterError:
    """The error for a key ``spec`` does not declare, suggesting the closest name."""
    return UnknownParameterError(spec.name, str(key), spec.names)


def resolve_parameters(
    spec: RunbookSpec, sources: Sequence[Mapping[str, object]]
) -> dict[str, Any]:
    """Merge defaults and ``sources`` (later wins), then coerce and check every parameter.

    Parameters
    ----------
    spec
        The runbook.
    sources
        Mappings in order of precedence, lowest first (files, then ``-p`` pairs).

    Returns
    -------
    dict
        Every declared parameter, in declaration order, checked and normalised.

    Raises
    ------
    ParameterError
        Naming the first unknown key or bad value (e.g. ``targets[2]``).
    """
    merged: dict[str, object] = dict(spec.defaults())
    for source in sources:
        if not isinstance(source, Mapping):
            raise ParameterError("parameters", source, "a mapping of parameter names to values")
        for key, value in source.items():
            if not isinstance(key, str) or key not in merged:
                raise unknown_parameter(spec, key)
            merged[key] = value
    resolved: dict[str, Any] = {}
    for param in spec.params:
        value = coerce(param, merged[param.name])
        resolved[param.name] = param.check(value, param.name) if param.check else value
    if spec.cross_check is not None:
        spec.cross_check(resolved)
    return resolved
