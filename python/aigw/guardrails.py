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

import copy
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

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


@dataclass(frozen=True)
class Verdict:
    """What a guardrail decided. Build it with :func:`allow`, :func:`block`, :func:`rewrite`,
    :func:`redact` or :func:`hold`."""

    action: Literal["allow", "block", "rewrite", "redact"]
    message: str = ""
    status: int = 400
    type: str = "invalid_request_error"
    code: str = "content_blocked"
    body: dict[str, Any] | None = None  # rewrite: fields to set, or the whole new body
    replace: bool = False  # rewrite: `body` is the whole new body
    redactions: tuple[tuple[str, str], ...] = ()  # redact: (text, replacement) pairs
    texts: tuple[str, ...] | None = None  # rewrite: the new texts, one per texts()
    # stream stage: characters at the window's end (after the edits) held for the next window
    hold: int | Literal["all"] | None = None


def allow() -> Verdict:
    """Let the request go on unchanged."""
    return _ALLOW


_ALLOW = Verdict("allow")


def block(
    message: str = "",
    *,
    status: int = 400,
    type: str = "invalid_request_error",  # noqa: A002 - OpenAI's field name
    code: str = "content_blocked",
) -> Verdict:
    """Refuse the request (or the answer): the client gets an OpenAI-shaped error with this
    status, message, type and code. The default message names the guardrail ("the request was
    blocked by guardrail 'name'"; "the response ..." at the output stage)."""
    if not 400 <= status <= 599:
        raise ValueError(f"a block status must be 4xx or 5xx, not {status}")
    return Verdict("block", message=message, status=status, type=type, code=code)


def rewrite(
    *,
    messages: list[dict[str, Any]] | None = None,
    prompt: str | list[str] | None = None,
    input: str | list[str] | None = None,  # noqa: A002 - the embeddings field's name
    body: Mapping[str, Any] | None = None,
    texts: Sequence[str] | None = None,
    text: str | None = None,
) -> Verdict:
    """Replace parts of what the guardrail checks.

    - ``texts``: new texts, one per ``texts()`` of the request or response, in order;
      ``text``: the same for exactly one text (a one-choice answer, a one-message prompt).
    - Input stage: chat ``messages``, a completion ``prompt``, an embeddings ``input``, or the
      whole request ``body`` (its ``model`` is kept: routing already happened).
    - Output stage: the whole answer ``body``.
    """
    if text is not None:
        if texts is not None:
            raise ValueError("rewrite() takes texts or text, not both")
        texts = [text]
    if texts is not None:
        if body is not None or messages is not None or prompt is not None or input is not None:
            raise ValueError("rewrite(texts=...) cannot be combined with body fields")
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("rewrite(texts=...) takes a sequence of strings")
        return Verdict("rewrite", texts=tuple(texts))
    if body is None and messages is None and prompt is None and input is None:
        raise ValueError("rewrite() needs texts, text, messages, prompt, input or body")
    new: dict[str, Any] = copy.deepcopy(dict(body)) if body is not None else {}
    if messages is not None:
        new["messages"] = messages
    if prompt is not None:
        new["prompt"] = prompt
    if input is not None:
        new["input"] = input
    return Verdict("rewrite", body=new, replace=body is not None)


def hold(chars: int | None = None) -> Verdict:
    """Stream stage only: let the window's text out except its last ``chars`` characters (all
    of it when ``chars`` is None), which wait for the next window, where this guardrail sees
    them again with what followed. A final window cannot be held: it all goes out."""
    return Verdict("allow", hold="all" if chars is None else _hold_count(chars))


def _hold_count(chars: int) -> int:
    if isinstance(chars, bool) or not isinstance(chars, int) or chars < 0:
        raise ValueError(f"a hold is a count of characters >= 0, not {chars!r}")
    return chars


def redact(
    found: Iterable[str] | Mapping[str, str],
    replacement: str = "[REDACTED]",
    *,
    hold: int | None = None,
) -> Verdict:
    """Replace every occurrence of each text in ``found`` (or each key of a mapping, by its
    value) in every text of the request or response (``texts()``); longer ones first. In a
    stream window, ``hold`` also keeps that many characters at its end for the next window."""
    if isinstance(found, Mapping):
        pairs = tuple((str(k), str(v)) for k, v in found.items() if k)
    else:
        pairs = tuple((str(k), replacement) for k in found if k)
    return Verdict("redact", redactions=pairs, hold=None if hold is None else _hold_count(hold))


