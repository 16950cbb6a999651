"""Field types of the registry rows: codes, DevEUIs, INSEE codes, numbers, weekly hours.

Each type accepts what people actually write in spreadsheets and YAML (upper-case DevEUIs with
separators, decimal commas, oui/non, lists in one cell) and normalises it before validating.
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from core.state.models import ADDRESS_LENGTH, CODE_LENGTH, NAME_LENGTH
from core.state.vocabulary import WEEKDAYS, CarpoolPlaceType, EnergyCarrier, HolidayZone

_LINE_BREAKS = re.compile(r"[ \t]*[\r\n\t\x85\u2028\u2029]+[ \t]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HEX = re.compile(r"[0-9a-f]{16}")
_EUI_SEPARATORS = re.compile(r"[\s:-]")
_LIST_SEPARATORS = re.compile(r"[\s,;|]+")
_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)|24:00")
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]*")
_TRUE = {"true", "1", "yes", "y", "oui", "o", "vrai", "t"}
_FALSE = {"false", "0", "no", "n", "non", "faux", "f"}


def _text(value: Any) -> Any:
    """Numbers where text is expected (a YAML ``code: 59139``) are read as their digits."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _one_line(value: Any) -> Any:
    """Names are shown on one line of a screen or report: a line break typed in a spreadsheet
    cell (Alt+Enter) becomes a space; other control characters are refused."""
    value = _text(value)
    if not isinstance(value, str):
        return value
    value = _LINE_BREAKS.sub(" ", value)
    if _CONTROL.search(value):
        raise ValueError("contains a control character")
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _dev_eui(value: Any) -> Any:
    """DevEUIs are written in many ways (upper case, ``70-B3-D5-...``): keep 16 lower-case hex."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    normalised = _EUI_SEPARATORS.sub("", value).lower()
    if not _HEX.fullmatch(normalised):
        raise ValueError("must be a DevEUI: 16 hexadecimal digits")
    return normalised


def number(value: Any) -> Any:
    """Accept the French decimal comma of spreadsheets (``12,5``)."""
    if isinstance(value, str):
        stripped = value.strip().replace("\u202f", "").replace("\xa0", "")
        return stripped.replace(",", ".") if _DECIMAL_COMMA.fullmatch(stripped) else stripped
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError("must be true or false (oui/non accepted)")
    return value


def _word_list(value: Any) -> Any:
    """A list, or a cell listing words separated by spaces, commas, semicolons or bars."""
    if isinstance(value, str):
        return [word for word in _LIST_SEPARATORS.split(value) if word]
    return value


def _outdoor_probe(value: Any) -> Any:
    """``true``/``oui`` (the readings without a channel) or the name of a channel (``ext``)."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        if not _CHANNEL.fullmatch(word):
            raise ValueError("must be true or the channel that measures the outdoor air (ext)")
        return word
    return value


def _case_insensitive(enum: type[CarpoolPlaceType | HolidayZone]) -> Any:
    by_lower = {member.value.lower(): member.value for member in enum}

    def lookup(value: Any) -> Any:
        return by_lower.get(value.strip().lower(), value) if isinstance(value, str) else value

    return BeforeValidator(lookup)


