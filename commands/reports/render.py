"""The partnership's figures as CSV, HTML, PDF and a PNG chart.

Every format is drawn from the same `tables()` of a `Figures`, which holds counts keyed by agency names, outcome
categories and months only: so no format can show a target reference, a person or free text, because none
reaches this module. matplotlib is imported inside `chart()` (about 1.5 s, and memory, on first use) so that
`oneday serve` and the worker load it only when someone asks for a report.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jinja2 import Environment

from commands.reports.figures import OUTCOME_GROUPS, Figures, group_of

if TYPE_CHECKING:  # types only: the libraries themselves are imported when a report is made
    from fpdf import FPDF
    from matplotlib.axes import Axes

FORMATS = ("html", "pdf", "csv", "png")
FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def _days(value: float | int | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"


def tables(f: Figures) -> tuple[Table, ...]:
    """The report's content, in reading order: what every format shows."""
    total = f.totals
    ttc = f.time_to_outcome
    return (
        Table("Summary", ("Measure", "Value"), (
            ("Meetings held", str(f.meetings_held)),
            ("Sections held", str(f.sections_held)),
            ("Actions raised", str(total.raised)),
            ("Actions completed", str(total.completed)),
            ("Actions cancelled", str(total.cancelled)),
            (f"Actions overdue on {f.as_of.isoformat()}", str(total.overdue)),
        )),
        Table("Actions by agency", ("Agency", "Raised", "Completed", "Cancelled", "Overdue"),
              tuple((a.agency, str(a.raised), str(a.completed), str(a.cancelled), str(a.overdue))
                    for a in (*f.actions, total)),
              note="By the agency of the action's owner. Overdue: due before "
                   f"{f.as_of.isoformat()} and not closed by then."),
        Table("Actions by month", ("Month", "Raised", "Completed"),
              tuple((m.month, str(m.raised), str(m.completed)) for m in f.months)),
        Table("Time to outcome", ("Outcomes", "Median days", "90th percentile days"),
              ((str(ttc.outcomes), _days(ttc.median_days), _days(ttc.p90_days)),),
              note="Calendar days from an action being raised to its outcome, for outcomes recorded in the period."),
        Table("Outcomes by group", ("Group", "Outcomes"), tuple((g, str(n)) for g, n in f.outcomes_by_group),
              note="Disruption: civil, regulatory or administrative powers; enforcement: the criminal justice "
                   "route and court orders; prevention: diversion, support, safeguarding; other: nothing came "
                   "of it, or information only."),
        Table("Outcomes by category", ("Category", "Group", "Outcomes"),
              tuple((c, group_of(c), str(n)) for c, n in f.outcomes_by_category)),
        Table("Attendance by agency", ("Agency", "Invited", "Present", "Apologies", "No mark", "Present %"),
              tuple((a.agency, str(a.invited), str(a.present), str(a.apologies), str(a.no_mark),
                     _share(a.present, a.invited)) for a in f.attendance),
              note="Member invitations to the sections of the meetings held in the period."),
        Table("Information sharing protocol", ("Agency", "Status"), f.isp,
              note="Active agencies now. " + ", ".join(f"{s}: {n}" for s, n in f.isp_counts) + "."),
    )


def title(f: Figures) -> str:
    return f"{f.partnership}: partnership figures, {f.period}"


FOOTER = ("Depersonalised: counts by agency, outcome category and month only; no target, person or free text. "
          "Outcome groups: " + "; ".join(f"{g}: {', '.join(c for c, gg in OUTCOME_GROUPS.items() if gg == g)}"
                                         for g in ("disruption", "enforcement", "prevention", "other")) + ".")


# ------------------------------------------------------------------------------------------------ CSV


def _cell(value: str) -> str:
    """A spreadsheet would run text starting with = + - @ as a formula: quote it with an apostrophe (a lone "-",
    no figure, is not a formula)."""
    return f"'{value}" if value.startswith(FORMULA_START) and value != "-" else value


