"""One input reader: what an operator wrote becomes exactly that value, or a ParameterError.

Runbook parameter files and ``-p NAME VALUE`` overrides, desired-state and guardrails files,
and the console's text fields all come through here, so one rule holds everywhere:

* **YAML is read as text.** Every scalar arrives as the characters that were written (YAML
  1.1's implicit typing is off), then becomes the type the parameter declares. An unquoted
  ``012345670123`` is the account id ``"012345670123"``, never the octal number it looks
  like; ``000000000017`` stays as typed. A plain ``~``, ``null`` or nothing means "no value".
* **Booleans** are ``true`` or ``false`` (any letter case). ``yes``/``no``, ``on``/``off``
  and ``0``/``1`` are refused, because YAML 1.1 and people disagree on what they mean.
* **Numbers** are decimal, finite and in range. ``.nan``, ``.inf``, ``0x1F``, ``0o17``,
  ``1_000``, ``1:30`` (sexagesimal) and leading zeros are refused; ``1e11`` is refused
  where a whole number is wanted and range-checked where a decimal is.
* **Text** holds no control characters: NUL, escape sequences and the like are refused (an
  environment variable cannot carry a NUL, and a terminal would act on an escape sequence
  when the dry run shows the text). Notes may hold line breaks and tabs. Right-to-left
  overrides and isolates (``U+202A``-``U+202E``, ``U+2066``-``U+2069``) are refused too:
  they make a reviewer read something other than what is sent.
* **YAML features that are not data** are refused with the file and line: explicit tags
  (``!!python/object``, ``!!binary``, any ``!tag``), anchors and aliases (a "billion
  laughs" document cannot expand), duplicate keys, keys that are not text, nesting deeper
  than 32 levels and files larger than 1 MB.
* ``notes: env:VAR`` and ``notes: file:PATH`` read only from the allow-list the operator
  controls (see :func:`read_notes_reference`).

Every error is a :class:`~dsshare.errors.ParameterError` naming the parameter, what was
given (credential-like text masked, ShareNotes never shown) and what is allowed, raised
before any AWS call. This module is pure: it imports neither boto3 nor pandas.

Example
-------
>>> parse_yaml("targets: [012345670123, ou-ab12-cd34ef56]\\ndry_run: FALSE")
{'targets': ['012345670123', 'ou-ab12-cd34ef56'], 'dry_run': 'FALSE'}
>>> boolean("FALSE", "dry_run")
False
>>> boolean("off", "dry_run")
Traceback (most recent call last):
...
dsshare.errors.ParameterError: Invalid dry_run: 'off'; allowed: true or false ...
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode

from dsshare.errors import ParameterError
from dsshare.validation import MAX_NOTES_LENGTH

__all__ = [
    "BOOLEAN_ALLOWED",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NOTES_LENGTH",
    "NOTES_DIR_ENV",
    "NOTES_ENV_PREFIX",
    "NOTES_REFERENCE_PATTERN",
    "InputFileError",
    "boolean",
    "check_text",
    "cli_value",
    "identifier",
    "integer",
    "notes_text",
    "number",
    "parse_yaml",
    "read_notes_reference",
    "read_yaml_file",
    "text",
    "text_list",
]

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32
#: ``notes`` may name where the text is instead of holding it: ``env:VAR`` or ``file:PATH``.
NOTES_REFERENCE_PATTERN = re.compile(r"^(env|file):(.+)$")
#: ``notes: env:VAR`` may only name variables with this prefix.
NOTES_ENV_PREFIX = "DSSHARE_"
#: A folder the operator allows ``notes: file:PATH`` to read from (besides the folder of
#: the run's parameter files).
NOTES_DIR_ENV = "DSSHARE_NOTES_DIR"
BOOLEAN_ALLOWED = "true or false (any letter case; yes/no, on/off and 0/1 are not accepted)"
_YAML_ALLOWED = (
    "plain YAML data: mappings, lists and text, each key once, without tags (!!...), "
    "anchors (&) or aliases (*)"
)
_FILE_ALLOWED = "a readable UTF-8 YAML file of at most 1 MB"
_NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
_INTEGER = re.compile(r"^[+-]?(?:0|[1-9][0-9]*)\Z")
_DECIMAL = re.compile(r"^[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_LIST_SEPARATORS = re.compile(r"[\s,;]+")
#: Bidirectional embeddings, overrides and isolates: text that displays in another order.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_QUOTE_HINT = "text: quote ids in YAML (\"012345670123\") or pass them as strings, never numbers"


class InputFileError(ParameterError):
    """A YAML file (or ``-p`` list) that cannot be read as plain data, with where and why.

    ``path`` and ``line`` (1-based; None when unknown) say where; ``problem`` what was found.
    """

    def __init__(
        self, parameter: str, path: str, line: int | None, problem: str, allowed: str = _YAML_ALLOWED
    ) -> None:
        super().__init__(parameter, path, allowed)
        self.path = path
        self.line = line
        self.problem = problem
        where = path if line is None else f"{path}, line {line}"
        self.message = f"Invalid {parameter} ({where}): {problem}; allowed: {allowed}."
        self.args = (self.message,)


# -- YAML ---------------------------------------------------------------------------------


class _Refused(yaml.MarkedYAMLError):
    """A YAML feature the reader does not accept (raised from inside the loader)."""


class _TextLoader(yaml.BaseLoader):
    """BaseLoader (every scalar is text) that refuses tags, anchors, aliases, duplicate keys,
    non-text keys and deep nesting; a plain null word becomes None."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        start: Any = event.start_mark
        if isinstance(event, AliasEvent):
            raise _Refused(problem=f"an alias (*{event.anchor})", problem_mark=start)
        if isinstance(event, ScalarEvent | CollectionStartEvent):
            if event.anchor is not None:
                raise _Refused(problem=f"an anchor (&{event.anchor})", problem_mark=start)
            if event.tag is not None:
                raise _Refused(problem=f"a YAML tag ({event.tag})", problem_mark=start)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    problem=f"nesting deeper than {MAX_DEPTH} levels", problem_mark=start
                )
            node: Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1

    def construct_scalar(self, node: Node) -> str | None:  # type: ignore[override]
        value = str(node.value)
        if isinstance(node, ScalarNode) and node.style is None and value in _NULL_WORDS:
            return None
        return value

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[str, Any]:  # type: ignore[override]
        if not isinstance(node, MappingNode):
            raise _Refused(problem="a mapping was expected", problem_mark=node.start_mark)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _Refused(problem="a key that is a list or mapping", problem_mark=key_node.start_mark)
            key = str(key_node.value)
            if key in mapping:
                raise _Refused(problem=f"the key {key!r} a second time", problem_mark=key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=True)
        return mapping


