"""Text that came from AWS, made safe to show: control characters visible, never acted on.

Organizations accepts control characters in account and OU names, and error messages
and notes can carry anything. The inventory keeps such text exactly as AWS returned it
(frames, Parquet); every *output* passes it through one of these functions first:

* :func:`terminal` for the command line and logs: C0/C1 controls, DEL, bidirectional
  controls, line/paragraph separators and lone surrogates become visible escapes
  (``\\x1b``, ``\\u202e``), so an ESC sequence cannot recolour or clear the terminal
  and a right-to-left override cannot reorder what the operator reads;
* :func:`html_text` for the HTML report: the same escapes, HTML-escaped, marked up as
  ``<span class="ctl">`` so they stand out;
* :func:`csv_cell` / :func:`csv_value` for CSV files: the text is kept (CSV holds any
  character), but a cell that a spreadsheet would run as a formula (starting with
  ``= + - @``, a tab or a carriage return) gets a leading apostrophe, reversibly;
* :func:`xlsx_text` for XLSX workbooks: the same escapes (tab and line breaks kept, as
  cells may hold them), which covers every character XML 1.0 cannot hold (openpyxl would
  raise ``IllegalCharacterError``), and Excel's cell length limit.

Pure: no I/O, no AWS.

Examples
--------
>>> terminal("Prod\\x1b[2J")
'Prod\\\\x1b[2J'
>>> csv_cell("=HYPERLINK(1)"), csv_value(csv_cell("=HYPERLINK(1)"))
("'=HYPERLINK(1)", '=HYPERLINK(1)')
"""

from __future__ import annotations

import html
import re

__all__ = [
    "FORMULA_PREFIX",
    "XLSX_MAX_CELL",
    "csv_cell",
    "csv_value",
    "has_controls",
    "html_text",
    "terminal",
    "xlsx_text",
]

#: Bidirectional marks, embeddings, overrides and isolates: text that displays in another order.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Characters a terminal or browser treats as a line break besides the C0 ones.
_SEPARATORS = frozenset("\u2028\u2029")
#: The apostrophe that makes a spreadsheet read the cell as text.
FORMULA_PREFIX = "'"
#: A cell a spreadsheet runs as a formula (OWASP "CSV injection"), after any apostrophes.
_NEEDS_PREFIX = re.compile(r"'*[=+\-@\t\r]")
_PREFIXED = re.compile(r"'+[=+\-@\t\r]")
#: Excel's limit on the characters of one cell.
XLSX_MAX_CELL = 32_767
#: Characters XML 1.0 (and so openpyxl) cannot hold: C0 controls except tab, LF and CR.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|[\ud800-\udfff]|[\ufffe\uffff]")


#: Every character shown as an escape: C0, DEL and C1 controls (Unicode category Cc), lone
#: surrogates (Cs), bidi controls and the line/paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff"
    + "".join(sorted(BIDI_CONTROLS | _SEPARATORS))
    + "]"
)


def _unsafe(char: str) -> bool:
    return _UNSAFE.match(char) is not None


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def has_controls(text: str) -> bool:
    """True when ``text`` holds a character :func:`terminal` would escape."""
    return _UNSAFE.search(text) is not None


def terminal(value: object) -> str:
    """``value`` as text with every control, bidi and separator character escaped visibly.

    None is ``""``. Printable text (any script, emoji) is unchanged; a backslash stays a
    backslash, so ``\\x1b`` on screen is either the escape or those four characters typed.

    Examples
    --------
    >>> terminal("a\\u202eb\\x00")
    'a\\\\u202eb\\\\x00'
    """
    if value is None:
        return ""
    text = str(value)
    return _UNSAFE.sub(lambda m: _escape(m.group()), text)


def html_text(value: object) -> str:
    """``value`` HTML-escaped, with control and bidi characters as visible marked escapes.

    Examples
    --------
    >>> html_text("<b>\\x1b")
    '&lt;b&gt;<span class="ctl" title="control character U+001B">\\\\x1b</span>'
    """
    if value is None:
        return ""
    text = str(value)
    if not has_controls(text):
        return html.escape(text)
    parts = []
    for c in text:
        if _unsafe(c):
            parts.append(
                f'<span class="ctl" title="control character U+{ord(c):04X}">{_escape(c)}</span>'
            )
        else:
            parts.append(html.escape(c))
    return "".join(parts)


def csv_cell(text: str) -> str:
    """``text`` for a CSV cell: an apostrophe first when a spreadsheet would run it as a formula.

    Reversible with :func:`csv_value` (text that already starts with apostrophes before a
    formula character gets one more), so a snapshot read back holds exactly what AWS said.
    """
    return FORMULA_PREFIX + text if _NEEDS_PREFIX.match(text) else text


def csv_value(cell: str) -> str:
    """The text :func:`csv_cell` was given."""
    return cell[1:] if _PREFIXED.match(cell) else cell


def xlsx_text(value: str) -> str:
    """``value`` for an XLSX cell: controls escaped (tab, LF, CR kept), cut to Excel's limit.

    A cut cell ends with ``…[cut: N characters]``; the CSV and Parquet copies keep it whole.
    """
    if has_controls(value):
        value = "".join(_escape(c) if _unsafe(c) and c not in "\t\n\r" else c for c in value)
    text = _XML_ILLEGAL.sub(lambda m: _escape(m.group()), value)
    if len(text) > XLSX_MAX_CELL:
        marker = f"…[cut: {len(text)} characters]"
        text = text[: XLSX_MAX_CELL - len(marker)] + marker
    return text
