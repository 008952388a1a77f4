"""Query execution in worker processes: bounded, killable, never on the event loop.

Each worker is a spawned process that opens the release store read-only once and then answers
one task at a time over a pipe: it vets the query (:mod:`pactgraph.serve.guard`), runs it,
serialises the result (at most ``row_cap`` rows or triples, else an error) and sends back a
head ``(status, content type, length)`` with the body when it is small, else followed by the
body in chunks. Because the whole result is serialised before the head is sent, an error can
never follow a 200.

The parent side (:class:`WorkerPool`) hands a task to an idle worker, waits for the head on
the event loop's reader for the pipe (the loop itself never blocks) for at most
``timeout_s``, and on overrun kills the worker (SIGKILL: pyoxigraph cannot be interrupted
from Python) and starts a replacement; large bodies are read in a thread. At most
``max_concurrent`` queries run; at most ``queue_size`` wait for a worker; beyond that,
:class:`PoolBusy` (the app answers 503 with ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import re
import resource
import signal
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    Store,
    parse_query_results,
)
from pyoxigraph import serialize as serialize_rdf

from pactgraph.rdf.formats import FORMATS_BY_KIND, ResultKind, result_kind
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.guard import QueryRefused, check_scope, scope_of
from pactgraph.serve.sandbox import deny_network

log = logging.getLogger("pactgraph.workers")

TEXT = "text/plain; charset=utf-8"
_SYNTAX_POSITION = re.compile(r"^error at (\d+):(\d+): ?", re.DOTALL)
# How long a freshly spawned worker may take to import pyoxigraph and open the store.
_START_TIMEOUT_S = 120.0
# What an allocation refused at the address-space cap writes to stderr before it aborts
# the process: Rust's allocation-error handler (pyoxigraph) and Python's own.
_OUT_OF_MEMORY_MARKS: tuple[bytes, ...] = (b"memory allocation of", b"MemoryError")
_STDERR_TAIL_BYTES = 4096


def death_message(exitcode: int | None, stderr_tail: bytes, memory_cap: int) -> str:
    """Why a worker stopped, saying only what is known: the memory cap only when it was hit.

    >>> death_message(-9, b"", 2 * 1024**3)
    'The query worker stopped unexpectedly: it was ended by signal SIGKILL.'
    >>> death_message(-6, b"memory allocation of 64 bytes failed\\n", 1024**3)
    'The query worker stopped unexpectedly: it reached its memory cap of 1024 MiB.'
    >>> death_message(3, b"", 0)
    'The query worker stopped unexpectedly: it exited with status 3.'
    """
    prefix = "The query worker stopped unexpectedly: "
    if any(mark in stderr_tail for mark in _OUT_OF_MEMORY_MARKS):
        if memory_cap > 0:
            return prefix + f"it reached its memory cap of {memory_cap // 1024**2} MiB."
        return prefix + "it ran out of memory."
    if exitcode is None:
        return prefix + "it closed its pipe and had not exited yet."
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = str(-exitcode)
        return prefix + f"it was ended by signal {name}."
    return prefix + f"it exited with status {exitcode}."


@dataclass(frozen=True)
class QueryTask:
    """One query for a worker.

    ``default_graphs``/``named_graphs`` are the protocol's ``default-graph-uri`` and
    ``named-graph-uri`` (``None`` when the request gave neither). ``result_format`` and
    ``graph_format`` are the negotiated format names for SELECT/ASK and for
    CONSTRUCT/DESCRIBE (``None``: the client accepts none of them, i.e. 406 for that form).
    """

    query: str
    result_format: str | None = "json"
    graph_format: str | None = "ttl"
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    # Relative IRIs in the query resolve against this (the endpoint's IRI, as the protocol
    # suggests); None leaves them unresolved, which pyoxigraph rejects.
    base_iri: str | None = None


@dataclass(frozen=True)
class Reply:
    """A finished answer: status, ``Content-Type`` and the serialised body."""

    status: int
    content_type: str
    body: bytes

    @classmethod
    def error(cls, status: int, message: str) -> Reply:
        """A plain-text error reply.

        >>> Reply.error(400, "bad").body
        b'bad\\n'
        """
        return cls(status, TEXT, (message.rstrip() + "\n").encode("utf-8"))


class RowCapExceeded(Exception):
    """The result has more rows (or triples) than the configured cap."""


class AnswerTooLarge(Exception):
    """The serialised answer has more bytes than the configured cap."""


class NotXmlText(Exception):
    """The answer holds a character XML 1.0 cannot carry (so no well-formed XML exists)."""


# Characters XML 1.0 forbids even as references (section 2.2): C0 controls but tab, LF, CR.
_NOT_XML_CHARACTERS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_xml(body: bytes, fmt: Any) -> bytes:
    """``body`` unchanged, or :class:`NotXmlText` when ``fmt`` is an XML format and the body
    holds a character XML 1.0 cannot carry (pyoxigraph writes it as is).

    >>> _check_xml(b"<a>\x01</a>", FORMATS_BY_KIND["results"]["xml"])
    Traceback (most recent call last):
    ...
    pactgraph.serve.workers.NotXmlText
    """
    if "xml" in fmt.media_type and _NOT_XML_CHARACTERS.search(body):
        raise NotXmlText
    return body


class ValueTooLarge(Exception):
    """One value of the answer is larger than pyoxigraph's result parser buffer (16 MiB)."""