Code = Annotated[
    str,
    BeforeValidator(_text),
    StringConstraints(
        strip_whitespace=True, max_length=CODE_LENGTH, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    ),
]
Name = Annotated[
    str,
    BeforeValidator(_one_line),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_LENGTH),
]
DevEui = Annotated[str, BeforeValidator(_dev_eui)]
# Lower-cased before the pattern is checked (StringConstraints checks the pattern first).
Slug = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=CODE_LENGTH),
]
# vendor/model, as in the public LoRaWAN device repository: axioma/qalcosonic-w1.
CodecId = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(
        pattern=r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9._-]*$", max_length=CODE_LENGTH
    ),
]
Insee = Annotated[
    str,
    BeforeValidator(_text),
    StringConstraints(strip_whitespace=True, pattern=r"^([013-9]\d|2[AB1-9])\d{3}$"),
]
IdLieu = Annotated[
    str,
    BeforeValidator(_text),
    StringConstraints(strip_whitespace=True, pattern=r"^([013-9]\d|2[AB1-9])\d{3}-C-\d{3}$"),
]
Latitude = Annotated[float, BeforeValidator(number), Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, BeforeValidator(number), Field(ge=-180, le=180, allow_inf_nan=False)]
Positive = Annotated[float, BeforeValidator(number), Field(gt=0, allow_inf_nan=False)]
Real = Annotated[float, BeforeValidator(number), Field(allow_inf_nan=False)]
Amount = Annotated[float, BeforeValidator(number), Field(ge=0, allow_inf_nan=False)]
ReferenceYear = Annotated[int, BeforeValidator(number), Field(ge=2010, le=2100)]
Count = Annotated[int, BeforeValidator(number), Field(ge=0)]
Flag = Annotated[bool, BeforeValidator(_boolean)]
Address = Annotated[
    str,
    BeforeValidator(_one_line),
    StringConstraints(strip_whitespace=True, max_length=ADDRESS_LENGTH),
]
Carriers = Annotated[list[EnergyCarrier], BeforeValidator(_word_list)]
DevEuiList = Annotated[list[DevEui], BeforeValidator(_word_list)]
IdLieuList = Annotated[list[IdLieu], BeforeValidator(_word_list)]
# GTFS ids are free text in the reference; these are the ones a registry cell can list.
GtfsStopId = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]*$", max_length=CODE_LENGTH)
]
GtfsStopList = Annotated[list[GtfsStopId], BeforeValidator(_word_list)]
OutdoorProbe = Annotated[bool | str, BeforeValidator(_outdoor_probe)]
Zone = Annotated[HolidayZone, _case_insensitive(HolidayZone)]
PlaceType = Annotated[CarpoolPlaceType, _case_insensitive(CarpoolPlaceType)]


WeeklyHours = dict[str, list[list[str]]]


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _time_range(day: str, value: Any) -> list[str]:
    if isinstance(value, str):
        parts = value.split("-")
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise ValueError(f"{day}: {value!r} is not a time range like 08:00-18:00")
    if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
        raise ValueError(f"{day}: {value!r} is not a time range like 08:00-18:00")
    start, end = (p.strip() for p in parts)
    for moment in (start, end):
        if not _TIME.fullmatch(moment):
            raise ValueError(f"{day}: {moment!r} is not a time HH:MM")
    if _minutes(start) >= _minutes(end):
        raise ValueError(f"{day}: {start}-{end} ends before it starts")
    return [start, end]


def _schedule(value: Any) -> WeeklyHours | None:
    """Weekly hours; a day is a list of ranges or one cell ``08:00-12:00 13:30-17:00``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("must map days (mon..sun) to opening hours")
    unknown = sorted(str(day) for day in value if day not in WEEKDAYS)
    if unknown:
        raise ValueError(f"unknown day(s) {', '.join(unknown)}: days are {', '.join(WEEKDAYS)}")
    schedule: WeeklyHours = {}
    for day in WEEKDAYS:
        hours = value.get(day)
        if hours is None or hours == "" or hours == []:
            continue
        ranges = hours.split() if isinstance(hours, str) else hours
        if not isinstance(ranges, list):
            raise ValueError(f"{day}: {hours!r} is not a list of time ranges")
        parsed = sorted((_time_range(day, r) for r in ranges), key=lambda r: _minutes(r[0]))
        for before, after in itertools.pairwise(parsed):
            if _minutes(after[0]) < _minutes(before[1]):
                raise ValueError(f"{day}: {before[0]}-{before[1]} overlaps {after[0]}-{after[1]}")
        schedule[day] = parsed
    return schedule or None


Schedule = Annotated[WeeklyHours | None, BeforeValidator(_schedule)]
