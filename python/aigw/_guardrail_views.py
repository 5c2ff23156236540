"""What a guardrail sees: :class:`Request` (input and during stages), :class:`Response` (output
stage) and :class:`StreamWindow` (stream stage). Each reads the gateway's JSON snapshot of a job
only when a check asks for a field, so a check that reads nothing costs nothing. Public through
``aigw.guardrails`` and ``aigw``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aigw._verdicts import Verdict, allow, hold, redact


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