class PoolBusy(Exception):
    """Every worker is busy and the waiting queue is full."""


# ---------------------------------------------------------------------------- worker side


class _CappedBuffer:
    """A write-only buffer that refuses more than ``max_lines`` lines or ``max_bytes`` bytes
    (pyoxigraph writes here, so a result over either cap stops while it is written)."""

    def __init__(self, max_lines: int | None, max_bytes: int) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.lines = 0
        self.size = 0
        self.over: type[Exception] | None = None
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.max_bytes:
            self.over = AnswerTooLarge
            raise AnswerTooLarge
        if self.max_lines is not None:
            self.lines += data.count(b"\n")
            if self.lines > self.max_lines:
                self.over = RowCapExceeded
                raise RowCapExceeded
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


def _capped(items: Iterable[Any], cap: int) -> list[Any]:
    rows = list(islice(items, cap + 1))
    if len(rows) > cap:
        raise RowCapExceeded
    return rows


def _write_capped(write: Callable[[Any], Any], buffer: _CappedBuffer) -> bytes:
    """Run a pyoxigraph serialiser into ``buffer``; the cap it hit, if any, is the error."""
    try:
        write(buffer)
    except Exception:
        if buffer.over is not None:
            raise buffer.over from None
        raise
    return buffer.getvalue()


def solutions_tsv(solutions: Any, cap: int, max_bytes: int = 2**62) -> bytes:
    """SELECT solutions as SPARQL TSV, refusing more than ``cap`` rows.

    TSV has exactly one line per row (newlines inside literals are escaped), so pyoxigraph's
    own writer can stream into a buffer that counts lines and stops at the cap — the row
    count is known before a byte goes to the client, and at Rust speed. TSV is lossless,
    so the other result formats are converted from it.

    >>> solutions_tsv(Store().query("SELECT ?x { VALUES ?x { 1 2 } }"), 2).splitlines()
    [b'?x', b'1', b'2']
    >>> try:
    ...     solutions_tsv(Store().query("SELECT ?x { VALUES ?x { 1 2 } }"), 1)
    ... except RowCapExceeded:
    ...     print("over the cap")
    over the cap
    """
    buffer = _CappedBuffer(cap + 1, max_bytes)  # the header line, then one line per row
    tsv = QueryResultsFormat.TSV
    return _write_capped(lambda out: solutions.serialize(out, format=tsv), buffer)


# pyoxigraph's result parsers refuse a token over 16 MiB with this message.
_PARSER_BUFFER_FULL = "buffer maximal size"


