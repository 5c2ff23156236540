"""Request events: callbacks after each completed or failed request, never on the data path."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from _util import mock_config

import aigw


def wait_for(pred: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def chat(gw: aigw.Gateway, **headers: str) -> httpx.Response:
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(gw.url + "/v1/chat/completions", json=body, headers=headers, timeout=10)


def test_completed_and_failed_callbacks_get_the_records() -> None:
    done: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    threads: set[str] = set()

    def on_done(record: dict[str, Any]) -> None:
        threads.add(threading.current_thread().name)
        done.append(record)

    async def on_failed(record: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        failed.append(record)

    with aigw.Gateway(mock_config(), on_completed=on_done, on_failed=on_failed) as gw:
        ok = chat(gw)
        bad = chat(gw, **{"x-mock-status": "503"})
        missing = httpx.post(gw.url + "/v1/chat/completions", json={"model": "mock-gpt"})
        assert wait_for(lambda: len(done) == 1 and len(failed) == 2)
    assert done[0]["id"] == ok.headers["x-aigw-request-id"] and done[0]["status"] == 200
    assert {r["id"] for r in failed} == {
        bad.headers["x-aigw-request-id"],
        missing.headers["x-aigw-request-id"],
    }
    assert threads == {"aigw-events"}  # not a worker, not the caller


def test_a_slow_or_raising_callback_never_slows_requests(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def slow(record: dict[str, Any]) -> None:
        time.sleep(0.5)
        seen.append(record["id"])

    def broken(record: dict[str, Any]) -> None:
        raise RuntimeError("callback bug")

    gw = aigw.Gateway(mock_config())
    gw.on("completed", slow)
    gw.on("completed", broken)
    with gw, caplog.at_level("ERROR", logger="aigw.events"):
        t0 = time.monotonic()
        for _ in range(5):
            assert chat(gw).status_code == 200
        assert time.monotonic() - t0 < 1.0  # five requests, not five half-second callbacks
        assert wait_for(lambda: len(seen) == 5, timeout=10)
    assert any("callback" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="unknown event"):
        gw.on("finished", slow)  # type: ignore[arg-type]