def parse_yaml(source_text: str, parameter: str = "yaml", source: str = "<text>") -> Any:
    """Parse YAML ``source_text`` into dicts, lists, text and None (see the module docstring).

    Raises :class:`InputFileError` naming ``parameter``, ``source`` and the line.

    Example
    -------
    >>> parse_yaml("a: &x [1]\\nb: *x", "-f", "p.yaml")
    Traceback (most recent call last):
    ...
    dsshare.inputs.InputFileError: Invalid -f (p.yaml, line 1): an anchor (&x); ...
    """
    try:
        loader = _TextLoader(source_text)
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, e.g. NUL
        line = source_text.count("\n", 0, err.position) + 1
        problem = f"the character U+{err.character:04X}, which YAML does not allow"
        raise InputFileError(parameter, source, line, problem) from err
    try:
        return loader.get_single_data()
    except _Refused as err:
        refused_at = None if err.problem_mark is None else err.problem_mark.line + 1
        raise InputFileError(parameter, source, refused_at, err.problem or "not plain data") from err
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        error_at = None if mark is None else mark.line + 1
        problem = err.problem or err.context or "not valid YAML"
        raise InputFileError(parameter, source, error_at, problem, "valid YAML of " + _YAML_ALLOWED) from err
    except yaml.YAMLError as err:
        problem = str(err).splitlines()[0]
        raise InputFileError(parameter, source, None, problem, "valid YAML of " + _YAML_ALLOWED) from err
    except RecursionError as err:
        raise InputFileError(parameter, source, None, "nesting too deep") from err
    finally:
        loader.dispose()


def read_yaml_file(path: str | os.PathLike[str], parameter: str) -> Any:
    """Read and parse a UTF-8 YAML file of at most 1 MB with :func:`parse_yaml`.

    Example
    -------
    >>> read_yaml_file("parameters/share_directory.sandbox.yaml", "-f")  # doctest: +SKIP
    {'directory_id': 'd-...', 'targets': ['200000000004'], ...}
    """
    target = Path(path)
    label = str(path)
    try:
        with target.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ParameterError(parameter, label, f"{_FILE_ALLOWED} ({reason})") from err
    if len(data) > MAX_FILE_BYTES:
        raise InputFileError(
            parameter, label, None, f"a file larger than {MAX_FILE_BYTES:,} bytes", _FILE_ALLOWED
        )
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputFileError(
            parameter, label, None, f"a byte that is not UTF-8 at offset {err.start}", _FILE_ALLOWED
        ) from err
    return parse_yaml(decoded, parameter, label)


# -- text ---------------------------------------------------------------------------------


