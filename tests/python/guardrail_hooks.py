"""Guardrails loaded by import path from test configs (`kind: python`, `hook: ...`), and the
ones several test modules hand to ``aigw.Gateway(guardrails=[...])``."""

from __future__ import annotations

import threading

import aigw


class NoWord(aigw.Guardrail):
    def __init__(self, word: str) -> None:
        super().__init__()
        self.word = word

    async def check(self, request: aigw.Request) -> aigw.Verdict:
        if self.word in request.text:
            return aigw.block(f"{self.word!r} is not allowed")
        return aigw.allow()

    def check_output(self, response: aigw.Response) -> aigw.Verdict:  # when the config says so
        if self.word in response.text:
            return aigw.block(f"{self.word!r} is not allowed in answers")
        return aigw.allow()


class NoForbidden(aigw.Guardrail):
    """Blocks requests that say "forbidden", with a status and code of its own."""

    def check(self, request: aigw.Request) -> aigw.Verdict:
        if "forbidden" in request.text:
            return aigw.block("forbidden words are not allowed", status=422, code="no_forbidden")
        return aigw.allow()


def no_bar(request: aigw.Request) -> aigw.Verdict:
    return aigw.block("no bar") if "bar" in request.text else aigw.allow()


def no_baz(request: aigw.Request) -> aigw.Verdict:
    """A block that says nothing: its guardrail's config answers for it."""
    return aigw.block() if "baz" in request.text else aigw.allow()


class KeysInStreams(aigw.Guardrail):
    """Redacts secret-looking keys in streamed answers (a stream-stage guardrail)."""

    stages = ("stream",)

    async def check_stream(self, window: aigw.StreamWindow) -> aigw.Verdict:
        return window.redact(r"sk-[A-Za-z0-9]{8,}", "[KEY]")


# A sync check stuck far past its timeout, as a slow model call or a lock would leave it. It
# blocks its thread until a test sets `stuck_release` (at most 10 s), so the suite leaves no
# sleeping threads behind; `stuck_entered` counts the calls that started.
stuck_release = threading.Event()
stuck_entered = threading.Semaphore(0)


def stuck(request: aigw.Request) -> aigw.Verdict:
    stuck_entered.release()
    stuck_release.wait(10)
    return aigw.allow()


def quick(request: aigw.Request) -> aigw.Verdict:
    return aigw.block("no baz") if "baz" in request.text else aigw.allow()