class _Snapshot:
    """A job's JSON (from the gateway), parsed on first use: a check that reads nothing costs
    nothing."""

    __slots__ = ("_data", "_text")

    def __init__(self, source: str | Mapping[str, Any]) -> None:
        self._text = source if isinstance(source, str) else ""
        self._data: dict[str, Any] | None = None if isinstance(source, str) else dict(source)

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self._text or "{}")
        return self._data


class Request:
    """What a guardrail sees of a request: an owned copy, safe to keep or change (changing it
    changes nothing by itself: return a Verdict).

    ``Request(snapshot)`` builds one from a dict (or its JSON) with the fields below, for
    tests of a guardrail."""

    __slots__ = ("_body", "_part", "_snap", "_texts")

    def __init__(self, snapshot: str | Mapping[str, Any]) -> None:
        self._snap = _Snapshot(snapshot)
        self._part: str | None = None
        self._texts = False  # the snapshot carries the gateway's texts
        self._body: dict[str, Any] | None = None

    @classmethod
    def _of_job(cls, snap: _Snapshot, *, texts: bool) -> Request:
        r = cls.__new__(cls)
        r._snap, r._part, r._texts, r._body = snap, "request", texts, None
        return r

    def _data(self) -> dict[str, Any]:
        data = self._snap.data()
        if self._part is None:
            return data
        part: dict[str, Any] = data[self._part]
        return part

    @property
    def request_id(self) -> str:
        """The request's x-aigw-request-id."""
        return str(self._data()["request_id"])

    @property
    def endpoint(self) -> str:
        """chat.completions, completions, embeddings or passthrough."""
        return str(self._data()["endpoint"])

    @property
    def path(self) -> str:
        return str(self._data()["path"])

    @property
    def model(self) -> str:
        """The model the client asked for."""
        return str(self._data()["model"])

    @property
    def route(self) -> str | None:
        """The name of the route serving it."""
        route = self._data().get("route")
        return None if route is None else str(route)

    @property
    def stream(self) -> bool:
        return bool(self._data().get("stream"))

    @property
    def headers(self) -> dict[str, str]:
        """Request headers, lower-case names; credentials (authorization, cookies, keys) removed."""
        headers: dict[str, str] = self._data().get("headers") or {}
        return headers

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body, as earlier guardrails left it (the same dict on every access)."""
        if self._body is None:
            self._body = self._data()["body"]
        return self._body

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Chat messages (empty for other endpoints)."""
        messages = self.body.get("messages")
        return messages if isinstance(messages, list) else []

    def texts(self) -> list[str]:
        """Every text of the request a model would read, in the gateway's order: message
        contents (strings and text parts), the completion prompt, the embeddings input (on a
        passthrough request: every string of the body). What redact() and rewrite(texts=)
        work on."""
        if self._texts:
            return list(self._snap.data()["texts"])
        return _request_texts(self.body)

    @property
    def text(self) -> str:
        """All texts joined by newlines: the simplest thing to search."""
        return "\n".join(self.texts())

    def __repr__(self) -> str:
        return f"<aigw.Request {self.request_id} {self.endpoint} model={self.model!r}>"


class Response:
    """What an output guardrail sees of a whole (non-streamed, 2xx) answer: an owned copy.

    ``Response(body, request)`` builds one from an answer dict, for tests of a guardrail."""

    __slots__ = ("_body", "_request", "_snap")

    def __init__(
        self, body: Mapping[str, Any], request: Request | Mapping[str, Any] | None = None
    ) -> None:
        req = request if isinstance(request, Request) or request is None else Request(request)
        self._snap = _Snapshot({"response": dict(body)})
        self._request = req
        self._body: dict[str, Any] | None = None

    @classmethod
    def _of_job(cls, snap: _Snapshot) -> Response:
        r = cls.__new__(cls)
        r._snap, r._request, r._body = snap, None, None
        return r

    @property
    def request(self) -> Request:
        """The request it answers (as the provider received it)."""
        if self._request is None:
            self._request = Request._of_job(self._snap, texts=False)
        return self._request

    @property
    def body(self) -> dict[str, Any]:
        """The answer's JSON (the same dict on every access)."""
        if self._body is None:
            self._body = self._snap.data()["response"]
        return self._body

    @property
    def model(self) -> str | None:
        """The model that answered, as the answer says."""
        model = self.body.get("model")
        return None if model is None else str(model)

    @property
    def choices(self) -> list[dict[str, Any]]:
        choices = self.body.get("choices")
        return choices if isinstance(choices, list) else []

    @property
    def usage(self) -> dict[str, Any] | None:
        usage = self.body.get("usage")
        return usage if isinstance(usage, dict) else None

    def texts(self) -> list[str]:
        """The answer's texts, one per choice that has one: ``message.content`` (chat) or
        ``text`` (completions). What redact() and rewrite(texts=) work on."""
        data = self._snap.data()
        if "texts" in data:
            return list(data["texts"])
        return _answer_texts(self.body)

    @property
    def text(self) -> str:
        """All texts joined by newlines."""
        return "\n".join(self.texts())

    def __repr__(self) -> str:
        return f"<aigw.Response model={self.model!r} choices={len(self.choices)}>"


