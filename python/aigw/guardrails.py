"""Guardrails written in Python.

A guardrail looks at a request before it goes upstream (stage ``input``, or ``during``:
beside the upstream call), and, if it asks for it, at a whole non-streamed answer before it
reaches the client (stage ``output``) or at a streamed answer window by window (stage
``stream``), and returns a :class:`Verdict`: :func:`allow`, :func:`block`, :func:`rewrite`,
:func:`redact` or, in a stream, :func:`hold`. It is a subclass of :class:`Guardrail`
(``check(request)``, ``check_output(response)``, ``check_stream(window)``) or a function
decorated with :func:`guardrail`; a check may be ``async def`` (runs on the gateway's hook
thread, in its asyncio loop) or a plain function (runs in a small thread pool, so it may block).

Semantics (docs/guardrails-python.md has the whole story):

- Python and built-in guardrails share one order: lower ``priority`` first, config order
  breaking ties. Guardrails with equal priority run concurrently; the first block stops the
  stage and cancels its still-running siblings (``asyncio.CancelledError``); later
  priorities do not run.
- A rewrite or redaction changes what later priorities and the provider (or the client) see.
- Each check has a ``timeout``. A check that raises, times out or returns something that is
  not a Verdict follows ``on_error``: ``"block"`` (the default: fail closed, 503) or
  ``"allow"``. It never crashes anything; the error is logged on the ``aigw.guardrails`` logger.
- Every guardrail runs at most once per request and stage (at the stream stage: once per
  window). The C++ event loop never waits for Python: the request is parked until the
  verdict arrives (a stream's events queue behind the window being checked).
- Stream windows: a choice's text not sent yet; after the check it goes out
  except its last ``window`` bytes, which join the next window, so text split across chunks
  is seen whole. :meth:`StreamWindow.redact` redacts a pattern the way streams need.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, overload

# What a check gets and returns lives in modules of its own; these are their public names.
from aigw._guardrail_views import Request, Response, StreamWindow
from aigw._verdicts import Verdict, allow, block, hold, redact, rewrite

__all__ = [
    "Guardrail",
    "Request",
    "Response",
    "StreamWindow",
    "Verdict",
    "allow",
    "block",
    "guardrail",
    "hold",
    "redact",
    "rewrite",
]

Stage = Literal["input", "during", "output", "stream"]
OnError = Literal["block", "allow"]
_STAGES = ("input", "during", "output", "stream")


class Guardrail:
    """Base class of Python guardrails. Override :meth:`check` (input and during stages),
    :meth:`check_output` (output stage) and/or :meth:`check_stream` (stream stage), as ``def``
    or ``async def``.

    Class attributes (or constructor arguments) set how it runs: ``name`` (default: the class
    name), ``stages`` (``("input",)``; ``"during"`` runs :meth:`check` beside the upstream call
    instead, allow or block only; add ``"output"`` to check whole answers and ``"stream"`` to
    check streamed ones), ``priority`` (lower first, shared with the built-in guardrails; equal
    ones run concurrently), ``timeout`` (seconds, per check), ``on_error`` (``"block"``: fail
    closed, or ``"allow"``) and ``window`` (stream stage: bytes of text held back at the end of
    each window, so text split across chunks is seen whole; default 64).
    """

    name: str = ""
    stages: tuple[Stage, ...] = ("input",)
    priority: int = 0
    timeout: float = 5.0
    on_error: OnError = "block"
    window: int = 64

    def __init__(
        self,
        *,
        name: str | None = None,
        stages: Stage | Sequence[Stage] | None = None,
        priority: int | None = None,
        timeout: float | None = None,
        on_error: OnError | None = None,
        window: int | None = None,
    ) -> None:
        if name is not None:
            self.name = name
        if not self.name:
            self.name = type(self).__name__
        if stages is not None:
            self.stages = _stages(stages)
        if priority is not None:
            self.priority = priority
        if timeout is not None:
            self.timeout = timeout
        if on_error is not None:
            self.on_error = on_error
        if window is not None:
            self.window = window
        _check_settings(self)

    def check(self, request: Request) -> Verdict | Awaitable[Verdict]:
        """The input stage: decide about a request before it goes upstream (at the during
        stage: while it is upstream; only allow and block count there)."""
        raise NotImplementedError(f"{type(self).__name__}.check() is not implemented")

    def check_output(self, response: Response) -> Verdict | Awaitable[Verdict]:
        """The output stage: decide about a whole answer before it reaches the client."""
        raise NotImplementedError(f"{type(self).__name__}.check_output() is not implemented")

    def check_stream(self, window: StreamWindow) -> Verdict | Awaitable[Verdict]:
        """The stream stage: decide about one window of a streamed answer before it reaches
        the client. The stream waits meanwhile (what arrives queues up, and is checked as one
        window next)."""
        raise NotImplementedError(f"{type(self).__name__}.check_stream() is not implemented")

    def __repr__(self) -> str:
        return (
            f"<aigw.Guardrail {self.name!r} stages={','.join(self.stages)} "
            f"priority={self.priority} timeout={self.timeout}s on_error={self.on_error}>"
        )


def _stages(stages: str | Sequence[str]) -> tuple[Stage, ...]:
    given = [stages] if isinstance(stages, str) else list(stages)
    bad = [s for s in given if s not in _STAGES]
    if bad or not given:
        raise ValueError(f"stages must be a non-empty selection of {_STAGES}, not {stages!r}")
    return tuple(s for s in _STAGES if s in given)  # type: ignore[misc]


def _check_settings(g: Guardrail) -> None:
    if not isinstance(g.name, str) or not g.name or not g.name.isprintable():
        raise ValueError(f"guardrail name must be a printable, non-empty string: {g.name!r}")
    g.stages = _stages(g.stages)
    for stage, method in _METHODS.items():
        if stage in g.stages and getattr(type(g), method) is getattr(Guardrail, method):
            raise TypeError(f"guardrail {g.name!r} runs at the {stage} stage but has no {method}()")
    if isinstance(g.priority, bool) or not isinstance(g.priority, int):
        raise TypeError(f"guardrail {g.name!r}: priority must be an int")
    if not (isinstance(g.timeout, (int, float)) and 0 < g.timeout <= 3600):
        raise ValueError(f"guardrail {g.name!r}: timeout must be a number of seconds in (0, 3600]")
    if g.on_error not in ("block", "allow"):
        raise ValueError(f"guardrail {g.name!r}: on_error must be 'block' or 'allow'")
    if isinstance(g.window, bool) or not isinstance(g.window, int) or not 0 <= g.window <= 1 << 20:
        raise ValueError(f"guardrail {g.name!r}: window must be a number of bytes in [0, 1048576]")


# The method each stage calls.
_METHODS = {"input": "check", "during": "check", "output": "check_output", "stream": "check_stream"}


class _FunctionGuardrail(Guardrail):
    """A check function as a guardrail: it gets the Request at the input and during stages,
    the Response at the output stage and the StreamWindow at the stream stage."""

    def __init__(self, fn: Callable[[Any], Any], **settings: Any) -> None:
        self._fn = fn
        if settings.get("name") is None:
            settings["name"] = getattr(fn, "__name__", None) or "guardrail"
        super().__init__(**settings)
        self.__doc__ = fn.__doc__

    def check(self, request: Request) -> Any:
        return self._fn(request)

    def check_output(self, response: Response) -> Any:
        return self._fn(response)

    def check_stream(self, window: StreamWindow) -> Any:
        return self._fn(window)

    @property
    def function(self) -> Callable[[Any], Any]:
        return self._fn


CheckFn = Callable[[Any], "Verdict | Awaitable[Verdict]"]


@overload
def guardrail(fn: CheckFn, /) -> Guardrail: ...
@overload
def guardrail(
    *,
    name: str | None = None,
    stages: Stage | Sequence[Stage] = "input",
    priority: int = 0,
    timeout: float = 5.0,
    on_error: OnError = "block",
    window: int = 64,
) -> Callable[[CheckFn], Guardrail]: ...


def guardrail(
    fn: CheckFn | None = None,
    /,
    *,
    name: str | None = None,
    stages: Stage | Sequence[Stage] = "input",
    priority: int = 0,
    timeout: float = 5.0,
    on_error: OnError = "block",
    window: int = 64,
) -> Guardrail | Callable[[CheckFn], Guardrail]:
    """Turns a function (sync or async) into a guardrail; it receives an
    :class:`aigw.Request` at the input and during stages, an :class:`aigw.Response` at the
    output stage and an :class:`aigw.StreamWindow` at the stream stage::

    @aigw.guardrail(priority=10)
    async def no_secrets(request: aigw.Request) -> aigw.Verdict:
        return aigw.block("no secrets") if "sk-" in request.text else aigw.allow()
    """

    def wrap(f: CheckFn) -> Guardrail:
        return _FunctionGuardrail(
            f,
            name=name,
            stages=stages,
            priority=priority,
            timeout=timeout,
            on_error=on_error,
            window=window,
        )

    return wrap(fn) if fn is not None else wrap