def serialize_capped(result: Any, fmt: Any, cap: int, max_bytes: int = 2**62) -> bytes:
    """Serialise a pyoxigraph result in ``fmt`` (a :class:`pactgraph.rdf.formats.Format`),
    refusing more than ``cap`` rows or triples and more than ``max_bytes`` bytes.

    >>> fmt = FORMATS_BY_KIND["results"]["json"]
    >>> query = "SELECT ?x { VALUES ?x { 'aaaa' 'bbbb' } }"
    >>> len(serialize_capped(Store().query(query), fmt, 10)) > 0
    True
    >>> try:
    ...     serialize_capped(Store().query(query), fmt, 10, max_bytes=20)
    ... except AnswerTooLarge:
    ...     print("over the byte cap")
    over the byte cap
    """
    if isinstance(result, QueryBoolean):
        return result.serialize(format=fmt.pyoxigraph) or b""
    if fmt.kind == "graph":
        triples = _capped(result, cap)
        buffer = _CappedBuffer(None, max_bytes)
        rdf_format = fmt.pyoxigraph
        written = _write_capped(lambda out: serialize_rdf(triples, out, format=rdf_format), buffer)
        return _check_xml(written, fmt)
    as_tsv = solutions_tsv(result, cap, max_bytes)
    if fmt.pyoxigraph == QueryResultsFormat.TSV:
        return as_tsv
    try:
        reparsed = parse_query_results(as_tsv, format=QueryResultsFormat.TSV)
        buffer = _CappedBuffer(None, max_bytes)
        written = _write_capped(lambda out: reparsed.serialize(out, format=fmt.pyoxigraph), buffer)
        return _check_xml(written, fmt)
    except MemoryError as error:  # pyoxigraph's parser buffer, not the process's memory
        if _PARSER_BUFFER_FULL in str(error):
            raise ValueTooLarge from None
        raise


def _dataset_arguments(task: QueryTask, query_names_graphs: bool) -> dict[str, Any]:
    if task.default_graphs is not None or task.named_graphs is not None:
        # The protocol's dataset replaces the query's FROM/FROM NAMED entirely (SPARQL 1.1
        # Protocol §2.1.4); an unspecified half is empty.
        return {
            "default_graph": [NamedNode(g) for g in task.default_graphs or ()],
            "named_graphs": [NamedNode(g) for g in task.named_graphs or ()],
        }
    if query_names_graphs:
        return {}  # pyoxigraph honours FROM / FROM NAMED itself, as graph names only
    return {"use_default_graph_as_union": True}


def syntax_message(error: SyntaxError) -> str:
    """pyoxigraph's parse error, with its position spelled out.

    >>> syntax_message(SyntaxError("error at 3:1: expected OPTIONAL"))
    'SPARQL syntax error at line 3, column 1: expected OPTIONAL'
    """
    text = str(error)
    match = _SYNTAX_POSITION.match(text)
    if not match:
        return f"SPARQL syntax error: {text}"
    line, column = match.groups()
    return f"SPARQL syntax error at line {line}, column {column}: {text[match.end() :]}"


def task_format(task: QueryTask, kind: ResultKind) -> str | None:
    """The negotiated format name for a result of ``kind`` (``None``: none acceptable).

    >>> task_format(QueryTask("ASK {}", result_format="csv", graph_format=None), "graph") is None
    True
    """
    return task.result_format if kind == "results" else task.graph_format


def unacceptable(kind: ResultKind) -> Reply:
    """406: the client accepts none of the formats a result of ``kind`` can be written in.

    >>> unacceptable("graph").status
    406
    """
    offered = ", ".join(f.media_type for f in FORMATS_BY_KIND[kind].values())
    what = "CONSTRUCT/DESCRIBE" if kind == "graph" else "SELECT/ASK"
    return Reply.error(
        406, f"Cannot produce any accepted type for a {what} result; available: {offered}"
    )


