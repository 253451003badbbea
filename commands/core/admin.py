"""`/oneday`: help, who-am-I and the partnership's figures (`report`). Administration grows here."""

from __future__ import annotations

from commands.core import access
from commands.core.context import Caller
from commands.core.dates import day_label
from commands.core.errors import UsageError
from commands.core.help import example, help_reply
from commands.core.names import command
from commands.core.replies import Reply, Result
from commands.meeting import toolkit
from commands.reports import chat as report_chat
from models.relevance import runs_the_day


def run(caller: Caller, text: str) -> Result:
    names, words = caller.names, text.split()
    verb = words[0].lower() if words else "help"
    if verb == "help":
        return Result(help_reply("oneday", names, today=caller.local_now.date()))
    if verb == "whoami":
        if len(words) > 1:
            raise UsageError(f"'{command(names, 'oneday', 'whoami')}' takes no arguments",
                             example=command(names, "oneday", "whoami"))
        return Result(whoami(caller))
    if verb == "toolkit":
        return toolkit.run(caller, words[1:])
    if verb == "report":
        return report_chat.run(caller, words[1:])
    raise UsageError(f"unknown subcommand '{verb}'", example=example("oneday", names))


def whoami(caller: Caller) -> Reply:
    m, p = caller.member, caller.partnership
    everyone = runs_the_day(m)
    visible = [] if everyone else [c.name for c in access.entitled_cohorts(caller, m)]
    isp = "signed the current ISP" if m.agency.has_signed(p.isp_version) else (
        f"has NOT signed the current ISP ({p.isp_version}): excluded from sections with personal data")
    fields = [
        ("Member", f"{m.name} ({m.key})"),
        ("Agency", f"{m.agency.name} - {isp}"),
        ("Roles", ", ".join(m.roles) or "none"),
        ("Sections", "all sections (coordinator/chair)" if everyone else (", ".join(visible) or "none yet")),
    ]
    if m.spoc:
        fields.append(("Single point of contact", f"yes, for {m.agency.name}"))
    if m.out_of_office_until:
        fields.append(("Out of office until", day_label(m.out_of_office_until, weekday=False, long=True, year=True)))
    return Reply(title=p.name, fields=tuple(fields),
                 footer="Sections as the need-to-know rule puts you in them now: they follow the targets' flags, "
                        "actions and leads, so they can change before the day.")
