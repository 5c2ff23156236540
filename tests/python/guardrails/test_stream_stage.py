"""The stream stage (docs/guardrails.md, docs/guardrails-python.md), built-in and Python
guardrails alike, over real sockets: windows that see text split across chunks, redaction,
hold, rewrite, block before and after text went out, a retried stream, that a slow Python check
batches what queued behind it and never stalls other requests, and clients that leave."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
from _util import mock_config, mock_route, wait_until

import aigw

SECRET = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
KEY = re.compile(r"sk-[A-Za-z0-9]{8,}")


def post_stream(
    gw: aigw.Gateway, text: str, chunks: int, delay_ms: int = 0, path: str = "/v1/chat/completions"
) -> httpx.Response:
    """A streamed request whose mock answer is `text` in `chunks` chunks."""
    body: dict[str, Any] = {"model": "m", "stream": True}
    if path.endswith("chat/completions"):
        body["messages"] = [{"role": "user", "content": "x"}]
    else:
        body["prompt"] = "x"
    headers = {
        "x-mock-response": text,
        "x-mock-chunks": str(chunks),
        "x-mock-chunk-delay-ms": str(delay_ms),
    }
    return httpx.post(gw.url + path, json=body, headers=headers, timeout=10)


def stream_text(r: httpx.Response, key: str = "content") -> tuple[str, list[dict[str, Any]]]:
    """The text of a streamed answer (delta.content or text) and its events (without [DONE])."""
    text, events = "", []
    for line in r.text.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        events.append(ev)
        for ch in ev.get("choices", []):
            piece = ch.get("delta", {}).get("content") if key == "content" else ch.get("text")
            text += piece or ""
    return text, events


def stream(
    gw: aigw.Gateway, text: str, chunks: int, delay_ms: int = 0, model: str = "m"
) -> list[str]:
    """The content pieces the SDK yields for a mock answer of `text` in `chunks` chunks."""
    with openai.OpenAI(
        base_url=gw.url + "/v1", api_key="unused", max_retries=0, timeout=10
    ) as client:
        out = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            extra_headers={
                "x-mock-response": text,
                "x-mock-chunks": str(chunks),
                "x-mock-chunk-delay-ms": str(delay_ms),
            },
        )
        return [c.choices[0].delta.content or "" for c in out if c.choices]


class NoKeys(aigw.Guardrail):
    """Redacts secret-looking keys in streamed answers, the way StreamWindow.redact does it."""

    stages = ("stream",)

    def __init__(self) -> None:
        super().__init__()
        self.windows: list[tuple[str, bool]] = []

    async def check_stream(self, window: aigw.StreamWindow) -> aigw.Verdict:
        self.windows.append((window.text, window.final))
        return window.redact(KEY, "[KEY]")


@dataclass(frozen=True)
class StreamGuard:
    """A guardrail of the stream stage, as one kind or the other would be set up."""

    name: str
    config: dict[str, Any]  # the gateway's config: a built-in guardrail is in it
    python: tuple[aigw.Guardrail, ...] = ()  # Python guardrails given to the Gateway


def redactor(kind: str) -> tuple[StreamGuard, str]:
    """A guardrail that redacts keys in streams, and what it puts in their place."""
    if kind == "regex":
        guard = {
            "name": "secrets-out",
            "kind": "regex",
            "stage": ["output", "stream"],
            "action": "redact",
            "presets": ["secrets", "email"],
            "default": True,
        }
        config = {**mock_config(), "guardrails": [guard]}
        return StreamGuard("secrets-out", config), "[REDACTED:secret]"
    return StreamGuard("NoKeys", mock_config(), (NoKeys(),)), "[KEY]"


def blocker(kind: str) -> tuple[StreamGuard, str]:
    """A guardrail that blocks streams that say "launch codes", and its error code."""
    if kind == "phrases":
        guard = {
            "name": "codes",
            "kind": "phrases",
            "stage": "stream",
            "phrases": ["launch codes"],
            "default": True,
        }
        return StreamGuard("codes", {**mock_config(), "guardrails": [guard]}), "content_blocked"

    @aigw.guardrail(stages="stream", name="codes")
    async def codes(window: aigw.StreamWindow) -> aigw.Verdict:
        if "launch codes" in window.text:
            return aigw.block("no codes", code="no_codes")
        return aigw.allow()

    return StreamGuard("codes", mock_config(), (codes,)), "no_codes"


# ---------------------------------------------------------------------------------------- redaction


@pytest.mark.parametrize("kind", ["regex", "python"])
@pytest.mark.parametrize("delay", [0, 1])
@pytest.mark.parametrize("chunks", [2, 5, 17, 60])
def test_a_stream_guardrail_redacts_a_secret_split_across_chunks(
    guarded: Callable[..., aigw.Gateway], chunks: int, delay: int, kind: str
) -> None:
    guard, replacement = redactor(kind)
    gw = guarded(*guard.python, config=guard.config)
    text = f"Your key is {SECRET} and that is all there is to say about it."
    r = post_stream(gw, text, chunks, delay)
    assert r.status_code == 200, r.text
    assert "text/event-stream" in r.headers["content-type"]
    assert "sk-abc" not in r.text and "ABCD" not in r.text
    got, events = stream_text(r)
    assert got == text.replace(SECRET, replacement)
    assert r.text.rstrip().endswith("data: [DONE]")
    assert events[-1]["choices"][0]["finish_reason"] == "stop" or events[-1].get("usage")
    [record] = wait_until(gw.logs, what="the request's record")
    [result] = [g for g in record["guardrails"] if g["name"] == guard.name]
    assert result["stage"] == "stream" and result["verdict"] == "redact"
    assert gw.stats()["guardrails"][guard.name]["runs"] == 1  # a stream counts once
    for keys in guard.python:
        assert isinstance(keys, NoKeys)
        # Every window was checked before any of it left, and only the last one was final.
        windows = keys.windows
        assert windows and windows[-1][1] and not any(f for _, f in windows[:-1])


def test_a_completions_stream_is_redacted_too(guarded: Callable[..., aigw.Gateway]) -> None:
    guard, _ = redactor("regex")
    gw = guarded(*guard.python, config=guard.config)
    r = post_stream(gw, f"mail alice@example.org now, key {SECRET}.", 9, path="/v1/completions")
    assert r.status_code == 200, r.text
    got, _ = stream_text(r, key="text")
    assert got == "mail [REDACTED:email] now, key [REDACTED:secret]."


# ------------------------------------------------------------------------------------------- blocks


@pytest.mark.parametrize("kind", ["phrases", "python"])
def test_a_stream_block_before_and_after_text_went_out(
    guarded: Callable[..., aigw.Gateway], kind: str
) -> None:
    guard, code = blocker(kind)
    gw = guarded(*guard.python, config=guard.config)
    # After text went out: an error event ends the stream, with nothing of the match.
    text = "Sure. " * 30 + "The launch codes are 0000." + " More." * 5
    r = post_stream(gw, text, 40, delay_ms=2)
    assert r.status_code == 200 and "launch" not in r.text
    last = [line for line in r.text.splitlines() if line.startswith("data: ")][-1]
    assert json.loads(last[6:])["error"]["code"] == code
    # Blocked before anything went out: a plain error response.
    r = post_stream(gw, "launch codes", 2)
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == code
    assert gw.stats()["guardrails"][guard.name]["blocks"] == 2


def test_a_retried_stream_does_not_carry_the_failed_attempts_held_text(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    # The first target drops the stream after 3 events; everything it sent was still held
    # in the window (so the head was too), and the retry on the second target starts afresh.
    g = make_gateway(
        {
            "server": {"workers": 1},
            "providers": {"bad": {"kind": "mock", "reset_after": 3}, "good": {"kind": "mock"}},
            "routes": [
                {
                    "name": "*",
                    "strategy": "fallback",
                    "targets": [{"provider": "bad"}, {"provider": "good"}],
                    "retry": {"attempts": 2, "backoff": 0.001},
                    "circuit_breaker": {"enabled": False},
                }
            ],
            "guardrails": [
                {
                    "name": "keys",
                    "kind": "regex",
                    "stage": "stream",
                    "action": "redact",
                    "presets": ["secrets"],
                    "window": 200,
                    "default": True,
                },
            ],
        }
    )
    text = "one two three four five six seven eight"
    r = post_stream(g, text, 8)
    assert r.status_code == 200, r.text
    assert r.headers["x-aigw-attempts"] == "2"
    got, _ = stream_text(r)
    assert got == text


# ------------------------------------------------------------------- Python: windows, hold, rewrite


def test_hold_keeps_text_back_until_the_guardrail_lets_it_go(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    seen: list[str] = []

    @aigw.guardrail(stages="stream", window=0)
    async def sentences(window: aigw.StreamWindow) -> aigw.Verdict:
        # Only whole sentences go out: hold back whatever follows the last full stop.
        seen.append(window.text)
        cut = window.text.rfind(".") + 1
        return aigw.hold(len(window.text) - cut)

    gw = guarded(sentences)
    text = "One two three. Four five six. Seven"
    pieces = [p for p in stream(gw, text, 12, delay_ms=2) if p]
    assert "".join(pieces) == text
    assert pieces[:2] == ["One two three.", " Four five six."]  # whole sentences only
    assert pieces[2] == " Seven"  # the final window cannot be held
    assert len(seen) >= 3


def test_a_rewrite_replaces_the_window(guarded: Callable[..., aigw.Gateway]) -> None:
    @aigw.guardrail(stages="stream", window=0)
    def shout(window: aigw.StreamWindow) -> aigw.Verdict:
        return aigw.rewrite(text=window.text.upper())

    gw = guarded(shout)
    assert "".join(stream(gw, "quiet words here", 4)) == "QUIET WORDS HERE"


# ---------------------------------------------------------- Python: slow checks, clients that leave


def test_a_slow_check_batches_what_queued_behind_it(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    windows: list[str] = []

    @aigw.guardrail(stages="stream", window=0)
    async def slow(window: aigw.StreamWindow) -> aigw.Verdict:
        windows.append(window.text)
        await asyncio.sleep(0.05)
        return aigw.allow()

    gw = guarded(slow)
    text = " ".join(f"w{i}" for i in range(60))
    t0 = time.monotonic()
    assert "".join(stream(gw, text, 60, delay_ms=1)) == text
    took = time.monotonic() - t0
    # One check per chunk would take 60 x 50 ms; a check covers what arrived while the one
    # before it ran.
    assert len(windows) < 30 and took < 2.5
    assert "".join(windows) == text


def test_a_slow_stream_check_does_not_stall_other_requests(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    @aigw.guardrail(stages="stream")
    async def slow(window: aigw.StreamWindow) -> aigw.Verdict:
        if window.request.model == "slow":
            await asyncio.sleep(1.0)
        return aigw.allow()

    gw = guarded(slow, workers=1)
    results: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: results.append("".join(stream(gw, "a b c", 3, model="slow")))
        )
        for _ in range(10)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while httpx.get(gw.url + "/health", timeout=5).json()["requests_in_flight"] < 11:
        assert time.monotonic() < deadline
    t1 = time.monotonic()
    assert "".join(stream(gw, "quick one", 2)) == "quick one"
    assert time.monotonic() - t1 < 0.8  # not behind the 1 s checks
    for t in threads:
        t.join()
    assert results == ["a b c"] * 10


def test_a_client_that_leaves_mid_check_cancels_it(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    started, cancelled = threading.Event(), threading.Event()

    @aigw.guardrail(stages="stream", timeout=30)
    async def waits(window: aigw.StreamWindow) -> aigw.Verdict:
        started.set()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return aigw.allow()

    gw = guarded(waits)
    # The stream's head waits for its first text, so the client gives up on reading it.
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            gw.url + "/v1/chat/completions",
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
            headers={"x-mock-response": "some text", "x-mock-chunks": "2"},
            timeout=httpx.Timeout(10, read=0.5),
        )
    assert started.is_set()
    assert cancelled.wait(3)
    [record] = wait_until(gw.logs, what="the request's record")
    assert record["client_aborted"]
    [result] = record["guardrails"]  # the check that was cut short, booked as such
    assert result["name"] == "waits" and result["verdict"] == "cancelled"
    assert gw.stats()["guardrails"]["waits"]["runs"] == 1


def test_python_stream_guardrails_from_the_config(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    config = mock_config()
    config["guardrails"] = [
        {
            "name": "keys",
            "kind": "python",
            "hook": "guardrail_hooks:KeysInStreams",
            "stage": "stream",
            "window": 80,
        }
    ]
    config["routes"].insert(0, {**mock_route("guarded"), "guardrails": ["keys"]})
    gw = make_gateway(config)
    text = f"take {SECRET} please"
    assert "".join(stream(gw, text, 30, model="guarded")) == "take [KEY] please"
    assert "".join(stream(gw, text, 30)) == text  # the other routes do not select it
    assert gw.stats()["guardrails"]["keys"]["redactions"] == 1
