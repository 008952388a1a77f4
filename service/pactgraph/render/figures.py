"""Figures drawn on the server as SVG: a timeline of status histories, a ranked strength chart.

Both are drawn from Jinja templates (``templates/figures/*.svg``, autoescaped) out of plain
geometry computed here, so a page needs no JavaScript to show them, every mark can be a link
to its entity page, and the same data always gives the same bytes (no clock, no random ids:
ETags hold for a release). The state pages (:mod:`pactgraph.serve.summary`) draw timelines; the
comparison page draws the strength chart. Neither knows anything about the graph: callers
pass rows of labels, links and dates.

>>> year_fraction("2018-10-01")
2018.747
>>> year_fraction("1983"), year_fraction("2008-09"), year_fraction("n/a")
(1983.0, 2008.668, None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pactgraph.render.html import render

# Statuses a timeline colours by name (the instrument-status scheme's local names); any
# other status is drawn in the neutral colour. Presentation only: the statuses are data.
STATUS_STYLES: dict[str, str] = {
    "in-force": "#1b7837",
    "enacted": "#5aae61",
    "active": "#4d9221",
    "concluded": "#2166ac",
    "signed": "#6a8fc4",
    "completed": "#7f7f7f",
    "expired": "#9e9e9e",
    "superseded": "#9e9e9e",
    "terminated": "#5e3c99",
    "suspended": "#d6604d",
    "denied": "#b2182b",
    "proposed": "#e08214",
    "under-negotiation": "#e08214",
    "introduced": "#fdb863",
    "in-committee": "#fdb863",
    "passed-one-chamber": "#fdb863",
}
NEUTRAL = "#8c8c8c"

_DATE = re.compile(r"^(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def year_fraction(value: str) -> float | None:
    """A date, year-month or year as a year with its fraction (to three places); else None."""
    match = _DATE.match(value.strip())
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2) or 1)
    day = int(match.group(3) or 1)
    try:
        start = date(year, month, day)
    except ValueError:
        return None
    if not match.group(2):
        return float(year)
    days = (start - date(year, 1, 1)).days
    return round(year + days / 365.25, 3)


def status_colour(status_key: str) -> str:
    """The colour of a status, by the local name of its concept.

    >>> status_colour("in-force"), status_colour("something-new")
    ('#1b7837', '#8c8c8c')
    """
    return STATUS_STYLES.get(status_key, NEUTRAL)


# ----------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class StatusChange:
    """One dated change of status: ``when`` as written in the data (a date or a year)."""

    when: str
    status_key: str
    status_label: str
    note: str = ""


@dataclass(frozen=True)
class TimelineRow:
    """One instrument: its name, its page, its kind and its dated changes (any order)."""

    label: str
    href: str
    kind: str
    changes: tuple[StatusChange, ...]


@dataclass(frozen=True)
class _Band:
    x: float
    width: float
    colour: str
    title: str


@dataclass(frozen=True)
class _Mark:
    x: float
    colour: str
    title: str


@dataclass
class _Row:
    y: float
    label: str
    href: str
    kind: str
    bands: list[_Band] = field(default_factory=list)
    marks: list[_Mark] = field(default_factory=list)


# Geometry of a timeline, in CSS pixels at its natural size (it scrolls sideways on a phone
# rather than shrinking its text below 12 px).
LABEL_WIDTH = 340
PLOT_WIDTH = 560
RIGHT_PAD = 20
ROW_HEIGHT = 26
TOP = 46
FONT_PX = 13


def _legend(items: list[tuple[str, str]], width: int, top: int) -> list[dict[str, object]]:
    """Legend entries laid out left to right, wrapping onto a new line at the figure's edge."""
    placed, x, y = [], 10.0, float(top)
    for label, colour in items:
        span = 30 + len(label) * 7.5
        if x + span > width and x > 10:
            x, y = 10.0, y + 20
        placed.append({"label": label, "colour": colour, "x": x, "y": y})
        x += span
    return placed