def _bad_character(value: str, multiline: bool) -> tuple[int, str] | None:
    for index, char in enumerate(value):
        if multiline and char in "\n\t":
            continue
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F or char in _BIDI_CONTROLS:
            return index, f"U+{code:04X}"
        if 0xD800 <= code <= 0xDFFF:
            return index, f"U+{code:04X} (half of a surrogate pair)"
    return None


def check_text(value: str, name: str, *, multiline: bool = False, secret: bool = False) -> str:
    """``value`` unchanged, or ParameterError when it holds a control character.

    ``multiline`` allows line breaks and tabs; ``secret`` keeps the text out of the error
    (only its length and where the character is).
    """
    found = _bad_character(value, multiline)
    if found is None:
        return value
    index, code = found
    shown: object = f"<{len(value)} characters>" if secret else value
    kinds = "line breaks and tabs are allowed; " if multiline else ""
    raise ParameterError(
        name, shown,
        f"text without control characters ({code} at position {index}; {kinds}NUL, escape "
        "sequences, other control characters and right-to-left overrides are not)",
    )  # fmt: skip


def text(value: object, name: str, *, multiline: bool = False) -> str:
    """Text exactly as written; None (an empty YAML value) is ``""``.

    Numbers, booleans, lists and mappings are refused: text must be given as text.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParameterError(name, value, "text (quote it in YAML)")
    return check_text(value, name, multiline=multiline)


def identifier(value: object, name: str) -> str:
    """An id (account, OU, directory...) exactly as written, stripped of outer spaces.

    A Python int or float is refused: the text it was written as cannot be known
    (``0o17`` and ``15`` are the same number), so it is never converted into an id.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ParameterError(name, value, _QUOTE_HINT)
    if not isinstance(value, str):
        raise ParameterError(name, value, "an id given as text")
    return check_text(value, name).strip()


def text_list(value: object, name: str) -> list[str]:
    """A list of non-empty texts (ids, Regions): a YAML list, or text split on commas,
    semicolons and whitespace; None is the empty list. Items keep their exact text."""
    if value is None:
        return []
    if isinstance(value, str):
        check_text(value, name, multiline=True)
        items: list[object] = [part for part in _LIST_SEPARATORS.split(value) if part]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ParameterError(name, value, "a list of texts, e.g. [200000000004, ou-ab12-cd34ef56]")
    result: list[str] = []
    for index, item in enumerate(items):
        where = f"{name}[{index}]"
        if isinstance(item, list | tuple | dict):
            raise ParameterError(where, item, "one text (a list may not hold lists or mappings)")
        item_text = identifier(item, where)
        if not item_text:
            raise ParameterError(where, item, "a non-empty text")
        result.append(item_text)
    return result


def notes_text(value: object, name: str = "notes") -> str:
    """ShareNotes: text of at most 1024 characters, line breaks and tabs allowed, no other
    control character; errors give its length, never the text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParameterError(name, type(value).__name__, "text (quote it in YAML)")
    if len(value) > MAX_NOTES_LENGTH:
        raise ParameterError(
            name, f"<{len(value)} characters>", f"text of at most {MAX_NOTES_LENGTH} characters"
        )
    return check_text(value, name, multiline=True, secret=True)


# -- booleans and numbers ------------------------------------------------------------------


def boolean(value: object, name: str) -> bool:
    """``True`` for ``true`` and ``False`` for ``false`` (any letter case); a Python bool
    is itself. Everything else is refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "false"):
            return word == "true"
    raise ParameterError(name, value, BOOLEAN_ALLOWED)


def _range_text(minimum: float | None, maximum: float | None, above: bool) -> str:
    low = "" if minimum is None else (f"greater than {minimum:g}" if above else f"at least {minimum:g}")
    high = "" if maximum is None else f"at most {maximum:g}"
    return " and ".join(part for part in (low, high) if part)


def _in_range(
    number_value: float, name: str, given: object, allowed: str,
    minimum: float | None, maximum: float | None, above: bool,
) -> None:  # fmt: skip
    too_low = minimum is not None and (number_value <= minimum if above else number_value < minimum)
    too_high = maximum is not None and number_value > maximum
    if too_low or too_high:
        raise ParameterError(name, given, allowed)


