"""``POST /validate`` in worker processes: bounded, killable, never in the server process.

Parsing and SHACL-validating an upload is the heaviest thing a client can ask of the
service, and the parsers are native code: a JSON-LD body that nests scoped ``@context``s a
few thousand deep overflows pyoxigraph's stack and kills its process (segfault), and 25 000
bare typed nodes keep pySHACL busy for over a minute and need gigabytes for the report. So
none of it runs in the server process. :class:`ValidationPool` is a
:class:`pactgraph.serve.workers.WorkerPool` — the same spawned processes, bounded queue,
timeout and SIGKILL, address-space cap and replacement as the query workers — whose workers
run :func:`validation_worker_main` instead of queries: each parses the upload, validates it,
cuts the report to its first ``validate_result_cap`` results (saying so) and writes it in the
negotiated format (:func:`answer_upload`). The server process only passes bytes.

Its limits are the ``validate_*`` fields of :class:`ServiceConfig` (:func:`pool_config`),
apart from the query workers' so an upload never takes a query's place. Workers start with
the first upload, not with the service. What the client gets:

- a crash while parsing (the worker dies): 400, the upload could not be parsed;
- the memory cap reached: 413, with the cap;
- over ``validate_timeout_s``: 504, the worker is killed and replaced;
- every worker busy and ``validate_queue_size`` uploads waiting: 503 with ``Retry-After``.

Each is a JSON ``{"error": ...}`` like the endpoint's other refusals; the service goes on.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import signal
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from pactgraph.gates.validate import validate_graph
from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.sandbox import deny_network
from pactgraph.serve.sparql import ProtocolError
from pactgraph.serve.validate_api import REPORT_FORMATS, ValidationTask, parse_input, to_rdflib
from pactgraph.serve.workers import (
    _OUT_OF_MEMORY_MARKS,
    PoolBusy,  # raised by ValidationPool.run, as by the query pool's
    WorkerPool,
    _recv_all,
    _Worker,
    cap_memory,
)

log = logging.getLogger("pactgraph.validation")

JSON = "application/json"

# What a worker is doing, in a value shared with the parent: if the worker dies, the phase
# says whether the parser crashed (the upload's fault: 400) or something later did.
IDLE, PARSING, VALIDATING, WRITING = 0, 1, 2, 3
_DOING = {IDLE: "idle", PARSING: "parsing", VALIDATING: "validating", WRITING: "writing the report"}


def pool_config(config: ServiceConfig) -> ServiceConfig:
    """The settings a :class:`WorkerPool` reads, taken from the service's ``validate_*`` ones.

    >>> limits = pool_config(ServiceConfig(validate_timeout_s=5, validate_workers=3))
    >>> limits.timeout_s, limits.max_concurrent, limits.worker_memory_bytes // 1024**2
    (5, 3, 1024)
    """
    return replace(
        config,
        timeout_s=config.validate_timeout_s,
        max_concurrent=config.validate_workers,
        queue_size=config.validate_queue_size,
        worker_memory_bytes=config.validate_memory_bytes,
    )


@dataclass(frozen=True)
class ValidationReply:
    """A worker's answer: status, media type, body and headers (``retire``: the worker must
    not be used again, e.g. after a MemoryError left its heap in an unknown state)."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    retire: bool = False

    @classmethod
    def error(cls, status: int, message: str, retire: bool = False) -> ValidationReply:
        """A JSON error, as the endpoint's other refusals are.

        >>> ValidationReply.error(400, "bad").body
        b'{"error": "bad"}'
        """
        return cls(status, JSON, json.dumps({"error": message}).encode("utf-8"), retire=retire)


def _memory_message(cap: int) -> str:
    limit = f"the {cap // 1024**2} MiB a validation may use" if cap > 0 else "the memory there is"
    return (
        f"Validating this upload needed more memory than {limit}, so it was stopped. Send "
        "less data at a time, or validate it locally with `pactgraph validate`."
    )