def execute(
    store: Any,
    task: QueryTask,
    known_graphs: set[str],
    allows_service: Callable[[str], bool],
    row_cap: int,
    max_answer_bytes: int = 2**62,
    raise_caps: bool = False,
) -> Reply:
    """Vet, run and serialise one query against ``store`` (in the calling process).

    ``raise_caps``: an answer over ``row_cap`` or ``max_answer_bytes`` raises
    :class:`RowCapExceeded` or :class:`AnswerTooLarge` instead of giving its 422 (the
    bounded in-process path, :mod:`pactgraph.serve.inline`, then hands the task to a worker).

    >>> execute(Store(), QueryTask("ASK {}"), set(), lambda iri: False, 10).body
    b'{"head":{},"boolean":true}'
    >>> execute(Store(), QueryTask("ASK {"), set(), lambda iri: False, 10).status
    400
    """
    try:
        scope = scope_of(task.query, task.base_iri)
        check_scope(scope, known_graphs, allows_service)
        arguments = _dataset_arguments(task, bool(scope.default_graphs or scope.named_graphs))
        result = store.query(task.query, base_iri=task.base_iri, **arguments)
    except QueryRefused as refusal:
        return Reply.error(refusal.status, refusal.message)
    except SyntaxError as error:
        return Reply.error(400, syntax_message(error))
    except ValueError as error:  # e.g. an invalid IRI in default-graph-uri
        return Reply.error(400, f"Invalid request: {error}")
    kind = result_kind(result)
    name = task_format(task, kind)
    if name is None:
        return unacceptable(kind)
    fmt = FORMATS_BY_KIND[kind][name]
    try:
        body = serialize_capped(result, fmt, row_cap, max_answer_bytes)
    except AnswerTooLarge:
        if raise_caps:
            raise
        return Reply.error(
            422,
            f"The answer is larger than {max_answer_bytes} bytes, this endpoint's limit; "
            "nothing was returned. Add a LIMIT (and OFFSET to page through the rest), select "
            "fewer or shorter values, or download the dumps (/dumps/) for the whole graph.",
        )
    except ValueTooLarge:
        return Reply.error(
            422,
            f"A value of the answer is larger than 16 MiB, more than the {fmt.name} writer "
            "here can carry; ask for TSV (format=tsv) or select a shorter value.",
        )
    except NotXmlText:
        json_type = "application/ld+json" if kind == "graph" else "application/sparql-results+json"
        return Reply.error(
            406,
            "The answer holds a control character (such as U+0000) that XML 1.0 cannot carry, "
            f"so it cannot be given as {fmt.media_type}; ask for JSON ({json_type}) instead.",
        )
    except RowCapExceeded:
        if raise_caps:
            raise
        unit = "triples" if kind == "graph" else "rows"
        return Reply.error(
            422,
            f"The result has more than {row_cap} {unit}, this endpoint's limit; nothing was "
            f"returned. Add LIMIT {row_cap} (and OFFSET to page through the rest) or narrow "
            "the query.",
        )
    except (OSError, RuntimeError, ValueError, TypeError) as error:
        return Reply.error(500, f"Query evaluation failed: {error}")
    return Reply(200, fmt.content_type, body)


def cap_memory(limit: int) -> bool:
    """Cap this process's address space at ``limit`` bytes (0: no cap); whether it took.

    Past the cap an allocation fails; pyoxigraph (Rust) then aborts the process, which is the
    point: the worker dies alone and the pool replaces it.
    """
    if limit <= 0:
        return False
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return True