def _axis(first: float, last: float) -> tuple[int, int, int]:
    step = 10 if last - first > 30 else 5
    start = int(first // step * step)
    end = int(-(-(last + 1) // step) * step)
    return start, max(end, start + step), step


def timeline_svg(rows: list[TimelineRow], title: str, description: str, element_id: str) -> str:
    """The rows' status histories on one time axis, as an SVG element (empty when no row has a
    dated change). Each status holds from its date until the next recorded change (or the end
    of the axis); each row's name links to its page.

    >>> row = TimelineRow("MOU", "/id/instrument/m", "memorandum",
    ...                   (StatusChange("2018-10-01", "in-force", "in force"),))
    >>> svg = timeline_svg([row], "Timeline", "One row.", "t1")
    >>> svg.startswith("<svg") and 'href="/id/instrument/m"' in svg and "in force" in svg
    True
    >>> timeline_svg([], "Timeline", "None.", "t2")
    ''
    """
    dated = []
    for row in rows:
        changes = sorted(
            (c for c in row.changes if year_fraction(c.when) is not None),
            key=lambda c: (year_fraction(c.when), c.status_key),
        )
        if changes:
            dated.append((row, changes))
    if not dated:
        return ""
    dated.sort(key=lambda item: (year_fraction(item[1][0].when), item[0].label.lower()))
    years = [year_fraction(c.when) or 0.0 for _, changes in dated for c in changes]
    start, end, step = _axis(min(years), max(years))

    def x(year: float) -> float:
        return round(LABEL_WIDTH + (year - start) / (end - start) * PLOT_WIDTH, 1)

    drawn: list[_Row] = []
    for index, (row, changes) in enumerate(dated):
        shape = _Row(y=TOP + index * ROW_HEIGHT, label=row.label, href=row.href, kind=row.kind)
        for i, change in enumerate(changes):
            begin = year_fraction(change.when) or start
            until = year_fraction(changes[i + 1].when) if i + 1 < len(changes) else end
            text = f"{row.label}: {change.status_label} from {change.when}"
            if change.note:
                text += f" ({change.note})"
            colour = status_colour(change.status_key)
            shape.bands.append(_Band(x(begin), max(x(until or end) - x(begin), 2.0), colour, text))
            shape.marks.append(_Mark(x(begin), colour, text))
        drawn.append(shape)
    width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_PAD
    legend_top = TOP + len(drawn) * ROW_HEIGHT + 28
    legend = _legend(
        sorted({(c.status_label, status_colour(c.status_key)) for _, cs in dated for c in cs}),
        width,
        legend_top,
    )
    height = (legend[-1]["y"] if legend else legend_top) + 14
    return render(
        "figures/timeline.svg",
        id=element_id,
        title=title,
        description=description,
        width=width,
        height=height,
        rows=drawn,
        ticks=[(x(year), year) for year in range(start, end + 1, step)],
        plot_top=TOP - 8,
        plot_bottom=TOP + len(drawn) * ROW_HEIGHT,
        legend=legend,
        label_width=LABEL_WIDTH,
        font=FONT_PX,
        row_height=ROW_HEIGHT,
    )


# ----------------------------------------------------------------------------- strength chart


@dataclass(frozen=True)
class StrengthPoint:
    """One partner at one level of a ranked scale (rank 1 = strongest)."""

    label: str
    href: str
    rank: int
    level: str
    detail: str = ""
    detail_href: str = ""
    highlight: bool = False


def wrap_label(text: str, width: int, lines: int = 2) -> list[str]:
    """``text`` broken at spaces into at most ``lines`` lines of about ``width`` characters,
    the last one cut with an ellipsis when the text is longer.

    >>> wrap_label("defense duty, qualified by its text", 21)
    ['defense duty,', 'qualified by its text']
    >>> wrap_label("assurance of the partner's means of defense", 21)
    ['assurance of the', "partner's means of d…"]
    """
    words, out, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            out.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    out.append(current)
    if len(out) > lines:
        out = [*out[: lines - 1], " ".join(out[lines - 1 :])]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in out]


def strength_svg(
    points: list[StrengthPoint],
    levels: list[tuple[int, str]],
    title: str,
    description: str,
    element_id: str,
) -> str:
    """Partners grouped in columns by the strength of what binds them (strongest on the left),
    one linked name per partner, the ``highlight`` one drawn apart; '' when there is nothing.

    >>> pts = [StrengthPoint("Israel", "/id/actor/israel", 2, "statute", highlight=True)]
    >>> svg = strength_svg(pts, [(1, "treaty"), (2, "statute")], "Strength", "d", "s1")
    >>> 'class="mark highlight"' in svg and 'href="/id/actor/israel"' in svg
    True
    """
    if not points:
        return ""
    column_width = 180
    head = 96
    row = 22
    by_rank: dict[int, list[StrengthPoint]] = {rank: [] for rank, _ in levels}
    for point in points:
        by_rank.setdefault(point.rank, []).append(point)
    names = dict(levels)
    columns = []
    for index, rank in enumerate(sorted(by_rank)):
        members = sorted(by_rank[rank], key=lambda p: (not p.highlight, p.label.lower()))
        columns.append(
            {
                "x": 10 + index * column_width,
                "rank": rank,
                "level": names.get(rank) or (members[0].level if members else str(rank)),
                "lines": wrap_label(
                    f"{rank}. " + (names.get(rank) or (members[0].level if members else "")),
                    21,
                    3,
                ),
                "count": len(members),
                "points": [
                    {"point": p, "y": head + 18 + i * row} for i, p in enumerate(members)
                ],
            }
        )
    tallest = max((len(c["points"]) for c in columns), default=0)
    return render(
        "figures/strength.svg",
        id=element_id,
        title=title,
        description=description,
        width=20 + len(columns) * column_width,
        height=head + 30 + tallest * row,
        columns=columns,
        column_width=column_width,
        head=head,
        font=FONT_PX,
    )
