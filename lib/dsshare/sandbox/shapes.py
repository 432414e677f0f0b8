"""Input validation, output checking and output serialization from the botocore service model.

botocore validates required members and types on the client, but not patterns,
enums or lengths: AWS does that on the server, and so does the sandbox. The
same model checks every response, so a member or enum value AWS would not send
cannot leak out of the sandbox (docs/aws-sharing.md, "What the API accepts"), and
writes it as the JSON protocol's body in the same walk.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape
from botocore.utils import parse_to_aware_datetime

from .exceptions import (
    ClientException,
    EntityDoesNotExistException,
    InvalidParameterException,
    InvalidTargetException,
    SandboxModelError,
    SharingError,
)

_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def service_model(service: str) -> Any:
    """Return botocore's service model for ``service``, loaded once per process.

    Loaded under a lock: ``functools.cache`` let every thread of the first burst of
    concurrent requests build its own botocore session and parse the same model
    (~20 ms of CPU each, all fighting for the GIL).
    """
    model = _models.get(service)
    if model is None:
        with _models_lock:
            model = _models.get(service)
            if model is None:
                model = botocore.session.get_session().get_service_model(service)
                _models[service] = model
    return model


@cache
def operation_model(service: str, operation: str) -> OperationModel:
    """Return botocore's operation model (cached)."""
    return service_model(service).operation_model(operation)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _check_input(shape: Shape, value: Any, path: str, sensitive: bool = False) -> None:
    shown = "***" if sensitive or shape.metadata.get("sensitive") else _describe(value)
    meta = shape.metadata
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            raise InvalidParameterException(f"{path} must be a structure.")
        for name in shape.required_members:
            if name not in value:
                raise InvalidParameterException(f"{path}.{name} is required.".lstrip("."))
        for name, member_value in value.items():
            if name not in shape.members:
                raise InvalidParameterException(f"{path}.{name} is not a known member.".lstrip("."))
            _check_input(shape.members[name], member_value, f"{path}.{name}".lstrip("."))
        return
    if shape.type_name == "list":
        if not isinstance(value, list):
            raise InvalidParameterException(f"{path} must be a list.")
        if "min" in meta and len(value) < meta["min"]:
            raise InvalidParameterException(
                f"{path} must contain at least {meta['min']} item(s); got {len(value)}."
            )
        if "max" in meta and len(value) > meta["max"]:
            raise InvalidParameterException(
                f"{path} must contain at most {meta['max']} item(s); got {len(value)}."
            )
        for index, item in enumerate(value):
            _check_input(shape.member, item, f"{path}[{index}]")
        return
    if shape.type_name == "string":
        if not isinstance(value, str):
            raise InvalidParameterException(f"{path} must be a string.")
        if shape.enum and value not in shape.enum:
            raise InvalidParameterException(
                f"Value {shown} at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
            )
        if "min" in meta and len(value) < meta["min"]:
            raise InvalidParameterException(
                f"Value {shown} at '{path}' failed to satisfy constraint: "
                f"Member must have length greater than or equal to {meta['min']}"
            )
        if "max" in meta and len(value) > meta["max"]:
            raise InvalidParameterException(
                f"Value {shown} at '{path}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {meta['max']}"
            )
        pattern = meta.get("pattern")
        if pattern and not re.fullmatch(pattern.lstrip("^").rstrip("$"), value):
            raise InvalidParameterException(
                f"Value {shown} at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
        return
    if shape.type_name in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidParameterException(f"{path} must be an integer.")
        if "min" in meta and value < meta["min"]:
            raise InvalidParameterException(
                f"Value {shown} at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {meta['min']}"
            )
        if "max" in meta and value > meta["max"]:
            raise InvalidParameterException(
                f"Value {shown} at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {meta['max']}"
            )


def validate_input(service: str, operation: str, params: dict[str, Any]) -> None:
    """Raise InvalidParameterException when ``params`` break the model's constraints.

    Operations whose model does not list InvalidParameterException (UnshareDirectory,
    DeleteDirectory) answer with an error they do list, as AWS's answers are modelled:
    a malformed target is InvalidTargetException, a malformed DirectoryId is an entity
    that does not exist (EntityDoesNotExistException), anything else ClientException
    (**modelled**, docs/aws-sharing.md). The message is the same.
    """
    model = operation_model(service, operation)
    shape = model.input_shape
    if shape is None:
        return
    try:
        _check_input(shape, params, "")
    except InvalidParameterException as err:
        errors = {error.name for error in model.error_shapes}
        if "InvalidParameterException" in errors:
            raise
        raise _unlisted_parameter_error(errors, err.message) from None


def _unlisted_parameter_error(errors: set[str], message: str) -> SharingError:
    """The error an operation without InvalidParameterException answers bad input with."""
    if "InvalidTargetException" in errors and "Target" in message:
        return InvalidTargetException(message)
    if "EntityDoesNotExistException" in errors and "DirectoryId" in message:
        return EntityDoesNotExistException(message)
    return ClientException(message)


_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=dt.UTC)


