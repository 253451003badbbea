"""The demo's need-to-know check (bot/demo_check.py), from small cases: what counts as being about a target, who a
message reaches, and what is excused (only a reference the person typed themselves)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.demo_check import DETAILS, REFERENCE, WORDING, Leak, Message, Report, Secret, about, find_leaks, text_of
from bot.fakeslack import Seen

REFS = ["OCG-07", "OCG-1", "N-0412"]
SECRETS = [
    Secret("OCG-07", DETAILS, "Cannabis cultivation in rented houses across Riverside; members claim benefits"),
    Secret("OCG-07", WORDING, "check benefit claims at the two addresses"),
    Secret("N-0412", WORDING, "visit"),
]
ENTITLED = {("sam", "OCG-07"), ("tom", "OCG-07"), ("tom", "N-0412")}


def entitled(member: str, ref: str) -> bool:
    return (member, ref) in ENTITLED


def test_references_are_whole_words_in_any_case() -> None:
    assert about("Action #1 recorded on OCG-07", REFS, ()) == {("OCG-07", REFERENCE)}
    assert about("see ocg-07.", REFS, ()) == {("OCG-07", REFERENCE)}
    assert about("OCG-070 and OCG-10 and xOCG-07 and OCG-07b", REFS, ()) == set()
    assert about("OCG-1 differs from OCG-10", REFS, ()) == {("OCG-1", REFERENCE)}


def test_details_and_wording_are_found_whole_or_as_a_run_of_six_words() -> None:
    assert about("*Action:* #1: check benefit claims at the two addresses", REFS, SECRETS) == {
        ("OCG-07", WORDING)}
    # a copied part is a copy: six words in a row of the summary, across a line break and in another case
    assert about("they said: RENTED houses across\nRiverside; members claim", REFS, SECRETS) == {("OCG-07", DETAILS)}
    assert about("rented houses across Riverside; members", REFS, SECRETS) == set()  # five words: not a copy
    # a wording shorter than six words counts only whole, as a word run ("visit" inside "visited" is not it)
    assert about("visit", REFS, SECRETS) == {("N-0412", WORDING)}
    assert about("visited; revisit", REFS, SECRETS) == set()
    assert about("&amp; check   benefit claims at the TWO addresses &lt;", REFS, SECRETS) == {("OCG-07", WORDING)}


def test_a_channel_post_reaches_every_member_and_each_not_entitled_is_a_leak() -> None:
    post = Message("#ocg post", "Action #1 recorded on OCG-07: check benefit claims at the two addresses",
                   ("sam", "tom", "dan", "will"))
    leaks, found = find_leaks([post], REFS, SECRETS, entitled)
    assert sorted((leak.member, leak.kind) for leak in leaks) == [
        ("dan", REFERENCE), ("dan", WORDING), ("will", REFERENCE), ("will", WORDING)]
    assert {leak.ref for leak in leaks} == {"OCG-07"} and {leak.where for leak in leaks} == {"#ocg post"}
    assert found == {REFERENCE: 1, DETAILS: 0, WORDING: 1}


def test_only_a_reference_the_person_typed_is_excused() -> None:
    refusal = Message("ephemeral to dan", "You can't see 'OCG-07': either it doesn't exist or you are not in its "
                                          "section", ("dan",))
    assert find_leaks([refusal], REFS, SECRETS, entitled, {"dan": "/actions OCG-07\n"})[0] == []
    assert find_leaks([refusal], REFS, SECRETS, entitled, {"dan": "/actions N-0412\n"})[0] == [
        Leak("ephemeral to dan", "dan", "OCG-07", REFERENCE)]
    echoed = Message("ephemeral to dan", "OCG-07: check benefit claims at the two addresses", ("dan",))
    assert find_leaks([echoed], REFS, SECRETS, entitled, {"dan": "/actions OCG-07"})[0] == [
        Leak("ephemeral to dan", "dan", "OCG-07", WORDING)]


def test_a_dm_to_someone_entitled_is_no_leak() -> None:
    dm = Message("DM to tom", "N-0412: visit; OCG-07 check benefit claims at the two addresses", ("tom",))
    leaks, found = find_leaks([dm], REFS, SECRETS, entitled)
    assert leaks == [] and found == {REFERENCE: 2, DETAILS: 0, WORDING: 2}


def test_blocks_and_attached_files_are_read() -> None:
    seen = Seen(datetime(2026, 12, 8, tzinfo=UTC), "dm", "D1", "Your itinerary",
                blocks=[{"type": "section", "fields": [{"type": "mrkdwn", "text": "*Slot*\n10:00 N-0412"}]}],
                files=["day.ics"], contents=[b"SUMMARY:OCG-07 slot"])
    assert about(text_of(seen), REFS, ()) == {("N-0412", REFERENCE), ("OCG-07", REFERENCE)}


def test_the_report_says_how_many_and_where() -> None:
    leaks = (Leak("#ocg post Tue 8 Dec 10:05", "dan", "OCG-07", REFERENCE),
             Leak("#ocg post Tue 8 Dec 10:05", "dan", "OCG-07", WORDING),
             Leak("#ocg post Tue 8 Dec 10:05", "will", "OCG-07", REFERENCE))
    lines = Report(3, {"post": 1, "dm": 2}, leaks, {REFERENCE: 1, WORDING: 1}).lines()
    assert lines[0] == "3 messages checked; references/details/wording reaching someone not entitled: 3"
    assert "  LEAKS (references/details/wording): 2/0/1, as (message, person, target, kind)" in lines
    assert lines[-1] == ("  #ocg post Tue 8 Dec 10:05: reference and wording of OCG-07 reached 2 not entitled: "
                         "dan, will")
    clean = Report(2, {"dm": 2}, (), {REFERENCE: 2}).lines()
    assert clean[0].endswith("not entitled: 0") and not any("LEAKS" in line for line in clean)
    assert all(len(line) < 125 for line in lines + clean)