def worker_main(
    conn: Connection,
    store_path: str,
    allow_list: tuple[str, ...],
    row_cap: int,
    chunk: int,
    memory_cap: int = 0,
    stack_bytes: int = 0,
    max_answer_bytes: int = 2**62,
    stderr: Connection | None = None,
) -> None:
    """The loop of one worker process: open the store once, then answer tasks until EOF.

    Tasks are answered on a thread with a ``stack_bytes`` stack: pyoxigraph's parser recurses
    once per nesting level, and a query of a few thousand nested groups or parentheses would
    overflow the main thread's 8 MB and abort the worker (sized from the query-length limit,
    see :attr:`ServiceConfig.worker_stack_bytes`).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if stderr is not None:  # the parent reads it, to tell why this process died if it does
        os.dup2(stderr.fileno(), 2)
        stderr.close()
    config = ServiceConfig(service_allow_list=allow_list)
    store = Store.read_only(store_path)
    known = {g.value for g in store.named_graphs() if isinstance(g, NamedNode)}
    # Warm the vetting parser (rdflib's import and grammar set-up take a second or two) so
    # the first query that mentions FROM or SERVICE does not pay for it.
    scope_of("SELECT * FROM <urn:warm-up> WHERE { ?s ?p ?o }")
    # Without federation a worker never needs the network: take it away (defence in depth).
    sandboxed = deny_network() if not allow_list else False
    # The answering thread (and its large stack) exists before the cap: reserving the stack
    # under a tight cap failed once ("can't start new thread") and killed the worker at
    # start-up. It waits on the pipe; no task comes before "ready".
    if stack_bytes:
        threading.stack_size(stack_bytes)
    answering = threading.Thread(
        target=_answer_tasks, args=(conn, store, known, config, row_cap, chunk, max_answer_bytes)
    )
    answering.start()
    # After the store is open, the parser warm and the thread started, so start-up never
    # counts against the cap.
    cap_memory(memory_cap)
    conn.send(("ready", os.getpid(), sandboxed))
    answering.join()


def _answer_tasks(
    conn: Connection,
    store: Any,
    known: set[str],
    config: ServiceConfig,
    row_cap: int,
    chunk: int,
    max_answer_bytes: int,
) -> None:
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = execute(store, task, known, config.allows_service, row_cap, max_answer_bytes)
        except Exception as error:  # one bad query must not take the worker down with it
            reply = Reply.error(500, f"Query evaluation failed: {error}")
        if len(reply.body) <= chunk:  # small replies travel as one message
            conn.send((reply.status, reply.content_type, len(reply.body), reply.body))
            continue
        conn.send((reply.status, reply.content_type, len(reply.body)))
        view = memoryview(reply.body)
        for start in range(0, len(view), chunk):
            conn.send_bytes(view[start : start + chunk])


# ---------------------------------------------------------------------------- parent side


class _StderrTail:
    """Copies a worker's stderr to ours and keeps its last bytes (why it died, if it says)."""

    def __init__(self, reader: Connection) -> None:
        self.tail = b""
        self._reader = reader
        self._thread = threading.Thread(target=self._copy, name="pactgraph-worker-stderr")
        self._thread.daemon = True
        self._thread.start()

    def _copy(self) -> None:
        fd = self._reader.fileno()
        with contextlib.suppress(OSError):
            while data := os.read(fd, 65536):
                with contextlib.suppress(OSError):
                    os.write(2, data)
                self.tail = (self.tail + data)[-_STDERR_TAIL_BYTES:]
        self._reader.close()

    def finished(self, timeout: float) -> bytes:
        """The tail once the worker's stderr has closed (or ``timeout`` has passed)."""
        self._thread.join(timeout)
        return self.tail


@dataclass
class _Worker:
    process: Any
    conn: Connection
    stderr: _StderrTail | None = None


@dataclass
class Answer:
    """The head of a worker's reply, with the body or a stream of it."""

    status: int
    content_type: str
    length: int
    body: bytes | None = None  # set when the body fit in one chunk
    stream: AsyncIterator[bytes] | None = field(default=None, repr=False)


