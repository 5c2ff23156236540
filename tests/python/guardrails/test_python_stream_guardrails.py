"""Python guardrails at the stream stage, over real sockets with the official openai SDK:
windows that see text split across chunks, redaction, hold, rewrite, block, failures, that a
slow check batches what queued behind it, and that it never stalls other requests."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from _util import mock_config, mock_route, wait_until

import aigw

SECRET = "sk-abcdefghijklmnopqrstuvwxyzABCD0123456789"
KEY = re.compile(r"sk-[A-Za-z0-9]{8,}")


def start(
    make_gateway: Callable[..., aigw.Gateway], *guardrails: aigw.Guardrail, **kw: Any
) -> aigw.Gateway:
    return make_gateway(mock_config(), guardrails=list(guardrails), **kw)


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


@pytest.mark.parametrize("delay", [0, 1])
@pytest.mark.parametrize("chunks", [2, 5, 17, 60])
def test_a_python_stream_guardrail_redacts_a_secret_split_across_chunks(
    make_gateway: Callable[..., aigw.Gateway], chunks: int, delay: int
) -> None:
    guard = NoKeys()
    gw = start(make_gateway, guard)
    text = f"Your key is {SECRET} and that is all there is to say about it."
    pieces = stream(gw, text, chunks, delay)
    assert "".join(pieces) == text.replace(SECRET, "[KEY]")
    assert not any("sk-" in p or "ABCD" in p for p in pieces)
    # Every window was checked before any of it left, and only the last one was final.
    assert guard.windows and guard.windows[-1][1] and not any(f for _, f in guard.windows[:-1])
    [record] = wait_until(gw.logs, what="the request's record")
    [result] = [g for g in record["guardrails"] if g["name"] == "NoKeys"]
    assert result["stage"] == "stream" and result["verdict"] == "redact"
    assert gw.stats()["guardrails"]["NoKeys"]["runs"] == 1  # a stream counts once


def test_stream_window_redact_holds_a_match_that_may_still_grow() -> None:
    w = aigw.StreamWindow(f"a {SECRET} b sk-1234567890")
    v = w.redact(KEY)
    assert v.action == "redact" and v.redactions == ((SECRET, "[REDACTED]"),)
    assert v.hold == len("sk-1234567890")  # it reaches the end: maybe not whole yet
    assert aigw.StreamWindow("x sk-1234567890").redact(KEY) == aigw.hold(13)
    final = aigw.StreamWindow("x sk-1234567890", final=True).redact(KEY, "#")
    assert final.redactions == (("sk-1234567890", "#"),) and final.hold is None
    assert aigw.StreamWindow("nothing here").redact(KEY) == aigw.allow()
    with pytest.raises(ValueError):
        aigw.hold(-1)
    with pytest.raises(ValueError):
        aigw.StreamWindow("x").request  # noqa: B018 - built without one


def test_hold_keeps_text_back_until_the_guardrail_lets_it_go(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    seen: list[str] = []

    @aigw.guardrail(stages="stream", window=0)
    async def sentences(window: aigw.StreamWindow) -> aigw.Verdict:
        # Only whole sentences go out: hold back whatever follows the last full stop.
        seen.append(window.text)
        cut = window.text.rfind(".") + 1
        return aigw.hold(len(window.text) - cut)

    gw = start(make_gateway, sentences)
    text = "One two three. Four five six. Seven"
    pieces = [p for p in stream(gw, text, 12, delay_ms=2) if p]
    assert "".join(pieces) == text
    assert pieces[:2] == ["One two three.", " Four five six."]  # whole sentences only
    assert pieces[2] == " Seven"  # the final window cannot be held
    assert len(seen) >= 3


def test_a_rewrite_replaces_the_window(make_gateway: Callable[..., aigw.Gateway]) -> None:
    @aigw.guardrail(stages="stream", window=0)
    def shout(window: aigw.StreamWindow) -> aigw.Verdict:
        return aigw.rewrite(text=window.text.upper())

    gw = start(make_gateway, shout)
    assert "".join(stream(gw, "quiet words here", 4)) == "QUIET WORDS HERE"


def test_a_stream_block_before_and_after_text_went_out(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    @aigw.guardrail(stages="stream", name="codes")
    async def codes(window: aigw.StreamWindow) -> aigw.Verdict:
        if "launch codes" in window.text:
            return aigw.block("no codes", code="no_codes")
        return aigw.allow()

    gw = start(make_gateway, codes)
    # Before any text left: a plain error response (the SDK raises).
    with pytest.raises(openai.BadRequestError) as err:
        stream(gw, "launch codes", 2)
    assert err.value.code == "no_codes"
    # After text went out: an error event ends the stream, with nothing of the match.
    text = "Sure. " * 30 + "The launch codes are 0000." + " More." * 5
    r = httpx.post(
        gw.url + "/v1/chat/completions",
        json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        headers={"x-mock-response": text, "x-mock-chunks": "40", "x-mock-chunk-delay-ms": "2"},
        timeout=10,
    )
    assert r.status_code == 200 and "launch" not in r.text
    last = [line for line in r.text.splitlines() if line.startswith("data: ")][-1]
    assert json.loads(last[6:])["error"]["code"] == "no_codes"
    assert gw.stats()["guardrails"]["codes"]["blocks"] == 2


def test_raising_and_timing_out_fail_closed_in_a_stream(
    make_gateway: Callable[..., aigw.Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    @aigw.guardrail(stages="stream", name="raiser")
    def raiser(window: aigw.StreamWindow) -> aigw.Verdict:
        if "boom" in window.text:
            raise RuntimeError("kaboom")
        return aigw.allow()

    @aigw.guardrail(stages="stream", name="sleepy", timeout=0.2)
    async def sleepy(window: aigw.StreamWindow) -> aigw.Verdict:
        if "sleep" in window.text:
            await asyncio.sleep(5)
        return aigw.allow()

    @aigw.guardrail(stages="stream", name="lenient", on_error="allow", priority=1)
    def lenient(window: aigw.StreamWindow) -> aigw.Verdict:
        raise ValueError("ignored")

    gw = start(make_gateway, raiser, sleepy, lenient)
    with caplog.at_level("ERROR", logger="aigw.guardrails"):
        with pytest.raises(openai.InternalServerError) as err:
            stream(gw, "boom goes the answer", 3)
        assert err.value.status_code == 503 and "kaboom" in str(err.value)
        t0 = time.monotonic()
        with pytest.raises(openai.InternalServerError) as err:
            stream(gw, "sleep now", 2)
        assert "timed out" in str(err.value)
        assert time.monotonic() - t0 < 2
        assert "".join(stream(gw, "all fine here", 3)) == "all fine here"
    assert any("raiser" in rec.getMessage() for rec in caplog.records)
    stats = gw.stats()["guardrails"]
    assert stats["raiser"]["errors"] == 1 and stats["sleepy"]["timeouts"] == 1
    assert stats["lenient"]["errors"] >= 1


def test_a_slow_check_batches_what_queued_behind_it(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    windows: list[str] = []

    @aigw.guardrail(stages="stream", window=0)
    async def slow(window: aigw.StreamWindow) -> aigw.Verdict:
        windows.append(window.text)
        await asyncio.sleep(0.05)
        return aigw.allow()

    gw = start(make_gateway, slow)
    text = " ".join(f"w{i}" for i in range(60))
    t0 = time.monotonic()
    assert "".join(stream(gw, text, 60, delay_ms=1)) == text
    took = time.monotonic() - t0
    # One check per chunk would take 60 x 50 ms; a check covers what arrived while the one
    # before it ran.
    assert len(windows) < 30 and took < 2.5
    assert "".join(windows) == text


def test_a_slow_stream_check_does_not_stall_other_requests(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    @aigw.guardrail(stages="stream")
    async def slow(window: aigw.StreamWindow) -> aigw.Verdict:
        if window.request.model == "slow":
            await asyncio.sleep(1.0)
        return aigw.allow()

    gw = start(make_gateway, slow, workers=1)
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
    make_gateway: Callable[..., aigw.Gateway],
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

    gw = start(make_gateway, waits)
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
