"""What a guardrail decides: :class:`Verdict` and the functions that build one (:func:`allow`,
:func:`block`, :func:`rewrite`, :func:`redact`, :func:`hold`), and how a rewrite's body fields
apply to a request body. Public through ``aigw.guardrails`` and ``aigw``."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Verdict:
    """What a guardrail decided. Build it with :func:`allow`, :func:`block`, :func:`rewrite`,
    :func:`redact` or :func:`hold`."""

    action: Literal["allow", "block", "rewrite", "redact"]
    message: str = ""
    # block: None takes the guardrail's configured ``block`` (400, invalid_request_error,
    # content_blocked unless the config says otherwise)
    status: int | None = None
    type: str | None = None
    code: str | None = None
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
    status: int | None = None,
    type: str | None = None,  # noqa: A002 - OpenAI's field name
    code: str | None = None,
) -> Verdict:
    """Refuse the request (or the answer): the client gets an OpenAI-shaped error with this
    status, message, type and code. What is left out comes from the guardrail's ``block``
    config (by default 400, ``invalid_request_error``, ``content_blocked``, and a message naming
    the guardrail: "the request was blocked by guardrail 'name'"; "the response ..." at the
    output stage)."""
    if status is not None and not 400 <= status <= 599:
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
