"""Progress of long work (build, push, validate): stage names, counts and elapsed time.

The library reports through a small interface and never prints by itself:

* ``with stage("shacl") as s:`` marks a stage; ``s.advance(n)`` / ``s.update(done)`` move
  its count, ``s.total`` (when known) makes a bar, ``s.note("8,099 quads")`` says what it
  produced, and ``s.log(line)`` prints a line of its own (push's per-graph lines);
* :func:`current` is the innermost running stage, so code deep in a stage (the quality
  checks' loop) can advance it without being handed anything.

Where it goes is chosen once, by whoever runs the work, with :func:`using`:
:func:`for_stream` gives a live display (rich) on a terminal, one plain line per finished
stage elsewhere (CI logs), and nothing with ``quiet``. The default is :data:`QUIET`, so a
library caller, the HTTP service and the tests see no output unless they ask for it. The
choice is a context variable: a thread or request that did not choose stays quiet.

>>> import io
>>> out = io.StringIO()
>>> with using(PlainReporter(out, prefix="demo: ")):
...     with stage("load", total=3, unit="files") as s:
...         s.advance(3)
>>> out.getvalue().startswith("demo: load: 3/3 files in ")
True
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # rich is imported only when a terminal is there to draw on
    from rich.console import Console
    from rich.progress import Progress, TaskID


@dataclass
class Stage:
    """One named stage of a long job: how far it is and what it produced.

    >>> s = Stage("push", total=10, unit="triples")
    >>> s.advance(4); s.update(7); s.summary()
    '7/10 triples'
    >>> s.note("3 graphs"); s.summary()
    '3 graphs'
    """

    name: str
    total: int | None = None
    unit: str = ""
    done: int = 0
    detail: str = ""
    reporter: Reporter | None = field(default=None, repr=False)

    def advance(self, amount: int = 1) -> None:
        """Count ``amount`` more items done."""
        self.update(self.done + amount)

    def update(self, done: int) -> None:
        """Set the count done (it may go back: a push retrying a graph starts it again)."""
        self.done = done
        if self.reporter is not None:
            self.reporter.advanced(self)

    def set_total(self, total: int | None, unit: str | None = None) -> None:
        """The number of items, once known (makes the bar); ``unit`` names them."""
        self.total = total
        self.unit = self.unit if unit is None else unit
        self.update(self.done)

    def note(self, detail: str) -> None:
        """What the stage produced, said when it ends (``"8,099 quads"``)."""
        self.detail = detail

    def log(self, line: str) -> None:
        """A line of its own, printed where the progress goes (nothing when quiet)."""
        if self.reporter is not None:
            self.reporter.log(line)

    def summary(self) -> str:
        """The note, else the count (``3/4 files``), else ``done``."""
        if self.detail:
            return self.detail
        if self.total is not None:
            return f"{self.done:,}/{self.total:,} {self.unit}".rstrip()
        if self.done:
            return f"{self.done:,} {self.unit}".rstrip()
        return "done"


class Reporter:
    """Where stages are shown. This base class shows nothing (``--quiet``, libraries)."""

    def __init__(self) -> None:
        self._running: list[Stage] = []

    @contextmanager
    def stage(self, name: str, total: int | None = None, unit: str = "") -> Iterator[Stage]:
        """Run a stage: shown while it runs, summed up with its elapsed time at its end."""
        current = Stage(name, total, unit, reporter=self)
        self._running.append(current)
        started = time.monotonic()
        self.started(current)
        try:
            yield current
        except BaseException:
            self.finished(current, time.monotonic() - started, failed=True)
            raise
        else:
            self.finished(current, time.monotonic() - started, failed=False)
        finally:
            self._running.remove(current)

    def current(self) -> Stage | None:
        """The innermost stage running, if any."""
        return self._running[-1] if self._running else None

    def started(self, stage: Stage) -> None:
        """A stage began."""

    def advanced(self, stage: Stage) -> None:
        """A stage's count moved."""

    def finished(self, stage: Stage, seconds: float, failed: bool) -> None:
        """A stage ended (``failed``: by an exception, which says what went wrong)."""

    def log(self, line: str) -> None:
        """Print one line of a stage's own."""

    def close(self) -> None:
        """Stop any live display."""


