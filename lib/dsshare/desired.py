"""Desired-state form: which accounts and OUs each directory should be shared with.

A desired state is plain data (usually YAML, schema in ``docs/library.md``); it is read with
the one input reader (:mod:`dsshare.inputs`: ids keep the text that was written, booleans
are true/false only, no tags, aliases or duplicate keys), validated here before any AWS
call, and planned by :func:`dsshare.planning.plan_desired_state`.

Example
-------
>>> state = parse_desired_state({
...     "directories": [{"directory_id": "d-1234567890", "method": "ORGANIZATIONS",
...                      "targets": ["200000000004"]}]})
>>> state.directories[0].method
'ORGANIZATIONS'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dsshare import inputs
from dsshare.errors import ParameterError
from dsshare.model import ShareMethod
from dsshare.validation import (
    validate_account_id,
    validate_directory_id,
    validate_method,
    validate_notes,
    validate_region,
    validate_target,
)

__all__ = [
    "SCHEMA_VERSION",
    "DesiredDirectory",
    "DesiredState",
    "load_desired_state",
    "parse_desired_state",
]

SCHEMA_VERSION = 1
_TOP_KEYS = {"version", "defaults", "prune", "directories"}
_DEFAULT_KEYS = {"region", "method", "notes", "allow_external", "prune", "owner_account_id"}
_DIRECTORY_KEYS = _DEFAULT_KEYS | {"directory_id", "targets"}


@dataclass(frozen=True)
class DesiredDirectory:
    """One directory's desired shares in one Region."""

    directory_id: str
    targets: tuple[str, ...]
    method: str = ShareMethod.HANDSHAKE
    notes: str = field(default="", repr=False)
    region: str | None = None
    owner_account_id: str | None = None
    allow_external: bool = False
    prune: bool = False


@dataclass(frozen=True)
class DesiredState:
    """Every directory's desired shares; ``prune`` unshares accounts not listed."""

    directories: tuple[DesiredDirectory, ...]
    prune: bool = False


def _mapping(value: object, parameter: str, allowed: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParameterError(parameter, value, allowed)
    return value


def _unknown_keys(data: Mapping[str, Any], known: set[str], parameter: str) -> None:
    unknown = sorted(str(key) for key in set(data) - known)
    if unknown:
        raise ParameterError(parameter, unknown, "only the keys " + ", ".join(sorted(known)))


def _bool(value: object, parameter: str) -> bool:
    return inputs.boolean(value, parameter)


def parse_desired_state(data: object) -> DesiredState:
    """Validate a desired-state mapping (e.g. loaded YAML) into a :class:`DesiredState`.

    Raises ParameterError naming the exact path of the bad value, e.g.
    ``directories[1].targets[0]``.

    Example
    -------
    >>> parse_desired_state({"directories": []}).directories
    ()
    """
    top = _mapping(data, "desired_state", "a mapping with a 'directories' list")
    _unknown_keys(top, _TOP_KEYS, "desired_state")
    version = top.get("version", SCHEMA_VERSION)
    if version is None or inputs.integer(version, "version") != SCHEMA_VERSION:
        raise ParameterError("version", version, f"{SCHEMA_VERSION}")
    defaults = _mapping(top.get("defaults") or {}, "defaults", "a mapping")
    _unknown_keys(defaults, _DEFAULT_KEYS, "defaults")
    prune = _bool(top.get("prune", False), "prune")
    entries = top.get("directories")
    if not isinstance(entries, list):
        raise ParameterError("directories", entries, "a list of directory entries")
    directories: list[DesiredDirectory] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for index, raw in enumerate(entries):
        where = f"directories[{index}]"
        entry = _mapping(raw, where, "a mapping with directory_id and targets")
        _unknown_keys(entry, _DIRECTORY_KEYS, where)
        merged = {**defaults, **entry}
        directory = _directory(merged, where)
        key = (directory.directory_id, directory.region, directory.owner_account_id)
        if key in seen:
            raise ParameterError(
                f"{where}.directory_id", directory.directory_id, "each directory listed once"
            )
        seen.add(key)
        directories.append(directory)
    return DesiredState(directories=tuple(directories), prune=prune)


def _directory(merged: Mapping[str, Any], where: str) -> DesiredDirectory:
    if "directory_id" not in merged:
        raise ParameterError(f"{where}.directory_id", None, "a directory id (d-xxxxxxxxxx)")
    targets_raw = merged.get("targets", [])
    if isinstance(targets_raw, str) or not isinstance(targets_raw, list):
        raise ParameterError(f"{where}.targets", targets_raw, "a list (may be empty)")
    targets: dict[str, None] = {}
    for t_index, target in enumerate(targets_raw):
        name = f"{where}.targets[{t_index}]"
        targets.setdefault(validate_target(inputs.identifier(target, name), name), None)
    region = merged.get("region")
    owner = merged.get("owner_account_id")
    directory_id = f"{where}.directory_id"
    return DesiredDirectory(
        directory_id=validate_directory_id(inputs.identifier(merged["directory_id"], directory_id), directory_id),
        targets=tuple(targets),
        method=validate_method(merged.get("method", ShareMethod.HANDSHAKE), f"{where}.method"),
        notes=validate_notes(inputs.notes_text(merged.get("notes"), f"{where}.notes"), f"{where}.notes"),
        region=None if region is None else validate_region(
            inputs.identifier(region, f"{where}.region"), f"{where}.region"),
        owner_account_id=None if owner is None else validate_account_id(
            inputs.identifier(owner, f"{where}.owner_account_id"), f"{where}.owner_account_id"),
        allow_external=_bool(merged.get("allow_external", False), f"{where}.allow_external"),
        prune=_bool(merged.get("prune", False), f"{where}.prune"),
    )


def load_desired_state(path: str | os.PathLike[str]) -> DesiredState:
    """Read and validate a desired-state YAML file.

    Example
    -------
    >>> load_desired_state("parameters/desired_state.example.yaml")  # doctest: +SKIP
    """
    return parse_desired_state(inputs.read_yaml_file(path, "desired_state"))
