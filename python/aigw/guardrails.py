"""Guardrails written in Python.

A guardrail looks at a request before it goes upstream (stage ``input``) and returns a
:class:`Verdict`: :func:`allow`, :func:`block`, :func:`rewrite` or :func:`redact`. It is a
subclass of :class:`Guardrail` or a function decorated with :func:`guardrail`; ``check`` may
be ``async def`` (runs on the gateway's hook thread, in its asyncio loop) or a plain function
(runs in a small thread pool, so it may block).

Semantics (docs/guardrails-python.md has the whole story):

- Lower ``priority`` runs first. Guardrails with equal priority run concurrently; the first
  block stops the request and cancels its still-running siblings; later priorities do not run.
- A rewrite or redaction changes the request that later priorities and the provider see.
- Each check has a ``timeout``. A check that raises, times out or returns something that is
  not a Verdict follows ``on_error``: ``"block"`` (the default: fail closed, 503) or
  ``"allow"``. It never crashes anything; the error is logged on the ``aigw.guardrails`` logger.
- Every guardrail runs at most once per request. The C++ event loop never waits for Python: the
  request is parked until the verdict arrives.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

__all__ = [
    "Guardrail",
    "Request",
    "Verdict",
    "allow",
    "block",
    "guardrail",
    "redact",
    "rewrite",
]

Stage = Literal["input"]
OnError = Literal["block", "allow"]
_STAGES = ("input",)


@dataclass(frozen=True)
class Verdict:
    """What a guardrail decided. Build it with :func:`allow`, :func:`block`, :func:`rewrite` or
    :func:`redact`."""

    action: Literal["allow", "block", "rewrite", "redact"]
    message: str = ""
    status: int = 400
    type: str = "invalid_request_error"
    code: str = "content_blocked"
    body: dict[str, Any] | None = None  # rewrite: fields to set, or the whole new body
    replace: bool = False  # rewrite: `body` is the whole new body
    redactions: tuple[tuple[str, str], ...] = ()  # redact: (text, replacement) pairs


def allow() -> Verdict:
    """Let the request go on unchanged."""
    return _ALLOW


_ALLOW = Verdict("allow")


def block(
    message: str = "the request was blocked by a guardrail",
    *,
    status: int = 400,
    type: str = "invalid_request_error",  # noqa: A002 - OpenAI's field name
    code: str = "content_blocked",
) -> Verdict:
    """Refuse the request: the client gets an OpenAI-shaped error with this status, message,
    type and code (the upstream is never called)."""
    if not 400 <= status <= 599:
        raise ValueError(f"a block status must be 4xx or 5xx, not {status}")
    return Verdict("block", message=message, status=status, type=type, code=code)


def rewrite(
    *,
    messages: list[dict[str, Any]] | None = None,
    prompt: str | list[str] | None = None,
    input: str | list[str] | None = None,  # noqa: A002 - the embeddings field's name
    body: Mapping[str, Any] | None = None,
) -> Verdict:
    """Replace parts of the request: chat ``messages``, a completion ``prompt``, an embeddings
    ``input``, or the whole ``body`` (its ``model`` is kept: routing already happened)."""
    if body is None and messages is None and prompt is None and input is None:
        raise ValueError("rewrite() needs messages, prompt, input or body")
    new: dict[str, Any] = copy.deepcopy(dict(body)) if body is not None else {}
    if messages is not None:
        new["messages"] = messages
    if prompt is not None:
        new["prompt"] = prompt
    if input is not None:
        new["input"] = input
    return Verdict("rewrite", body=new, replace=body is not None)


def redact(found: Iterable[str] | Mapping[str, str], replacement: str = "[REDACTED]") -> Verdict:
    """Replace every occurrence of each text in ``found`` (or each key of a mapping, by its
    value) in every text of the request (message contents, prompt, input)."""
    if isinstance(found, Mapping):
        pairs = tuple((str(k), str(v)) for k, v in found.items() if k)
    else:
        pairs = tuple((str(k), replacement) for k in found if k)
    return Verdict("redact", redactions=pairs)


class Request:
    """What a guardrail sees of a request: an owned copy, safe to keep or change. (It is parsed
    from the gateway's snapshot on first use: a check that reads nothing costs nothing.)"""

    __slots__ = ("_body", "_payload", "_snap")

    def __init__(self, snapshot: str | Mapping[str, Any]) -> None:
        self._payload = snapshot if isinstance(snapshot, str) else None
        self._snap: dict[str, Any] | None = None if isinstance(snapshot, str) else dict(snapshot)
        self._body: dict[str, Any] | None = None

    def _data(self) -> dict[str, Any]:
        if self._snap is None:
            self._snap = json.loads(self._payload or "{}")
        return self._snap

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
        """The JSON body (the same dict on every access: rewrites change it)."""
        if self._body is None:
            self._body = self._data()["body"]
        return self._body

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Chat messages (empty for other endpoints)."""
        messages = self.body.get("messages")
        return messages if isinstance(messages, list) else []

    def texts(self) -> list[str]:
        """Every text of the request a model would read: message contents (strings and text
        parts), the completion prompt, the embeddings input."""
        return [t for t, _ in _text_slots(self.body)]

    @property
    def text(self) -> str:
        """All texts joined by newlines: the simplest thing to search."""
        return "\n".join(self.texts())

    def __repr__(self) -> str:
        return f"<aigw.Request {self.request_id} {self.endpoint} model={self.model!r}>"


def _text_slots(body: dict[str, Any]) -> list[tuple[str, Callable[[str], None]]]:
    """(text, setter) for every model-readable text of a body."""
    slots: list[tuple[str, Callable[[str], None]]] = []

    def add(container: Any, key: Any) -> None:
        value = container[key]
        if isinstance(value, str):

            def setter(new: str, c: Any = container, k: Any = key) -> None:
                c[k] = new

            slots.append((value, setter))

    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            add(message, "content")
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and "text" in part:
                    add(part, "text")
    for key in ("prompt", "input"):
        value = body.get(key)
        if isinstance(value, str):
            add(body, key)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    add(value, i)
    return slots


def apply_redactions(body: dict[str, Any], pairs: Iterable[tuple[str, str]]) -> bool:
    """Replaces each (text, replacement) in every text slot; True when something changed."""
    pairs = list(pairs)
    if not pairs:
        return False
    pattern = re.compile(
        "|".join(re.escape(old) for old, _ in sorted(pairs, key=lambda p: -len(p[0])))
    )
    table = dict(pairs)
    changed = False
    for text, setter in _text_slots(body):
        new = pattern.sub(lambda m: table[m.group(0)], text)
        if new != text:
            setter(new)
            changed = True
    return changed


def apply_rewrite(body: dict[str, Any], verdict: Verdict) -> None:
    """Applies a rewrite verdict to the body; the model stays (routing already happened)."""
    if verdict.body is None:
        return
    model = body.get("model")
    if verdict.replace:
        body.clear()
    body.update(copy.deepcopy(verdict.body))
    if model is not None:
        body["model"] = model


class Guardrail:
    """Base class of Python guardrails. Override :meth:`check` (``def`` or ``async def``).

    Class attributes (or constructor arguments) set how it runs: ``name`` (default: the class
    name), ``stage`` (``"input"``), ``priority`` (lower first; equal ones run concurrently),
    ``timeout`` (seconds) and ``on_error`` (``"block"``: fail closed, or ``"allow"``).
    """

    name: str = ""
    stage: Stage = "input"
    priority: int = 0
    timeout: float = 5.0
    on_error: OnError = "block"

    def __init__(
        self,
        *,
        name: str | None = None,
        stage: Stage | None = None,
        priority: int | None = None,
        timeout: float | None = None,
        on_error: OnError | None = None,
    ) -> None:
        if name is not None:
            self.name = name
        if not self.name:
            self.name = type(self).__name__
        if stage is not None:
            self.stage = stage
        if priority is not None:
            self.priority = priority
        if timeout is not None:
            self.timeout = timeout
        if on_error is not None:
            self.on_error = on_error
        _check_settings(self)

    def check(self, request: Request) -> Verdict | Awaitable[Verdict]:
        raise NotImplementedError(f"{type(self).__name__}.check() is not implemented")

    def __repr__(self) -> str:
        return (
            f"<aigw.Guardrail {self.name!r} stage={self.stage} priority={self.priority} "
            f"timeout={self.timeout}s on_error={self.on_error}>"
        )


def _check_settings(g: Guardrail) -> None:
    if g.stage not in _STAGES:
        raise ValueError(f"guardrail {g.name!r}: stage must be one of {_STAGES}, not {g.stage!r}")
    if isinstance(g.priority, bool) or not isinstance(g.priority, int):
        raise TypeError(f"guardrail {g.name!r}: priority must be an int")
    if not (isinstance(g.timeout, (int, float)) and 0 < g.timeout <= 3600):
        raise ValueError(f"guardrail {g.name!r}: timeout must be a number of seconds in (0, 3600]")
    if g.on_error not in ("block", "allow"):
        raise ValueError(f"guardrail {g.name!r}: on_error must be 'block' or 'allow'")


class _FunctionGuardrail(Guardrail):
    def __init__(self, fn: Callable[[Request], Any], **settings: Any) -> None:
        self._fn = fn
        if settings.get("name") is None:
            settings["name"] = getattr(fn, "__name__", None) or "guardrail"
        super().__init__(**settings)
        self.__doc__ = fn.__doc__

    def check(self, request: Request) -> Any:
        return self._fn(request)

    @property
    def function(self) -> Callable[[Request], Any]:
        return self._fn


CheckFn = Callable[[Request], "Verdict | Awaitable[Verdict]"]


@overload
def guardrail(fn: CheckFn, /) -> Guardrail: ...
@overload
def guardrail(
    *,
    name: str | None = None,
    stage: Stage = "input",
    priority: int = 0,
    timeout: float = 5.0,
    on_error: OnError = "block",
) -> Callable[[CheckFn], Guardrail]: ...


def guardrail(
    fn: CheckFn | None = None,
    /,
    *,
    name: str | None = None,
    stage: Stage = "input",
    priority: int = 0,
    timeout: float = 5.0,
    on_error: OnError = "block",
) -> Guardrail | Callable[[CheckFn], Guardrail]:
    """Turns a function ``(request) -> Verdict`` (sync or async) into a guardrail::

    @aigw.guardrail(priority=10)
    async def no_secrets(request: aigw.Request) -> aigw.Verdict:
        return aigw.block("no secrets") if "sk-" in request.text else aigw.allow()
    """

    def wrap(f: CheckFn) -> Guardrail:
        return _FunctionGuardrail(
            f, name=name, stage=stage, priority=priority, timeout=timeout, on_error=on_error
        )

    return wrap(fn) if fn is not None else wrap


@dataclass
class GuardrailStats:
    runs: int = 0
    blocks: int = 0
    rewrites: int = 0
    errors: int = 0
    timeouts: int = 0
    total_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "blocks": self.blocks,
            "rewrites": self.rewrites,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "total_ms": round(self.total_ms, 3),
        }
