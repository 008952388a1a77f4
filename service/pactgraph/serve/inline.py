"""Queries answered in the HTTP process: only those whose cost is bounded by construction.

Every query runs in a killable worker process (:mod:`pactgraph.serve.workers`) because the
service cannot know how long an arbitrary query will take, nor how much memory it will use.
Profiling a first-time entity lookup (``bench/lookup_profile.py``) showed that the trip to a
worker and back cost more than the query itself. Most of that was the scheduler, not the
CPU: the write to the worker's pipe wakes the worker, which pre-empts the event loop. An
entity lookup's cost, though, can be known from its text. So a short list of query shapes is
answered here, on the event loop, and every other query still goes to a worker.

**The shape, checked by** :func:`bounded_by_construction`. The text must consist only of
these tokens: ``PREFIX`` declarations, then ``SELECT`` (variables or ``*``) or ``ASK``, an
optional ``WHERE``, and **one triple pattern** in braces, with an optional ``LIMIT``. Its
subject or its object must be a constant (an IRI, or a plain, language-tagged or typed
literal without escapes). Its predicate is an IRI, ``a`` or a variable. Its variables must
all be different, and its terms must be separated by whitespace. The text may not contain
any other keyword or operator: no ``FILTER``, ``OPTIONAL``, ``UNION``, property path,
subquery, ``SERVICE``, ``FROM``, ``GRAPH``, ``ORDER BY``, ``DISTINCT``, ``OFFSET``,
``BIND``, function call, nesting or escape. The request may not name a dataset
(``default-graph-uri`` or ``named-graph-uri``).

**Why that shape is bounded.** pyoxigraph evaluates such a pattern as one range scan of an
index keyed by the constant. Every entry of the range is one solution: nothing is filtered,
and with distinct variables nothing is compared. So the work is proportional to the
solutions written, and the writer stops them:

- The answer is written by the workers' own function (:func:`pactgraph.serve.workers.execute`:
  the same guard, evaluation and :func:`~pactgraph.serve.workers.serialize_capped`), with the
  row cap lowered to ``inline_rows`` and the byte cap to ``inline_bytes``.
- An answer that would pass either cap is dropped as soon as it does. The same task then goes
  to a worker, under the endpoint's real limits (timeout, memory cap, row cap, byte cap).
- So an inline query does at most one index seek and ``inline_rows`` steps, and holds at
  most ``inline_bytes`` of answer (plus one buffer of the writer).
- The grammar has no nesting, so the parser's recursion is shallow. The query length limit
  and the memo bound on query strings still apply.
- The text has no ``SERVICE`` or ``FROM``, so nothing is fetched. The guard runs anyway, as
  it does in a worker.

Because the function and the store files are the same, the bytes are the same as a
worker's. ``tests/test_inline.py`` also compares them over HTTP in every result format.
The switch is ``--inline-rows 0`` (``ServiceConfig.inline_rows``).

>>> bounded_by_construction("SELECT ?p ?o WHERE { <http://e/s> ?p ?o }")
True
>>> bounded_by_construction("SELECT * { ?s ?p ?o }")  # no constant to scan from
False
>>> bounded_by_construction("SELECT ?s { ?s <http://e/p>+ <http://e/o> }")  # a path
False
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyoxigraph import Store

from pactgraph.serve.config import ServiceConfig
from pactgraph.serve.workers import Answer, QueryTask, execute

_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_PNAME = r"(?:[A-Za-z][A-Za-z0-9_-]*)?:(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?"
# Tokens of the accepted shape, and nothing else. The order matters: a prefixed name before
# a bare word (``ex:a`` is not the word ``ex``).
_TOKEN = re.compile(
    rf"""
     (?P<ws>[\ \t\r\n]+)
    |(?P<comment>\#[^\r\n]*)
    |(?P<iri>{_IRI})
    |(?P<var>[?$][A-Za-z_][A-Za-z0-9_]*)
    |(?P<literal>"[^"\\\r\n]*"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:{_IRI}|{_PNAME}))?)
    |(?P<pname>{_PNAME})
    |(?P<number>[0-9]+)
    |(?P<punct>[{{}}.*])
    |(?P<word>[A-Za-z]+)
    """,
    re.VERBOSE,
)
_CONSTANT = frozenset({"iri", "pname"})
_TERM = frozenset({"iri", "pname", "var", "literal", "word"})
# Longer texts are never inline: the recognizer's and the parser's work stay small.
MAX_INLINE_QUERY = 4096


def _tokens(query: str) -> list[tuple[str, str, bool]] | None:
    """(kind, text, whitespace before it) of every token, or ``None`` if any character is
    outside the accepted tokens."""
    tokens: list[tuple[str, str, bool]] = []
    position, spaced = 0, True
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:
            return None
        kind = match.lastgroup
        assert kind is not None
        if kind in ("ws", "comment"):
            spaced = True
        else:
            tokens.append((kind, match.group(), spaced))
            spaced = False
        position = match.end()
    return tokens


def _is_word(token: tuple[str, str, bool], word: str) -> bool:
    return token[0] == "word" and token[1].upper() == word


@lru_cache(maxsize=1024)
def bounded_by_construction(query: str) -> bool:
    """Whether ``query`` has the one shape answered in the HTTP process (module docstring).

    Errs towards ``False``: a query refused here runs in a worker, which only costs speed.

    >>> bounded_by_construction("PREFIX e: <http://e/> ASK { ?s e:p 'x' }")
    False
    >>> bounded_by_construction('PREFIX e: <http://e/> ASK { ?s e:p "x"@en }')
    True
    >>> bounded_by_construction("SELECT ?o { <http://e/s> ?p ?o } LIMIT 5")
    True
    >>> bounded_by_construction("SELECT ?o { <http://e/s> ?o ?o }")  # a repeated variable
    False
    >>> bounded_by_construction("SELECT ?o { <http://e/s> ?p ?o FILTER(?o) }")
    False
    >>> bounded_by_construction("SELECT ?o { <http://e/s> ?p ?o } OFFSET 9")
    False
    >>> bounded_by_construction("SELECT ?o FROM <http://e/g> { <http://e/s> ?p ?o }")
    False
    """
    if len(query) > MAX_INLINE_QUERY:
        return False
    tokens = _tokens(query)
    if tokens is None:
        return False
    at = 0
    while at < len(tokens) and _is_word(tokens[at], "PREFIX"):
        if at + 2 >= len(tokens):
            return False
        name, iri = tokens[at + 1], tokens[at + 2]
        if name[0] != "pname" or not name[1].endswith(":") or iri[0] != "iri":
            return False
        at += 3
    if at < len(tokens) and _is_word(tokens[at], "SELECT"):
        at += 1
        if at < len(tokens) and tokens[at][:2] == ("punct", "*"):
            at += 1
        else:
            start = at
            while at < len(tokens) and tokens[at][0] == "var":
                at += 1
            if at == start:
                return False
    elif at < len(tokens) and _is_word(tokens[at], "ASK"):
        at += 1
    else:
        return False
    if at < len(tokens) and _is_word(tokens[at], "WHERE"):
        at += 1
    # { subject predicate object [.] }
    if at + 4 >= len(tokens) or tokens[at][:2] != ("punct", "{"):
        return False
    subject, predicate, obj = tokens[at + 1 : at + 4]
    at += 4
    if not all(kind in _TERM and spaced for kind, _, spaced in (predicate, obj)):
        return False
    if subject[0] not in ("iri", "pname", "var"):
        return False
    if obj[0] == "word" or (predicate[0] == "word" and predicate[1] != "a"):
        return False  # true/false and other bare words are not terms we accept
    if subject[0] not in _CONSTANT and obj[0] not in _CONSTANT | {"literal"}:
        return False
    variables = [text for kind, text, _ in (subject, predicate, obj) if kind == "var"]
    if len({v[1:] for v in variables}) != len(variables):
        return False
    if at < len(tokens) and tokens[at][:2] == ("punct", "."):
        at += 1
    if at >= len(tokens) or tokens[at][:2] != ("punct", "}"):
        return False
    at += 1
    if at < len(tokens) and _is_word(tokens[at], "LIMIT"):
        if at + 1 >= len(tokens) or tokens[at + 1][0] != "number":
            return False
        at += 2
    return at == len(tokens)


class InlineRunner:
    """Answers tasks of the bounded shape on the release store, opened read-only in this
    process; :meth:`run` gives ``None`` when the answer would pass the inline caps (the
    caller then sends the task to a worker)."""

    def __init__(self, store_path: Path, config: ServiceConfig, known_graphs: set[str]) -> None:
        self.config = config
        self.known_graphs = known_graphs
        self.store = Store.read_only(str(store_path))
        self.answered = 0  # inline answers (shown by /healthz)
        self.handed_on = 0  # inline attempts over a cap, sent to a worker

    def eligible(self, task: QueryTask) -> bool:
        """Whether ``task`` may be tried here: the bounded shape and no protocol dataset."""
        return (
            task.default_graphs is None
            and task.named_graphs is None
            and bounded_by_construction(task.query)
        )

    def run(self, task: QueryTask) -> Answer | None:
        """The answer to an eligible task, or ``None`` if it is over ``inline_rows`` rows or
        ``inline_bytes`` bytes."""
        config = self.config
        try:
            reply = execute(
                self.store,
                task,
                self.known_graphs,
                config.allows_service,
                min(config.row_cap, config.inline_rows),
                min(config.max_answer_bytes, config.inline_bytes),
                raise_caps=True,
            )
        except Exception:  # over a cap (RowCapExceeded, AnswerTooLarge), or any error: the
            # worker answers it under the endpoint's real limits and says what went wrong
            self.handed_on += 1
            return None
        self.answered += 1
        return Answer(reply.status, reply.content_type, len(reply.body), body=reply.body)

    def stats(self) -> dict[str, Any]:
        """Counters for ``/healthz``."""
        return {"answered": self.answered, "handed_to_workers": self.handed_on}