def _epoch_seconds(value: dt.datetime | int | float | str) -> int | float:
    """A timestamp as the JSON protocol sends it: epoch seconds, truncated to milliseconds.

    A naive datetime is UTC (as moto's are); whole seconds stay an int, as AWS sends them.
    """
    when = value if isinstance(value, dt.datetime) else parse_to_aware_datetime(value)
    since = when - (_EPOCH if when.tzinfo is None else _EPOCH_UTC)
    seconds = since.days * 86400 + since.seconds
    if when.microsecond:
        return seconds + (when.microsecond // 1000) / 1000.0
    return seconds


class _Misfit(Exception):
    """An output value the model does not allow; ``path`` grows as it unwinds."""

    def __init__(self, before: str, after: str, path: str = "") -> None:
        super().__init__(before, after)
        self.before, self.after = before, after
        self.path = [path] if path else []

    def error(self, operation: str) -> SandboxModelError:
        path = operation + "".join(reversed(self.path))
        return SandboxModelError(f"sandbox output {self.before}{path}{self.after}")


#: Converts one output value to what the JSON protocol sends, or raises _Misfit.
_Convert = Callable[[Any], Any]


def _structure(shape: Shape, compiled: dict[str, _Convert]) -> _Convert:
    members = [
        (name, member.serialization.get("name", name), _compile(member, compiled))
        for name, member in shape.members.items()
    ]
    known = frozenset(shape.members)

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Misfit("", " is not a structure")
        if not known.issuperset(value):
            unknown = next(name for name in value if name not in known)
            raise _Misfit("has ", ", which AWS never sends", f".{unknown}")
        wire: dict[str, Any] = {}
        # The model's member order, None members left out: what moto's serializer wrote.
        for name, key, convert_member in members:
            member_value = value.get(name)
            if member_value is not None:
                try:
                    wire[key] = convert_member(member_value)
                except _Misfit as misfit:
                    misfit.path.append(f".{name}")
                    raise
        return wire

    return convert


def _list(shape: Shape, compiled: dict[str, _Convert]) -> _Convert:
    convert_item = _compile(shape.member, compiled)

    def convert(value: Any) -> list[Any]:
        wire: list[Any] = []
        for item in value:
            try:
                wire.append(None if item is None else convert_item(item))
            except _Misfit as misfit:
                misfit.path.append(f"[{len(wire)}]")
                raise
        return wire

    return convert


def _map(shape: Shape, compiled: dict[str, _Convert]) -> _Convert:
    convert_value = _compile(shape.value, compiled)

    def convert(value: Any) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        for key, item in value.items():
            try:
                wire[key] = None if item is None else convert_value(item)
            except _Misfit as misfit:
                misfit.path.append(f".{key}")
                raise
        return wire

    return convert


def _string(shape: Shape) -> _Convert:
    enum = frozenset(shape.enum or ())

    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise _Misfit("", " is not a string")
        if enum and value not in enum:
            raise _Misfit("", f"={value!r} is not in the model's enum")
        return value

    return convert


def _timestamp(shape: Shape) -> _Convert:
    if shape.serialization.get("timestampFormat", "unixTimestamp") != "unixTimestamp":
        raise SandboxModelError(f"{shape.name} needs a timestamp format the sandbox lacks")

    def convert(value: Any) -> int | float:
        if not isinstance(value, (dt.datetime, int, float, str)):
            raise _Misfit("", " is not a timestamp")
        return _epoch_seconds(value)

    return convert


def _blob(value: Any) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


def _same(value: Any) -> Any:
    return value


#: Converters of the shapes that need no model beyond their type.
_SCALARS: dict[str, _Convert] = {
    "integer": int,
    "long": int,
    "float": float,
    "double": float,
    "blob": _blob,
}


def _compile(shape: Shape, compiled: dict[str, _Convert]) -> _Convert:
    """The converter of ``shape``; one per structure, list or map (recursive ones included).

    Scalars are built per reference: a member may carry its own serialization traits.
    """
    kind = shape.type_name
    if kind == "string":
        return _string(shape)
    if kind == "timestamp":
        return _timestamp(shape)
    if kind not in _CONTAINERS:
        return _SCALARS.get(kind, _same)
    if shape.name in compiled:
        return compiled[shape.name]
    built: list[_Convert] = []
    compiled[shape.name] = lambda value: built[0](value)  # for a shape that contains itself
    built.append(_CONTAINERS[kind](shape, compiled))
    compiled[shape.name] = built[0]
    return built[0]


#: Builders of the converters of shapes that hold other shapes.
_CONTAINERS: dict[str, Callable[[Shape, dict[str, _Convert]], _Convert]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
}


@cache
def _output_converter(service: str, operation: str) -> _Convert | None:
    shape = operation_model(service, operation).output_shape
    return None if shape is None else _compile(shape, {})


def _wire(service: str, operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` checked against the output shape and converted to what the JSON protocol sends.

    Checking and converting share one walk, by converters built once per operation from
    the model: structures keep the model's member order and drop None members,
    timestamps become epoch seconds.
    """
    convert = _output_converter(service, operation)
    if convert is None:
        return {}
    try:
        wire: dict[str, Any] = convert(result)
    except _Misfit as misfit:
        raise misfit.error(operation) from None
    return wire


def check_output(service: str, operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """Return ``result`` unchanged after checking it against the output shape."""
    _wire(service, operation, result)
    return result


def output_json(service: str, operation: str, result: dict[str, Any]) -> str:
    """The JSON protocol body of ``result``, checked against the output shape.

    What moto's generic serializer would write for the same dict (member order,
    epoch-second timestamps), in one walk of the model instead of its per-member
    attribute search. Raises SandboxModelError as :func:`check_output` does.

    Examples
    --------
    >>> output_json("ds", "ShareDirectory", {"SharedDirectoryId": "d-1234567890"})
    '{"SharedDirectoryId": "d-1234567890"}'
    """
    return json.dumps(_wire(service, operation, result))


def json_content_type(service: str) -> str:
    """The Content-Type AWS answers a JSON-protocol ``service`` with."""
    return f"application/x-amz-json-{service_model(service).metadata.get('jsonVersion', '1.0')}"