class WorkerPool:
    """A fixed number of query worker processes over one release store."""

    def __init__(self, store_path: Path, config: ServiceConfig) -> None:
        self.store_path = store_path
        self.config = config
        self._context = multiprocessing.get_context("spawn")
        self._threads = ThreadPoolExecutor(
            max_workers=config.max_concurrent * 2 + 2, thread_name_prefix="pactgraph-pipe"
        )
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: dict[int, _Worker] = {}
        self._waiting = 0
        self._closed = False
        # Bytes of finished answers read off the pipes and not yet taken by their clients.
        self.buffered = 0
        self.restarts = 0
        # Whether the workers run without network access (see pactgraph.serve.sandbox).
        self.sandboxed = False

    # -- lifecycle

    def _launch(
        self, target: Callable[..., None], args: tuple[Any, ...], kind: str
    ) -> tuple[Any, Connection, _StderrTail, tuple[Any, ...]]:
        """Start a ``kind`` worker process running ``target(child_pipe, *args, stderr_pipe)``, wait
        for its "ready" message; (process, parent pipe, stderr tail, that message).

        Shared by the query and the validation workers: one way to spawn, watch stderr and
        time out a start.
        """
        parent, child = self._context.Pipe(duplex=True)
        err_reader, err_writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=target,
            args=(child, *args, err_writer),
            name=f"pactgraph-{kind}-worker",
            daemon=True,
        )
        process.start()
        child.close()
        err_writer.close()  # the child holds its own copy: EOF here means it has exited
        stderr = _StderrTail(err_reader)
        if not parent.poll(_START_TIMEOUT_S):
            process.kill()
            raise RuntimeError(f"a {kind} worker did not start in time")
        ready = parent.recv()  # ("ready", pid, sandboxed); EOFError if it died starting
        return process, parent, stderr, ready

    def _spawn(self) -> _Worker:
        process, parent, stderr, (_, _, sandboxed) = self._launch(
            worker_main,
            (
                str(self.store_path),
                self.config.service_allow_list,
                self.config.row_cap,
                self.config.chunk_size,
                self.config.worker_memory_bytes,
                self.config.worker_stack_bytes,
                self.config.max_answer_bytes,
            ),
            "query",
        )
        self.sandboxed = sandboxed
        worker = _Worker(process, parent, stderr)
        self._workers[process.pid] = worker
        return worker

    async def start(self) -> None:
        """Start all workers (in parallel) and wait until each has opened the store."""
        loop = asyncio.get_running_loop()
        spawned = await asyncio.gather(
            *(
                loop.run_in_executor(self._threads, self._spawn)
                for _ in range(self.config.max_concurrent)
            )
        )
        for worker in spawned:
            self._idle.put_nowait(worker)

    async def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        workers = list(self._workers.values())
        for worker in workers:
            self._kill(worker)
        for worker in workers:
            worker.process.join(5)
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _kill(self, worker: _Worker) -> None:
        """SIGKILL a worker (immediate; it is reaped later, off the event loop)."""
        self._workers.pop(worker.process.pid, None)
        with contextlib.suppress(Exception):
            worker.process.kill()
            worker.conn.close()

    def _why_dead(self, worker: _Worker) -> str:
        """Wait briefly for a worker whose pipe closed to exit; say why it did."""
        worker.process.join(5)
        tail = worker.stderr.finished(5) if worker.stderr is not None else b""
        return death_message(worker.process.exitcode, tail, self.config.worker_memory_bytes)

    def _reap_and_spawn(self, dead: _Worker) -> _Worker:
        dead.process.join(5)
        return self._spawn()

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and start another in the background."""
        self._kill(worker)
        if self._closed:
            return
        self.restarts += 1
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._threads, self._reap_and_spawn, worker)
        future.add_done_callback(self._on_spawned)

    def _on_spawned(self, future: asyncio.Future[_Worker]) -> None:
        if future.cancelled() or future.exception() is not None:
            log.error("could not replace a query worker: %s", future.exception())
            return
        self._idle.put_nowait(future.result())

    @property
    def busy(self) -> int:
        """How many workers are running a query right now."""
        return max(0, len(self._workers) - self._idle.qsize())

    @property
    def alive(self) -> int:
        """How many worker processes are running."""
        # A snapshot: replacements are registered from a pool thread while this iterates.
        return sum(1 for w in list(self._workers.values()) if w.process.is_alive())

    # -- running queries

    async def _read_head(self, worker: _Worker, timeout: float) -> tuple[Any, ...] | None:
        """(status, type, length[, body]) or None on timeout; raises EOFError if it died.

        Waits on the pipe with the event loop's reader (no thread hop): the worker sends
        its head only once the whole reply is ready, so reading it never blocks for long.
        """
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        fd = worker.conn.fileno()

        def on_readable() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(fd, on_readable)
        try:
            await asyncio.wait_for(readable, timeout)
        except TimeoutError:
            return None
        finally:
            loop.remove_reader(fd)
            # Some loops (uvloop) leave the fd non-blocking; the pipe is read blocking.
            os.set_blocking(fd, True)
        return worker.conn.recv()

    async def run(self, task: QueryTask) -> Answer:
        """Run ``task`` on a worker; raises :class:`PoolBusy` when the queue is full, when no
        worker came free within ``queue_timeout_s``, or when the answer would take the
        finished answers held for clients over ``answer_memory_bytes``."""
        if self._idle.empty() and self._waiting >= self.config.queue_size:
            raise PoolBusy
        self._waiting += 1
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.config.queue_timeout_s)
        except TimeoutError:
            raise PoolBusy from None
        finally:
            self._waiting -= 1
        try:
            worker.conn.send(task)
            head = await self._read_head(worker, self.config.timeout_s)
        except (EOFError, OSError, BrokenPipeError):
            loop = asyncio.get_running_loop()
            message = await loop.run_in_executor(self._threads, self._why_dead, worker)
            self._replace(worker)
            return _error_answer(500, message)
        except BaseException:  # cancelled while waiting: the worker's state is unknown
            self._replace(worker)
            raise
        if head is None:
            self._replace(worker)
            return _error_answer(
                504,
                f"The query ran longer than this endpoint's {self.config.timeout_s:g} s limit "
                "and was stopped. Narrow it (fewer patterns, a LIMIT, more specific terms).",
            )
        status, content_type, length = head[:3]
        if len(head) == 4:
            self._idle.put_nowait(worker)
            return Answer(status, content_type, length, body=head[3])
        if self.buffered + length > self.config.answer_memory_bytes:
            # Held answers are at their bound (clients reading slowly): drop this one rather
            # than read it, and let the client retry.
            self._replace(worker)
            raise PoolBusy
        # The whole answer is read off the pipe now (in a thread) and the worker freed: a
        # client that reads slowly, or not at all, costs its own connection, never a worker.
        self.buffered += length
        loop = asyncio.get_running_loop()
        try:
            body = await loop.run_in_executor(self._threads, _recv_all, worker.conn, length)
        except BaseException:
            self.buffered -= length
            self._replace(worker)
            raise
        self._idle.put_nowait(worker)
        return Answer(
            status, content_type, length, stream=HeldAnswer(body, self.config.chunk_size, self)
        )


class HeldAnswer:
    """A finished answer held in memory, given to the client chunk by chunk; its bytes count
    against the pool's ``answer_memory_bytes`` until the last chunk is taken or the answer is
    dropped (a client that went away)."""

    def __init__(self, body: bytes, chunk: int, pool: WorkerPool) -> None:
        self.body = body  # the whole answer (the result cache keeps it when it may)
        self._view = memoryview(body)
        self._chunk = chunk
        self._offset = 0
        self._release = weakref.finalize(self, _release_bytes, pool, len(body))

    def __aiter__(self) -> HeldAnswer:
        return self

    async def __anext__(self) -> bytes:
        if self._offset >= len(self._view):
            self._release()
            raise StopAsyncIteration
        start = self._offset
        self._offset += self._chunk
        return bytes(self._view[start : self._offset])

    async def aclose(self) -> None:
        """Give the bytes back now (also done when the answer is garbage-collected)."""
        self._release()


def _release_bytes(pool: WorkerPool, size: int) -> None:
    pool.buffered -= size


def _recv_all(conn: Connection, length: int) -> bytes:
    """The ``length`` bytes of an answer's body, as the worker sends them in chunks."""
    parts, received = [], 0
    while received < length:
        if not conn.poll(_START_TIMEOUT_S):
            raise TimeoutError("query worker stalled while sending its answer")
        part = conn.recv_bytes()
        parts.append(part)
        received += len(part)
    return b"".join(parts)


def _error_answer(status: int, message: str) -> Answer:
    reply = Reply.error(status, message)
    return Answer(reply.status, reply.content_type, len(reply.body), body=reply.body)