def integer(
    value: object, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """A whole number written in decimal digits (``+``/``-`` allowed), within the range.

    ``0x1F``, ``0o17``, ``1_000``, ``1e3``, ``1:30``, ``1.0``, ``010`` and booleans are refused.
    """
    bounds = _range_text(minimum, maximum, False)
    allowed = "a whole number in decimal digits" + (f", {bounds}" if bounds else "") + (
        " (no 0x/0o prefixes, underscores, exponents, colons or leading zeros)"
    )
    if isinstance(value, int) and not isinstance(value, bool):
        result = value
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        result = int(value.strip())
    else:
        raise ParameterError(name, value, allowed)
    _in_range(result, name, value, allowed, minimum, maximum, False)
    return result


def number(
    value: object, name: str, *, minimum: float | None = None, maximum: float | None = None,
    above_minimum: bool = False,
) -> float:  # fmt: skip
    """A finite decimal number (``1.5``, ``15``, ``2e1``) within the range.

    ``above_minimum`` makes the minimum exclusive. ``.nan``, ``.inf``, ``0x..``, ``0o..``,
    ``1_000``, ``1:30``, leading zeros and booleans are refused.
    """
    bounds = _range_text(minimum, maximum, above_minimum)
    allowed = "a finite decimal number" + (f" {bounds}" if bounds else "") + (
        " (no NaN or infinity, 0x/0o prefixes, underscores, colons or leading zeros)"
    )
    if isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    elif isinstance(value, str) and _DECIMAL.match(value.strip()):
        result = float(value.strip())
    else:
        raise ParameterError(name, value, allowed)
    if not math.isfinite(result):
        raise ParameterError(name, value, allowed)
    _in_range(result, name, value, allowed, minimum, maximum, above_minimum)
    return result


def cli_value(kind: type, value: str, name: str) -> object:
    """What ``-p NAME VALUE`` text is for a parameter of ``kind``, before its type check.

    A list may be written ``a,b`` or as a YAML flow list ``[a, b]`` (read as text, like a
    file); every other kind gets the text itself, converted by the parameter's type.
    """
    if kind is list and value.lstrip().startswith("["):
        parsed = parse_yaml(value, name, f"-p {name}")
        if not isinstance(parsed, list):
            raise ParameterError(name, value, "a list: a,b or [a, b]")
        return parsed
    return value


# -- notes references ------------------------------------------------------------------------


def _allowed_folders(folders: Sequence[str | os.PathLike[str]]) -> list[Path]:
    chosen = [Path(f) for f in folders]
    configured = os.environ.get(NOTES_DIR_ENV, "").strip()
    if configured:
        chosen.append(Path(configured).expanduser())
    resolved: list[Path] = []
    for folder in chosen:
        try:
            resolved.append(folder.resolve(strict=True))
        except (OSError, RuntimeError):
            continue  # a folder that does not exist allows nothing
    return resolved


def read_notes_reference(
    reference: str, name: str = "notes", *, folders: Sequence[str | os.PathLike[str]] = ()
) -> str:
    """The text behind ``env:VAR`` or ``file:PATH``, read only from the allow-list.

    * ``env:VAR``: ``VAR`` must start with ``DSSHARE_`` (``env:AWS_SECRET_ACCESS_KEY`` is
      refused) and be set.
    * ``file:PATH``: after following symlinks and ``..``, the file must be a regular file
      inside one of ``folders`` (``dsshare run`` passes the folders of its ``-f`` files) or
      the folder ``$DSSHARE_NOTES_DIR``; a relative path is taken from the working folder.

    The text is checked like literal notes (length, control characters) and never shown in
    an error.
    """
    match = NOTES_REFERENCE_PATTERN.match(reference.strip())
    if match is None:
        raise ParameterError(name, reference, "env:VAR or file:PATH")
    kind, target = match.group(1), match.group(2).strip()
    if kind == "env":
        if not re.fullmatch(rf"{NOTES_ENV_PREFIX}[A-Z0-9_]+", target):
            raise ParameterError(
                name, reference,
                f"env:VAR naming a variable whose name starts with {NOTES_ENV_PREFIX} (e.g. "
                f"env:{NOTES_ENV_PREFIX}SHARE_NOTES); other variables may hold secrets",
            )  # fmt: skip
        if target not in os.environ:
            raise ParameterError(name, reference, f"env:VAR naming a variable that is set ({target} is not)")
        return notes_text(os.environ[target], name)
    allowed = _allowed_folders(folders)
    where = ", ".join(str(f) for f in allowed) or f"none configured: set {NOTES_DIR_ENV}"
    allow_list = (
        f"file:PATH naming a file inside the folder of the run's parameter files or {NOTES_DIR_ENV} "
        f"(allowed now: {where})"
    )
    try:
        path = Path(target).expanduser().resolve(strict=True)
    except (OSError, RuntimeError) as err:
        raise ParameterError(name, reference, f"{allow_list}; the file does not exist") from err
    if not any(path.is_relative_to(folder) for folder in allowed):
        raise ParameterError(name, reference, allow_list)
    if not path.is_file():
        raise ParameterError(name, reference, f"{allow_list}; it is not a regular file")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_NOTES_LENGTH * 4 + 2)
        content = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or "not UTF-8 text"
        raise ParameterError(name, reference, f"{allow_list}; it cannot be read ({reason})") from err
    content = content.replace("\r\n", "\n").rstrip("\n")
    return notes_text(content, name)
