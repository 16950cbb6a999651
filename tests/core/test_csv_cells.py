"""CSV cells: what a spreadsheet would run as a formula is neutralised, numbers stay numbers, and
``restore`` gives back exactly what ``neutralise`` was given."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.csv_cells import FORMULA_STARTS, neutralise, restore, safe_cell


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 6 12", "'+33 6 12"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'=x", "''=x"),  # already quoted by someone: one quote more, so it reads back as is
        ("-3.5", "-3.5"),  # a number is not a formula
        ("+33", "+33"),
        ("-1e-3", "-1e-3"),
        ("Fuite = 3 L/h", "Fuite = 3 L/h"),
        ("'quoted", "'quoted"),
        ("", ""),
    ],
)
def test_neutralise(text: str, cell: str) -> None:
    assert neutralise(text) == cell
    assert restore(cell) == text


@given(st.text(alphabet=st.sampled_from("=+-@\t\r'a1.e "), max_size=8) | st.text(max_size=8))
def test_restore_inverts_neutralise_and_nothing_starts_a_formula(text: str) -> None:
    cell = neutralise(text)
    assert restore(cell) == text
    if cell.startswith(FORMULA_STARTS):
        float(cell)  # only plain numbers are left as they are


def test_safe_cell_keeps_numbers_as_numbers() -> None:
    assert [safe_cell(v) for v in (-3.5, 7, None, True, "-x", 0.0)] == [
        -3.5,
        7,
        "",
        "true",
        "'-x",
        0.0,
    ]
