"""Partial dates as the sources give them, kept with their precision.

ClinicalTrials.gov writes `2021-09` as often as `2021-09-14`; PubMed gives Year/Month/Day parts,
month names, seasons or a free `MedlineDate`. We store the first day of the period plus a
precision ('day' | 'month' | 'year') so nothing pretends to be more exact than the source.
"""
from __future__ import annotations

import re
from datetime import date

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")


def parse_iso_partial(text: str | None) -> tuple[date | None, str | None]:
    """`2021`, `2021-09` or `2021-09-14` → (first day of that period, precision).

    Returns (None, None) for empty input; raises ValueError for text that is not such a date
    or names an impossible day, so the caller can quarantine the record.
    """
    if not text:
        return None, None
    match = _ISO.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO date: {text!r}")
    year, month, day = match.groups()
    value = date(int(year), int(month or 1), int(day or 1))
    return value, "day" if day else "month" if month else "year"


def month_number(text: str | None) -> int | None:
    """PubMed months come as `03`, `3` or `Mar`; seasons map to their first month."""
    if not text:
        return None
    text = text.strip().lower()
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(text) or MONTHS.get(text[:3]) or SEASONS.get(text)


def from_parts(
    year: str | None, month: str | None = None, day: str | None = None
) -> tuple[date | None, str | None]:
    """PubMed `Year`/`Month`/`Day` elements → (date, precision). Raises ValueError if impossible."""
    if not year or not year.strip().isdigit():
        return None, None
    month_no = month_number(month)
    if month and month_no is None:
        return date(int(year), 1, 1), "year"
    if month_no and day and day.strip().isdigit():
        return date(int(year), month_no, int(day)), "day"
    if month_no:
        return date(int(year), month_no, 1), "month"
    return date(int(year), 1, 1), "year"


def from_medline_date(text: str | None) -> tuple[date | None, str | None]:
    """A free `MedlineDate` (`2019 Jan-Feb`, `1998 Dec-1999 Jan`, `Spring 2001`) → its start."""
    if not text:
        return None, None
    year_match = _YEAR.search(text)
    if not year_match:
        return None, None
    after_year = text[year_match.end():].strip().split()
    first_word = re.split(r"[-/ ]", after_year[0])[0] if after_year else ""
    before_year = text[: year_match.start()].strip().split()
    month_no = month_number(first_word) or (month_number(before_year[-1]) if before_year else None)
    if month_no:
        return date(int(year_match.group(1)), month_no, 1), "month"
    return date(int(year_match.group(1)), 1, 1), "year"
