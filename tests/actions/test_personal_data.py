"""models/personal_data.py: what free text is checked for before it is saved or sent, from tables of cases.

Positives name the kind and the exact text found; negatives are wording typical of actions, notes and reasons
that must pass untouched (a false positive makes people click through the warning without reading it).
"""

from __future__ import annotations

from datetime import date

import pytest

from models.personal_data import (
    DATE_OF_BIRTH,
    EMAIL,
    NI_NUMBER,
    PHONE,
    POSTCODE,
    VEHICLE,
    Finding,
    find_personal_data,
)

TODAY = date(2026, 11, 20)

FOUND = [
    # postcodes: any case, with or without the space, every outward shape
    ("visit NT1 4AB on Friday", [(POSTCODE, "NT1 4AB")]),
    ("SW1A 1AA", [(POSTCODE, "SW1A 1AA")]),
    ("moved to sw1a1aa", [(POSTCODE, "sw1a1aa")]),
    ("M1 1AE", [(POSTCODE, "M1 1AE")]),
    ("B33 8TH", [(POSTCODE, "B33 8TH")]),
    ("CR2 6XH", [(POSTCODE, "CR2 6XH")]),
    ("DN55 1PT.", [(POSTCODE, "DN55 1PT")]),
    ("W1A 0AX", [(POSTCODE, "W1A 0AX")]),
    ("GIR 0AA", [(POSTCODE, "GIR 0AA")]),
    ("(ls1 4ap)", [(POSTCODE, "ls1 4ap")]),
    # dates of birth: a cue word, whatever the year; or a full date ten or more years back
    ("DOB 12/03/1990", [(DATE_OF_BIRTH, "12/03/1990")]),
    ("dob: 12.03.90", [(DATE_OF_BIRTH, "12.03.90")]),
    ("D.O.B. 1-2-1985", [(DATE_OF_BIRTH, "1-2-1985")]),
    ("date of birth 5 Jan 2001", [(DATE_OF_BIRTH, "5 Jan 2001")]),
    ("born 3 March 1990", [(DATE_OF_BIRTH, "3 March 1990")]),
    ("born on 3rd of March, 1990", [(DATE_OF_BIRTH, "3rd of March, 1990")]),
    ("born March 3rd, 1990", [(DATE_OF_BIRTH, "March 3rd, 1990")]),
    ("born 2020-01-01", [(DATE_OF_BIRTH, "2020-01-01")]),
    ("child (dob 14/02/2019) at home", [(DATE_OF_BIRTH, "14/02/2019")]),
    ("seen with brother 14/02/2001", [(DATE_OF_BIRTH, "14/02/2001")]),
    ("1990-03-12", [(DATE_OF_BIRTH, "1990-03-12")]),
    ("on 12 Nov 2016", [(DATE_OF_BIRTH, "12 Nov 2016")]),
    # phone numbers
    ("call 07700 900123", [(PHONE, "07700 900123")]),
    ("07700900123", [(PHONE, "07700900123")]),
    ("07700-900-123", [(PHONE, "07700-900-123")]),
    ("+44 7700 900123", [(PHONE, "+44 7700 900123")]),
    ("+447700900123", [(PHONE, "+447700900123")]),
    ("+44 (0) 7700 900123", [(PHONE, "+44 (0) 7700 900123")]),
    ("0161 496 0000", [(PHONE, "0161 496 0000")]),
    ("ring (01632) 960123", [(PHONE, "(01632) 960123")]),
    ("020 7946 0000", [(PHONE, "020 7946 0000")]),
    ("+44 20 7946 0000", [(PHONE, "+44 20 7946 0000")]),
    ("call 07700 900123 2 times", [(PHONE, "07700 900123")]),
    # email addresses
    ("email jo.bloggs@example.org today", [(EMAIL, "jo.bloggs@example.org")]),
    ("Sam+DWP@dwp.gov.uk.", [(EMAIL, "Sam+DWP@dwp.gov.uk")]),
    # National Insurance numbers
    ("NI AB 12 34 56 C", [(NI_NUMBER, "AB 12 34 56 C")]),
    ("ab123456c", [(NI_NUMBER, "ab123456c")]),
    ("JG103759A", [(NI_NUMBER, "JG103759A")]),
    # vehicle registrations, in capitals
    ("seen in AB12 CDE", [(VEHICLE, "AB12 CDE")]),
    ("AB12CDE", [(VEHICLE, "AB12CDE")]),
    ("red Fiesta A123 BCD", [(VEHICLE, "A123 BCD")]),
    ("P7 KLM", [(VEHICLE, "P7 KLM")]),
    # several at once, in the order typed
    ("lives NT1 4AB dob 12/03/1990", [(POSTCODE, "NT1 4AB"), (DATE_OF_BIRTH, "12/03/1990")]),
    ("07700 900123 or jo@example.org, car YK19 ABC",
     [(PHONE, "07700 900123"), (EMAIL, "jo@example.org"), (VEHICLE, "YK19 ABC")]),
]

NOT_FOUND = [
    "check benefits claim by Friday",
    "visit 12 Acacia Road",  # an address without a postcode is not one of the kinds
    "visit 12 Acacia Road, Northtown",
    "OCG-07", "N-0412", "#12", "see action #12 and #9",
    "2026-12-08", "by 9/12/2026", "due 05/12/2026", "by 1 March 2027", "since 3 Jan 2020",
    "check benefits claim in 2 weeks", "end of month", "by 5/12", "at 10:30 on 12/1",
    "the b1 2nd floor", "flat 3 on the m6 3rd exit",
    "pc12 and the rest",  # lower case is not a registration
    "send the P45 DWP asked for", "P60 NHS",
    "NT123456A",  # NT is never allocated as an NI prefix
    "QQ123456C",  # Q is never a first letter
    "AB123456E",  # suffix beyond D
    "@sam.patel to follow up", "<@U0SAM> please", "@{slack:U0SAM} to call", "<!channel>",
    "12345678901",  # a long number that is not a UK phone number
    "07700 90012",  # a mobile one digit short
    "ref 0412 3456",
    "covid19 test booked", "Q3 review", "A1 road", "room 12B",
    "DOB unknown", "born in Northtown",
    "31/02/1990",  # not a date
]


@pytest.mark.parametrize(("text", "expected"), FOUND, ids=[case[0] for case in FOUND])
def test_finds_each_kind(text: str, expected: list[tuple[str, str]]) -> None:
    found = find_personal_data(text, today=TODAY)
    assert [(f.kind, f.text) for f in found] == expected
    assert all(text[f.start:f.end] == f.text for f in found)


@pytest.mark.parametrize("text", NOT_FOUND)
def test_leaves_ordinary_wording_alone(text: str) -> None:
    assert find_personal_data(text, today=TODAY) == ()


@pytest.mark.parametrize(("text", "today", "found"), [
    ("met 12/03/2016", date(2026, 11, 20), True),  # ten years back by year
    ("met 12/03/2017", date(2026, 11, 20), False),
    ("met 12/03/2017", date(2027, 1, 4), True),  # the same date, a year later
    ("met 12/03/2016", None, False),  # without today only a cue word makes a date of birth
    ("dob 12/03/2016", None, True),
    ("dob 12/03/90", None, True),
])
def test_how_old_a_date_must_be_follows_today(text: str, today: date | None, found: bool) -> None:
    assert bool(find_personal_data(text, today=today)) is found


def test_a_finding_carries_its_span() -> None:
    text = "lives NT1 4AB"
    assert find_personal_data(text) == (Finding(POSTCODE, "NT1 4AB", 6, 13),)