class StreamWindow:
    """What a stream guardrail sees of a streamed answer: one window of one choice's text.

    The window is the choice's text not sent to the client yet: what arrived since the last
    window, plus what earlier windows held back (the guardrail's ``window`` bytes at the end,
    and whatever a :func:`hold` kept). Text split across chunks is therefore seen whole, as
    long as it fits in ``window`` bytes. A verdict decides about the window: allow (all of it
    but the held-back end goes out), block, redact (within the window), rewrite (``text=``: the
    window's new text, all of which goes out) or :func:`hold`.

    ``StreamWindow(text, final=..., choice=..., request=...)`` builds one, for tests of a
    guardrail."""

    __slots__ = ("_request", "_snap", "choice", "final", "text")

    def __init__(
        self,
        text: str,
        *,
        final: bool = False,
        choice: int = 0,
        request: Request | Mapping[str, Any] | None = None,
    ) -> None:
        self.text = text
        #: No more text follows for this choice (its finish_reason, [DONE] or the stream's end).
        self.final = final
        #: The choice's index (most answers have only choice 0).
        self.choice = choice
        self._snap: _Snapshot | None = None
        self._request = (
            request if isinstance(request, Request) or request is None else Request(request)
        )

    @classmethod
    def _of_job(cls, head: str, request: str) -> StreamWindow:
        data = json.loads(head)
        window = data["window"]
        w = cls(data["texts"][0], final=bool(window["final"]), choice=int(window["choice"]))
        w._snap = _Snapshot(request)
        return w

    @property
    def request(self) -> Request:
        """The request the stream answers (as the provider received it); read on first use."""
        if self._request is None:
            if self._snap is None:
                raise ValueError("this StreamWindow was built without a request")
            self._request = Request._of_job(self._snap, texts=False)
        return self._request

    def texts(self) -> list[str]:
        """``[text]``: what redact() and rewrite(texts=) work on."""
        return [self.text]

    def redact(self, pattern: str | re.Pattern[str], replacement: str = "[REDACTED]") -> Verdict:
        """The verdict that redacts every match of a regular expression in the window, done
        right for streams: a match that reaches the window's end may still grow with the next
        chunk, so it is held back (from its start) instead, unless the window is final.
        Allow when nothing matched."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        found: dict[str, str] = {}
        held: int | None = None
        for m in rx.finditer(self.text):
            if not self.final and m.end() == len(self.text):
                held = len(self.text) - m.start()
                break
            if m.group():
                found[m.group()] = replacement
        if found:
            return redact(found, hold=held)
        return allow() if held is None else hold(held)

    def __repr__(self) -> str:
        return f"<aigw.StreamWindow choice={self.choice} final={self.final} {len(self.text)} chars>"


def _request_texts(body: dict[str, Any]) -> list[str]:
    """Every model-readable text of a request body (the gateway sends its own list)."""
    out: list[str] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text":
                    if isinstance(part.get("text"), str):
                        out.append(part["text"])
    for key in ("prompt", "input"):
        value = body.get(key)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, str))
    return out


def _answer_texts(body: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for choice in body.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        message = choice.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            out.append(message["content"])
        elif isinstance(choice.get("text"), str):
            out.append(choice["text"])
    return out


def apply_rewrite(body: dict[str, Any], verdict: Verdict) -> None:
    """Applies a rewrite verdict's body fields to a request body; the model stays (routing
    already happened)."""
    if verdict.body is None:
        return
    model = body.get("model")
    if verdict.replace:
        body.clear()
    body.update(copy.deepcopy(verdict.body))
    if model is not None:
        body["model"] = model


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