def answer_upload(task: ValidationTask, phase: Any = None, memory_cap: int = 0) -> ValidationReply:
    """Parse, validate and write the report of one upload, in the calling process.

    ``phase`` (a shared ``value``) is kept up to date with what is being done, for the parent
    to tell a parser crash from a later one.

    >>> task = ValidationTask(b"<urn:a> <urn:b> <urn:c> .", "application/n-triples", "json", 10)
    >>> reply = answer_upload(task)
    >>> reply.status, reply.headers["X-SHACL-Conforms"], json.loads(reply.body)["conforms"]
    (200, 'true', True)
    >>> answer_upload(ValidationTask(b"<a> <b>", "text/turtle", "json", 10)).status
    400
    """
    def enter(step: int) -> None:
        if phase is not None:
            phase.value = step

    step = PARSING
    try:
        enter(step)
        quads = parse_input(task.body, task.media_type)
        enter(step := VALIDATING)
        report = validate_graph(to_rdflib(quads)).first(task.result_cap)
        enter(step := WRITING)
        fmt = REPORT_FORMATS[task.report_format]
        body = fmt.write(report)
    except ProtocolError as error:
        return ValidationReply.error(error.status, error.message)
    except MemoryError:  # Python's allocations at the cap (pyoxigraph's abort the process)
        return ValidationReply.error(413, _memory_message(memory_cap), retire=True)
    except SystemError as error:
        # A C extension that failed an allocation at the cap can surface as "error return
        # without exception set"; with a cap set, that is what it means (seen under pySHACL).
        if memory_cap > 0:
            return ValidationReply.error(413, _memory_message(memory_cap), retire=True)
        return ValidationReply.error(500, f"Validation failed while {_DOING[step]}: {error}")
    except RecursionError:
        return ValidationReply.error(
            422, "The upload is nested too deeply to validate; flatten it.", retire=True
        )
    except Exception as error:  # one bad upload must not take the worker down with it
        if step == PARSING:
            return ValidationReply.error(400, f"The upload could not be parsed: {error}")
        return ValidationReply.error(500, f"Validation failed while {_DOING[step]}: {error}")
    finally:
        enter(IDLE)
    headers = {
        "X-SHACL-Conforms": "true" if report.conforms else "false",
        "X-SHACL-Results-Total": str(report.total_results or len(report.violations)),
        "X-SHACL-Results-Reported": str(len(report.violations)),
    }
    return ValidationReply(200, fmt.content_type, body, headers)


def death_reply(
    phase: int, exitcode: int | None, stderr_tail: bytes, memory_cap: int
) -> tuple[int, str]:
    """Status and message for an upload whose worker died, from what it was doing and how.

    >>> status, message = death_reply(PARSING, -11, b"", 1024**3)
    >>> status, message[:67]
    (400, 'The upload could not be parsed: the parser crashed (signal SIGSEGV)')
    >>> death_reply(VALIDATING, -6, b"memory allocation of 8 bytes failed", 1024**3)[0]
    413
    >>> death_reply(WRITING, 3, b"", 0)
    (500, 'The validation worker stopped unexpectedly while writing the report (exit status 3).')
    """
    if any(mark in stderr_tail for mark in _OUT_OF_MEMORY_MARKS):
        return 413, _memory_message(memory_cap)
    if exitcode is None:
        how = "it closed its pipe"
    elif exitcode < 0:
        try:
            how = f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"signal {-exitcode}"
    else:
        how = f"exit status {exitcode}"
    if phase == PARSING:
        return 400, (
            f"The upload could not be parsed: the parser crashed ({how}). Deeply nested input, "
            "such as JSON-LD contexts nested thousands deep, does this: flatten it."
        )
    return 500, f"The validation worker stopped unexpectedly while {_DOING[phase]} ({how})."


# ---------------------------------------------------------------------------- worker side


def validation_worker_main(
    conn: Connection, phase: Any, memory_cap: int, chunk: int, stderr: Connection | None = None
) -> None:
    """The loop of one validation worker: warm up, cap memory, then answer uploads until EOF.

    Replies travel as the query workers' do: a head ``(status, type, length, headers,
    retire)`` with the body when it is small (always when retiring), else the body in chunks.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if stderr is not None:  # the parent reads it, to tell why this process died if it does
        os.dup2(stderr.fileno(), 2)
        stderr.close()
    # Import pySHACL and load the shapes and ontology once, before the cap, so neither the
    # first upload's time nor the cap pays for them.
    answer_upload(ValidationTask(b"", "application/n-triples", "json", 1))
    sandboxed = deny_network()  # validation never needs the network (defence in depth)
    cap_memory(memory_cap)
    conn.send(("ready", os.getpid(), sandboxed))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        reply = answer_upload(task, phase, memory_cap)
        head = (reply.status, reply.content_type, len(reply.body), reply.headers, reply.retire)
        if reply.retire or len(reply.body) <= chunk:
            conn.send((*head, reply.body))
        else:
            conn.send(head)
            view = memoryview(reply.body)
            for start in range(0, len(view), chunk):
                conn.send_bytes(view[start : start + chunk])
        if reply.retire:
            return  # the parent starts a fresh worker in this one's place
        del reply
        gc.collect()  # a large report's graphs are cyclic: free them before the next upload


# ---------------------------------------------------------------------------- parent side


@dataclass
class _ValidationWorker(_Worker):
    phase: Any = None


@dataclass
class ValidationAnswer:
    """A validation's reply as the endpoint sends it."""

    status: int
    content_type: str
    length: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def error(cls, status: int, message: str) -> ValidationAnswer:
        """A JSON error answer.

        >>> ValidationAnswer.error(504, "slow").length
        17
        """
        reply = ValidationReply.error(status, message)
        return cls(status, reply.content_type, len(reply.body), {}, reply.body)


