"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV Injection"), and their inverse.

Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@``
(and, after a tab or carriage return, what follows) as a formula: an alert's subject or a
registry name such as ``=HYPERLINK(...)`` would run on the reader's machine. As OWASP
recommends, such a text cell is written with a leading single quote, which spreadsheets show as
text and do not display.

Numbers stay numbers: a value given as ``int`` or ``float`` is written as it is (``-3.5`` must
remain a number in a column of flows), and so is text that is exactly a decimal number
(``-3.5``, ``+33``, ``1e-3``): a spreadsheet reads those as numbers, never as formulas. Only
text is neutralised. ``restore`` undoes ``neutralise`` exactly, so files Vigie exports can be
imported back (the registry's CSV round trip); a text that already starts with quotes before
one of those characters gets one quote more, so the inverse is never ambiguous.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_NEUTRALISED = re.compile(r"'*[=+\-@\t\r]", re.DOTALL)
_RESTORABLE = re.compile(r"'+[=+\-@\t\r]", re.DOTALL)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates: a quote in front when it would start a
    formula; plain numbers and other text unchanged."""
    if _NEUTRALISED.match(text) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The text ``neutralise`` was given: drops the quote it added, leaves anything else."""
    if _RESTORABLE.match(text):
        return text[1:]
    return text


def safe_cell(value: object) -> object:
    """A value for ``csv.writer``: numbers as they are, None as empty, anything else as
    neutralised text (``str(value)`` first)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    return neutralise(value if isinstance(value, str) else str(value))