def csv_text(f: Figures) -> str:
    """Long format, one figure per row (table, row, measure, value): what an analyst's pivot table reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("partnership", "from", "to", "table", "row", "measure", "value"))
    for t in tables(f):
        for row in t.rows:
            for header, value in zip(t.headers[1:], row[1:], strict=True):
                writer.writerow(tuple(_cell(v) for v in (f.partnership, f.start.isoformat(), f.end.isoformat(),
                                                          t.title, row[0], header, value)))
    return out.getvalue()


# ------------------------------------------------------------------------------------------------ HTML

# In the code rather than a package file: the template is the report's own, not partnership-editable wording,
# and a string needs no package data. Autoescape: agency names come from the partnership file.
_HTML = """<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 0.2em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; }
p.note, footer { color: #555; font-size: 0.9em; }
</style></head>
<body>
<h1>{{ title }}</h1>
<p>As of {{ as_of }}.</p>
{% if chart %}<img src="data:image/png;base64,{{ chart }}" alt="{{ alt }}" width="100%">{% endif %}
{% for t in tables %}
<h2>{{ t.title }}</h2>
{% if t.rows %}<table>
<tr>{% for h in t.headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr>{% for v in row %}<td{% if not loop.first %} class="n"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>{% else %}<p>None in this period.</p>{% endif %}
{% if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
{% endfor %}
<footer>{{ footer }}</footer>
</body>
</html>
"""
_ENV = Environment(autoescape=True, keep_trailing_newline=True)


def html(f: Figures, *, with_chart: bool = True) -> str:
    import base64

    picture = chart(f) if with_chart else None
    return _ENV.from_string(_HTML).render(
        title=title(f), as_of=f.as_of.isoformat(), tables=tables(f), footer=FOOTER,
        chart=base64.b64encode(picture.png).decode("ascii") if picture else "", alt=picture.alt if picture else "")


# ------------------------------------------------------------------------------------------------ PDF


def _latin1(text: str) -> str:
    """fpdf2's core fonts are Latin-1, and they keep the PDF's text readable as written (what the tests scan;
    an embedded font would write glyph numbers). A letter outside Latin-1 loses its accent (Welsh w-circumflex
    becomes w); anything else shows as '?'."""
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch)[0]
        out.append(base if ord(base) < 256 else "?")
    return "".join(out)


def pdf(f: Figures, *, with_chart: bool = True) -> bytes:
    from fpdf import FPDF

    doc = FPDF(orientation="portrait", unit="mm", format="A4")
    doc.set_title(_latin1(title(f)))
    doc.set_creator("Oneday")
    doc.set_auto_page_break(auto=True, margin=15)
    doc.add_page()
    doc.set_font("Helvetica", "B", 14)
    doc.multi_cell(0, 7, _latin1(title(f)), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "", 9)
    doc.cell(0, 6, f"As of {f.as_of.isoformat()}.", new_x="LMARGIN", new_y="NEXT")
    if with_chart:
        picture = chart(f)
        doc.image(io.BytesIO(picture.png), w=doc.epw, alt_text=_latin1(picture.alt))
    for t in tables(f):
        _pdf_table(doc, t)
    doc.ln(3)
    doc.set_font("Helvetica", "I", 8)
    doc.multi_cell(0, 4, _latin1(FOOTER), new_x="LMARGIN", new_y="NEXT")
    return bytes(doc.output())


def _pdf_table(doc: FPDF, t: Table) -> None:
    doc.ln(3)
    doc.set_font("Helvetica", "B", 11)
    doc.cell(0, 7, _latin1(t.title), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "", 8)
    if not t.rows:
        doc.cell(0, 5, "None in this period.", new_x="LMARGIN", new_y="NEXT")
    else:
        first = 70 if len(t.headers) > 2 else 100
        rest = (doc.epw - first) / max(1, len(t.headers) - 1)
        widths = (first, *([rest] * (len(t.headers) - 1)))
        with doc.table(col_widths=widths, text_align=("LEFT", *(["RIGHT"] * (len(t.headers) - 1))),
                       line_height=4.5, width=sum(widths)) as table:
            for row in (t.headers, *t.rows):
                cells = table.row()
                for value in row:
                    cells.cell(_latin1(value))
    if t.note:
        doc.set_font("Helvetica", "I", 7)
        doc.multi_cell(0, 4, _latin1(t.note), new_x="LMARGIN", new_y="NEXT")


# ------------------------------------------------------------------------------------------------ PNG


@dataclass(frozen=True)
class Chart:
    png: bytes
    texts: tuple[str, ...]  # every piece of text drawn on it (titles, tick labels, legends): what tests scan
    alt: str  # a description for screen readers, from the same figures


def _short(name: str, limit: int = 38) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def chart(f: Figures) -> Chart:
    """Four panels: actions by agency, outcomes by group, attendance by agency, actions by month.

    matplotlib's object-oriented API (a `Figure`, no pyplot): no global state, safe in a server thread."""
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.ticker import MaxNLocator

    # Fixed margins rather than constrained layout: it halves the drawing time (measured), and the agency names
    # on the left are cut to 38 characters so they fit the left margin.
    fig = Figure(figsize=(11, 8.5), dpi=100)
    fig.subplots_adjust(left=0.25, right=0.98, top=0.92, bottom=0.1, wspace=0.15, hspace=0.3)
    (ax_actions, ax_groups), (ax_attend, ax_months) = fig.subplots(2, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    fig.suptitle(title(f), fontsize=11)

    _hbars(ax_actions, [_short(a.agency) for a in f.actions],
           {"raised": [a.raised for a in f.actions], "completed": [a.completed for a in f.actions],
            "overdue": [a.overdue for a in f.actions]}, "Actions by agency")
    ax_groups.bar([g for g, _ in f.outcomes_by_group], [n for _, n in f.outcomes_by_group],
                  color=["#1f77b4", "#d62728", "#2ca02c", "#999999"])
    ax_groups.set_title("Outcomes by group", fontsize=9)
    ax_groups.tick_params(labelsize=7)
    _hbars(ax_attend, [_short(a.agency) for a in f.attendance],
           {"present": [a.present for a in f.attendance], "apologies": [a.apologies for a in f.attendance],
            "no mark": [a.no_mark for a in f.attendance]}, "Attendance by agency (member invitations)", stacked=True)
    months = [m.month for m in f.months]
    xs = list(range(len(months)))
    ax_months.bar([x - 0.2 for x in xs], [m.raised for m in f.months], width=0.4, label="raised")
    ax_months.bar([x + 0.2 for x in xs], [m.completed for m in f.months], width=0.4, label="completed")
    ax_months.set_xticks(xs, months, rotation=90 if len(months) > 4 else 0)
    ax_months.set_title("Actions by month", fontsize=9)
    ax_months.tick_params(labelsize=8)
    if months:
        ax_months.legend(fontsize=7)

    for ax, axis in ((ax_actions, "x"), (ax_attend, "x"), (ax_groups, "y"), (ax_months, "y")):
        (ax.xaxis if axis == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))  # counts
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    texts = tuple(t.get_text() for t in fig.findobj(Text) if isinstance(t, Text) and t.get_text())
    return Chart(buffer.getvalue(), texts, alt_text(f))


def _hbars(ax: Axes, labels: Sequence[str], series: dict[str, list[int]], heading: str, *,
           stacked: bool = False) -> None:
    ax.set_title(heading, fontsize=9)
    if not labels:
        ax.text(0.5, 0.5, "None in this period", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        ax.set_axis_off()
        return
    ys = list(range(len(labels)))
    height = 0.8 if stacked else 0.8 / len(series)
    left = [0] * len(labels)
    for i, (name, values) in enumerate(series.items()):
        if stacked:
            ax.barh(ys, values, height=height, left=left, label=name)
            left = [a + b for a, b in zip(left, values, strict=True)]
        else:
            ax.barh([y - 0.4 + height * (i + 0.5) for y in ys], values, height=height, label=name)
    ax.set_yticks(ys, list(labels))
    ax.invert_yaxis()
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7)


def alt_text(f: Figures) -> str:
    total = f.totals
    groups = ", ".join(f"{g} {n}" for g, n in f.outcomes_by_group)
    invited = sum(a.invited for a in f.attendance)
    present = sum(a.present for a in f.attendance)
    return (f"Partnership figures {f.period}: {total.raised} actions raised, {total.completed} completed, "
            f"{total.overdue} overdue across {len(f.actions)} agencies; outcomes by group: {groups}; "
            f"attendance {present} present of {invited} member invitations across {len(f.attendance)} agencies.")
