"""Personal data in free text: what an action's wording, a note, a reason or an outcome should not carry.

Free text typed into /action, /outcome, notes and reasons is sent to owners, chairs and section channels, and
chat history outlives the meeting (PRODUCT.md, "Keep intelligence out of chat history"). Personal details
belong in the pack. `find_personal_data` finds the kinds of detail that identify a person on their own, so the
author can see them before anything is saved or sent:

- a UK postcode: "NT1 4AB", "SW1A 1AA", "sw1a1aa" (any case, with or without the space);
- a date of birth: a full date next to "DOB", "D.O.B.", "date of birth", "born" or "birthday" ("DOB
  12/03/1990", "born 3 March 1990"), or any full date at least MIN_AGE_YEARS years before `today`. A due date
  ("by 9/12/2026") is never old enough; without `today` only dates next to those words are found;
- a UK phone number: mobiles ("07700 900123", "+44 7700 900123") and 01/02/03 numbers ("0161 496 0000",
  "(01632) 960123", "020 7946 0000");
- an email address;
- a National Insurance number: two letters, six digits and a suffix A-D, spaces allowed ("AB 12 34 56 C"), the
  letters as HMRC allocates them (never D, F, I, Q, U or V; O not second; not BG, GB, KN, NK, NT, TN or ZZ);
- a vehicle registration, written in capitals as on the plate: the current format ("AB12 CDE") and the prefix
  format ("A123 BCD"). Lower case is not read as a registration ("pc12 and" is ordinary text), nor is a short
  code before an agency's initials ("P45 DWP").

Kept deliberately narrow, so typical action wording is left alone: an address without a postcode ("visit 12
Acacia Road"), references ("OCG-07", "N-0412", "#12"), ISO and due dates ("2026-12-08", "by 9/12/2026") and
ordinals ("the b1 2nd floor") are not findings. Pure: no clock, no database; `today` comes from the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

POSTCODE = "postcode"
DATE_OF_BIRTH = "date of birth"
PHONE = "phone number"
EMAIL = "email address"
NI_NUMBER = "National Insurance number"
VEHICLE = "vehicle registration"
KINDS = (POSTCODE, DATE_OF_BIRTH, PHONE, EMAIL, NI_NUMBER, VEHICLE)

MIN_AGE_YEARS = 10  # a full date this many years back (by year) reads as a date of birth, without a cue word


@dataclass(frozen=True)
class Finding:
    """One piece of personal data: its kind (one of KINDS), the text as typed, and where it is (text[start:end])."""

    kind: str
    text: str
    start: int
    end: int


_B = r"(?<![A-Za-z0-9])"  # not inside a word or number
_E = r"(?![A-Za-z0-9])"

_EMAIL = re.compile(_B + r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                         r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}" + _E)

# First letter: not D F I Q U V; second: not D F I O Q U V. Excluded pairs are checked after matching.
_NI = re.compile(_B + r"([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])" + _E, re.IGNORECASE)
_NI_NOT_ALLOCATED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})

_SEP = r"[ -]?"
_INTERNATIONAL = r"\+44 ?(?:\(0\) ?)?"
_MOBILE = re.compile(r"(?<![\d+])(?:" + _INTERNATIONAL + r"|0)7\d{3}" + _SEP + r"\d{3}" + _SEP + r"\d{3}(?!\d)")
_LANDLINE = re.compile(r"(?<![\d+])(?:" + _INTERNATIONAL + r"|\(?0)[123]\d{1,4}\)?" + _SEP + r"\d{3,4}" + _SEP
                       + r"\d{3,4}(?!\d)")

_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                            "nov", "dec"))}
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?" \
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_ORD = r"(?:st|nd|rd|th)?"
_NUMERIC_DATE = re.compile(_B + r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})" + _E)
_ISO_DATE = re.compile(_B + r"(\d{4})-(\d{2})-(\d{2})" + _E)
_DAY_MONTH_YEAR = re.compile(_B + r"(\d{1,2})" + _ORD + r"(?: of)? " + _MONTH + r",? (\d{4})" + _E, re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(_B + _MONTH + r" (\d{1,2})" + _ORD + r",? (\d{4})" + _E, re.IGNORECASE)
_DOB_CUE = re.compile(r"(?<![A-Za-z])(?:d\.? ?o\.? ?b\.?|date of birth|born(?: on)?|birthday|birth date)\W{0,3}$",
                      re.IGNORECASE)
_CUE_REACH = 24  # characters before a date searched for a cue word

# Outward code: A9, A99, A9A, AA9, AA99, AA9A (first letter not Q V X, second not I J Z); inward: 9AA without
# C I K M O V. GIR 0AA is the one exception.
_POSTCODE = re.compile(_B + r"((?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?)|GIR) ?(\d[ABD-HJLNP-UW-Z]{2})" + _E, re.IGNORECASE)
_ORDINAL = re.compile(r"\d(?:st|nd|rd|th)")

_PLATE_B = r"(?<![A-Za-z0-9@:])"  # nor a platform's id in a mention: "<@U0SAM>", "@{slack:U0SAM}"
_VEHICLE_CURRENT = re.compile(_PLATE_B + r"[A-HJ-PR-Y]{2}\d{2} ?[A-HJ-PR-Z]{3}" + _E)
_VEHICLE_PREFIX = re.compile(_PLATE_B + r"[A-HJ-NPR-Y]\d{1,3} ?([A-HJ-PR-Y]{3})" + _E)
# Capitals after a short code are usually an agency or a form, not a plate: "send the P45 to DWP", "P45 DWP".
_NOT_PLATE_LETTERS = frozenset({"DWP", "NHS", "CPS", "ASB", "OCG", "IOM", "YOT", "MAP", "PNC", "HMP", "NFA", "GNG",
                                "CSP", "ISP", "CAF", "AND", "THE", "FOR"})


def find_personal_data(text: str, *, today: date | None = None) -> tuple[Finding, ...]:
    """Every piece of personal data in `text`, in the order it appears. Where two readings overlap, the first
    kind tried wins (email, NI number, phone, date of birth, postcode, vehicle): "07700 900123" is one phone
    number, not something inside an email address."""
    found: list[Finding] = []

    def add(kind: str, start: int, end: int) -> None:
        if all(end <= f.start or start >= f.end for f in found):
            found.append(Finding(kind, text[start:end], start, end))

    for m in _EMAIL.finditer(text):
        add(EMAIL, m.start(), m.end())
    for m in _NI.finditer(text):
        if m[1].upper() not in _NI_NOT_ALLOCATED:
            add(NI_NUMBER, m.start(), m.end())
    for pattern in (_MOBILE, _LANDLINE):
        for m in pattern.finditer(text):
            if _phone_digits_ok(m[0]):
                add(PHONE, m.start(), m.end())
    for start, end in _dates_of_birth(text, today):
        add(DATE_OF_BIRTH, start, end)
    for m in _POSTCODE.finditer(text):
        if not (_ORDINAL.fullmatch(m[2]) and not m[0].isupper()):  # "the b1 2nd floor"
            add(POSTCODE, m.start(), m.end())
    for m in _VEHICLE_CURRENT.finditer(text):
        add(VEHICLE, m.start(), m.end())
    for m in _VEHICLE_PREFIX.finditer(text):
        if m[1] not in _NOT_PLATE_LETTERS:
            add(VEHICLE, m.start(), m.end())
    return tuple(sorted(found, key=lambda f: f.start))


def _phone_digits_ok(typed: str) -> bool:
    """A UK number has 10 or 11 digits written nationally (0 and the rest); a mobile always 11."""
    digits = re.sub(r"\D", "", typed)
    if digits.startswith("44"):
        digits = "0" + digits[2:].removeprefix("0")
    return len(digits) == 11 or (len(digits) == 10 and digits[1] != "7")


def _dates_of_birth(text: str, today: date | None) -> list[tuple[int, int]]:
    """(start, end) of each full date that reads as a date of birth: a cue word just before it, or old enough."""
    spans = []
    for start, end, day in _full_dates(text, today):
        cued = _DOB_CUE.search(text[max(0, start - _CUE_REACH):start]) is not None
        old = today is not None and day.year <= today.year - MIN_AGE_YEARS
        if cued or old:
            spans.append((start, end))
    return spans


def _full_dates(text: str, today: date | None) -> list[tuple[int, int, date]]:
    """Every real calendar date written with a day, a month and a year (day first, as in the UK)."""
    out: list[tuple[int, int, date]] = []
    for m in _NUMERIC_DATE.finditer(text):
        _add_date(out, m, _year(m[4], today), int(m[3]), int(m[1]))
    for m in _ISO_DATE.finditer(text):
        _add_date(out, m, int(m[1]), int(m[2]), int(m[3]))
    for m in _DAY_MONTH_YEAR.finditer(text):
        _add_date(out, m, int(m[3]), _MONTHS[m[2][:3].lower()], int(m[1]))
    for m in _MONTH_DAY_YEAR.finditer(text):
        _add_date(out, m, int(m[3]), _MONTHS[m[1][:3].lower()], int(m[2]))
    return out


def _add_date(out: list[tuple[int, int, date]], m: re.Match[str], year: int, month: int, day: int) -> None:
    try:
        out.append((m.start(), m.end(), date(year, month, day)))
    except ValueError:
        pass  # not a calendar date ("31/02/1990", "12.34.56"): not a date of birth either


def _year(typed: str, today: date | None) -> int:
    """A two-digit year is the latest year ending in those digits that is not after this year ("90" -> 1990)."""
    if len(typed) == 4:
        return int(typed)
    this_year = (today or date(2000, 1, 1)).year
    year = this_year - this_year % 100 + int(typed)
    return year - 100 if year > this_year else year