class PlainReporter(Reporter):
    """One line per finished stage, for logs: ``pactgraph build: shacl: done in 2.1 s``.

    Nothing moves and nothing is erased, so a CI log reads top to bottom. A failed stage
    adds no line: the error that follows says what went wrong.

    >>> import io
    >>> out = io.StringIO()
    >>> reporter = PlainReporter(out, prefix="x: ")
    >>> with reporter.stage("reasoning"):
    ...     pass
    >>> out.getvalue().split(" in ")[0]
    'x: reasoning: done'
    """

    def __init__(self, stream: TextIO, prefix: str = "") -> None:
        super().__init__()
        self.stream = stream
        self.prefix = prefix

    def finished(self, stage: Stage, seconds: float, failed: bool) -> None:
        if not failed:
            self.log(f"{stage.name}: {stage.summary()} in {seconds:.1f} s")

    def log(self, line: str) -> None:
        self.stream.write(f"{self.prefix}{line}\n")
        self.stream.flush()


class RichReporter(Reporter):
    """A live line per running stage on a terminal (spinner, a bar when the total is known,
    count, elapsed time), replaced by a one-line summary when the stage ends.

    The live display runs only while a stage does and never takes over stdout, so what a
    command writes to stdout is untouched and lines printed between stages stay in order.
    """

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.text import Text

        class KnownTotalBar(BarColumn):
            """A bar only where the total is known (elsewhere the spinner says it runs)."""

            def render(self, task):  # type: ignore[no-untyped-def]
                return super().render(task) if task.total is not None else Text("")

        super().__init__()
        self.console = console
        # One display for every running stage (rich allows one live display at a time);
        # transient: it is erased when the last stage ends, the summaries stay.
        self._live: Progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            KnownTotalBar(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._tasks: dict[int, TaskID] = {}

    def started(self, stage: Stage) -> None:
        from rich.markup import escape

        if not self._tasks:
            self._live.start()
        self._tasks[id(stage)] = self._live.add_task(
            escape(stage.name), total=stage.total, count=_count(stage)
        )

    def advanced(self, stage: Stage) -> None:
        task = self._tasks[id(stage)]
        self._live.update(task, total=stage.total, completed=stage.done, count=_count(stage))

    def finished(self, stage: Stage, seconds: float, failed: bool) -> None:
        from rich.markup import escape

        self._live.remove_task(self._tasks.pop(id(stage)))
        mark = "[red]✗[/red]" if failed else "[green]✓[/green]"
        summary = escape("failed" if failed else stage.summary())
        name = escape(stage.name)
        self._live.console.print(
            f"{mark} [bold]{name}[/bold]: {summary} [dim]{seconds:.1f} s[/dim]"
        )
        if not self._tasks:
            self._live.stop()

    def log(self, line: str) -> None:
        # Through the live display's console: printed above it, not into it.
        self._live.console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        self._tasks.clear()
        self._live.stop()


def _count(stage: Stage) -> str:
    """The count column of a live line: ``3/10 files``, ``12 files`` or nothing.

    >>> _count(Stage("x", total=10, unit="files", done=3)), _count(Stage("y"))
    ('3/10 files', '')
    """
    if stage.total is None and not stage.done:
        return ""
    return Stage(stage.name, stage.total, stage.unit, stage.done).summary()


QUIET = Reporter()
_reporter: ContextVar[Reporter] = ContextVar("pactgraph_progress", default=QUIET)


def for_stream(stream: TextIO, quiet: bool = False, prefix: str = "") -> Reporter:
    """The reporter for a stream: nothing when quiet, live on a terminal, else plain lines.

    >>> import io
    >>> type(for_stream(io.StringIO())).__name__, for_stream(io.StringIO(), quiet=True) is QUIET
    ('PlainReporter', True)
    """
    if quiet:
        return QUIET
    if stream.isatty():
        from rich.console import Console

        return RichReporter(Console(file=stream, stderr=True))
    return PlainReporter(stream, prefix=prefix)


@contextmanager
def using(reporter: Reporter) -> Iterator[Reporter]:
    """Send the stages of the work done inside (in this context) to ``reporter``."""
    token = _reporter.set(reporter)
    try:
        yield reporter
    finally:
        _reporter.reset(token)
        reporter.close()


def stage(name: str, total: int | None = None, unit: str = "") -> AbstractContextManager[Stage]:
    """A stage on the reporter in use (by default :data:`QUIET`): ``with stage("load"):``.

    >>> with stage("anything", total=2) as s:
    ...     s.advance()
    >>> s.done
    1
    """
    return _reporter.get().stage(name, total, unit)


def current() -> Stage:
    """The innermost running stage, or a detached one (whose counts go nowhere).

    >>> current().advance()  # outside any stage: harmless
    """
    return _reporter.get().current() or Stage("")
