"""The request log's public types: one request's record (what sinks, ``gw.logs()`` and request
events get) and :class:`LogSink`, what an object needs to receive records.

The record is the data plane's JSON line (cpp/log/request_record.cc, fields in
docs/logging.md), parsed: the TypedDicts say what it holds and cannot add a key it lacks
(tests/python/package/test_typed_surface.py compares them with real records).
"""

from __future__ import annotations

from typing import Literal, Protocol, TypedDict, runtime_checkable

__all__ = ["AttemptRecord", "GuardrailRecord", "LogSink", "RecordError", "RequestRecord"]


class AttemptRecord(TypedDict):
    """One try at a provider, in the order they were made."""

    target: str
    provider: str
    model: str
    status: int | None  # None: no answer (connect failure, timeout, cancelled)
    duration_ms: float
    error: str | None


class GuardrailRecord(TypedDict):
    """One guardrail's run at one stage (at the stream stage: once per stream)."""

    name: str
    kind: str  # phrases, regex, limits, moderation or python
    stage: Literal["input", "during", "output", "stream"]
    verdict: Literal["allow", "block", "rewrite", "redact", "cancelled"]
    duration_ms: float
    error: str | None
    timeout: bool


class RecordError(TypedDict):
    """The error answer's type and message, or why the response was cut."""

    type: str | None
    message: str


# Inherited as not required: the bodies are recorded only with `log.bodies: true`.
class _RecordBodies(TypedDict, total=False):
    request_body: str
    response_body: str
    bodies_truncated: bool


class RequestRecord(_RecordBodies):
    """One admitted request, as the log records it once its response ended."""

    id: str
    ts_start: int  # epoch milliseconds
    ts_end: int
    method: str
    path: str
    endpoint: str | None  # None: not an API request (/health, /v1/models, unknown paths)
    model: str | None
    route: str | None
    provider: str | None
    upstream_model: str | None
    status: int | None  # None: the client got no status (it left first, a reset)
    latency_ms: float
    ttft_ms: float | None
    stream: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    attempts: list[AttemptRecord]
    guardrails: list[GuardrailRecord]
    error: RecordError | None
    client_aborted: bool
    partial: bool


@runtime_checkable
class LogSink(Protocol):
    """An object that receives request records: ``Gateway(log_sinks=[obj])``, or a class of a
    ``kind: python`` sink in the config (built with its ``options``).

    ``write`` gets each batch (at most ``log.batch_size`` records, never empty) on the log
    thread; what it returns is ignored, and an exception makes the log retry the batch later.
    The records are shared with the other sinks: do not modify them. A ``close()`` method, if
    the object has one, is called once at stop (a Protocol cannot say "optional", so it is
    not part of this one)."""

    def write(self, records: list[RequestRecord], /) -> object: ...
