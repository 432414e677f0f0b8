"""Input validation and output checking generated from the botocore service model.

botocore validates required members and types on the client, but not patterns,
enums or lengths: AWS does that on the server, and so does the sandbox. The
same model checks every response, so a member or enum value AWS would not send
cannot leak out of the sandbox (AWS_SHARING.md, "Constraints on input").
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape

from .exceptions import InvalidParameterException, SandboxModelError


@cache
def service_model(service: str) -> Any:
    """Return botocore's service model for ``service`` (cached)."""
    return botocore.session.get_session().get_service_model(service)


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
    """Raise InvalidParameterException when ``params`` break the model's constraints."""
    shape = operation_model(service, operation).input_shape
    if shape is not None:
        _check_input(shape, params, "")


def _check_output(shape: Shape, value: Any, path: str) -> None:
    if value is None:
        return
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            raise SandboxModelError(f"sandbox output {path} is not a structure")
        for name, member_value in value.items():
            if name not in shape.members:
                raise SandboxModelError(f"sandbox output has {path}.{name}, which AWS never sends")
            _check_output(shape.members[name], member_value, f"{path}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _check_output(shape.member, item, f"{path}[{index}]")
    elif shape.type_name == "string":
        if not isinstance(value, str):
            raise SandboxModelError(f"sandbox output {path} is not a string")
        if shape.enum and value not in shape.enum:
            raise SandboxModelError(f"sandbox output {path}={value!r} is not in the model's enum")
    elif shape.type_name == "timestamp":
        if not isinstance(value, (dt.datetime, int, float, str)):
            raise SandboxModelError(f"sandbox output {path} is not a timestamp")


def check_output(service: str, operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """Return ``result`` unchanged after checking it against the output shape."""
    shape = operation_model(service, operation).output_shape
    if shape is not None:
        _check_output(shape, result, operation)
    return result