class ValidationPool(WorkerPool):
    """Validation worker processes, with the limits of :func:`pool_config`.

    The pool holds ``validate_workers`` slots; a slot is a running worker or ``None``, a
    worker not started yet (or whose start failed), which the request that takes it starts.
    So nothing is spawned until the first upload, and a failed start is retried, never lost.
    """

    def __init__(self, config: ServiceConfig) -> None:
        super().__init__(Path(os.devnull), pool_config(config))
        self._slots: asyncio.Queue[_ValidationWorker | None] = self._idle  # type: ignore[assignment]
        for _ in range(self.config.max_concurrent):
            self._slots.put_nowait(None)

    def _spawn(self) -> _ValidationWorker:
        phase = self._context.RawValue("i", IDLE)
        process, parent, stderr, _ = self._launch(
            validation_worker_main,
            (phase, self.config.worker_memory_bytes, self.config.chunk_size),
            "validation",
        )
        worker = _ValidationWorker(process, parent, stderr, phase)
        self._workers[process.pid] = worker
        return worker

    async def start(self) -> None:
        """Nothing to do: workers start with the first uploads."""

    def _on_spawned(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() or future.exception() is not None:
            log.error("could not start a validation worker: %s", future.exception())
            self._slots.put_nowait(None)  # the next upload tries again
            return
        self._slots.put_nowait(future.result())

    @property
    def busy(self) -> int:
        """How many slots are taken (validating, or starting a replacement)."""
        return max(0, self.config.max_concurrent - self._slots.qsize())

    def _death(self, worker: _ValidationWorker) -> tuple[int, str]:
        """Wait briefly for a worker whose pipe closed to exit; the client's status and why."""
        worker.process.join(5)
        tail = worker.stderr.finished(5) if worker.stderr is not None else b""
        exitcode = worker.process.exitcode
        status, message = death_reply(
            worker.phase.value, exitcode, tail, self.config.worker_memory_bytes
        )
        # Input that kills a worker is worth one line in the log (the client gets the same).
        log.warning("a validation worker died (exit %s): %s", exitcode, message)
        return status, message

    async def _take(self) -> _ValidationWorker | ValidationAnswer:
        """A worker for one upload (started if its slot is empty); an error answer if it
        cannot be started. Raises :class:`PoolBusy` when the queue is full."""
        if self._slots.empty() and self._waiting >= self.config.queue_size:
            raise PoolBusy
        self._waiting += 1
        try:
            slot = await asyncio.wait_for(self._slots.get(), self.config.queue_timeout_s)
        except TimeoutError:
            raise PoolBusy from None
        finally:
            self._waiting -= 1
        if slot is not None:
            return slot
        future = asyncio.get_running_loop().run_in_executor(self._threads, self._spawn)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(self._on_spawned)  # the slot comes back once it is up
            raise
        except Exception as error:
            log.error("could not start a validation worker: %s", error)
            self._slots.put_nowait(None)
            return ValidationAnswer.error(500, "A validation worker could not be started.")

    async def run(self, task: ValidationTask) -> ValidationAnswer:  # type: ignore[override]
        """Validate ``task`` on a worker; raises :class:`PoolBusy` when the queue is full."""
        worker = await self._take()
        if isinstance(worker, ValidationAnswer):
            return worker
        loop = asyncio.get_running_loop()
        try:
            # The body may be megabytes: the pipe write happens on a thread, not the loop.
            await loop.run_in_executor(self._threads, worker.conn.send, task)
            head = await self._read_head(worker, self.config.timeout_s)
        except (EOFError, OSError):
            status, message = await loop.run_in_executor(self._threads, self._death, worker)
            self._replace(worker)
            return ValidationAnswer.error(status, message)
        except BaseException:  # cancelled while waiting: the worker's state is unknown
            self._replace(worker)
            raise
        if head is None:
            self._replace(worker)
            return ValidationAnswer.error(
                504,
                f"The validation ran longer than this endpoint's {self.config.timeout_s:g} s "
                "limit and was stopped. Send less data at a time, or validate it locally with "
                "`pactgraph validate`.",
            )
        status, content_type, length, headers, retire = head[:5]
        if len(head) == 6:
            if retire:
                self._replace(worker)
            else:
                self._slots.put_nowait(worker)
            return ValidationAnswer(status, content_type, length, headers, body=head[5])
        # A long report is read off the pipe whole (on a thread) before it goes out, so the
        # worker is free at once however slowly the client reads (reports are capped at
        # validate_result_cap results).
        try:
            body = await loop.run_in_executor(self._threads, _recv_all, worker.conn, length)
        except BaseException:
            self._replace(worker)
            raise
        if retire:
            self._replace(worker)
        else:
            self._slots.put_nowait(worker)
        return ValidationAnswer(status, content_type, length, headers, body=body)
