"""Sync Python hooks (plain ``def`` guardrail checks and cost hooks) share a small pool of
threads (python/aigw/_sync_hooks.py): a stuck hook must not starve the others, timeouts are
answered on time, queued calls never run late, and threads stuck past their timeout are
written off up to a cap, past which that hook fails fast (issue 11, defect 4)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import guardrail_hooks
import httpx
import pytest
from _util import mock_config, mock_route, wait_until

import aigw
from aigw._sync_hooks import SyncHookPool, SyncHookRejected

SLOW, FAST = "slow-route", "fast-route"
TIMEOUT = 0.5
# Generous: the bound is "on time", not "fast"; a loaded 2-core machine adds scheduling delay,
# but not the seconds a starved or overshooting pool took (3.1 s and 1.2 s in the issue).
MARGIN = 0.45


def routes_config() -> dict[str, Any]:
    """A route whose sync guardrail gets stuck past its 0.5 s timeout, and one whose sync
    guardrail is quick."""
    config = mock_config()
    config["guardrails"] = [
        {"name": "stuck", "kind": "python", "hook": "guardrail_hooks:stuck", "timeout": TIMEOUT},
        {"name": "quick", "kind": "python", "hook": "guardrail_hooks:quick", "timeout": 2},
    ]
    config["routes"].insert(0, {**mock_route(SLOW), "guardrails": ["stuck"]})
    config["routes"].insert(0, {**mock_route(FAST), "guardrails": ["quick"]})
    return config


@pytest.fixture
def stuck_hook() -> Iterator[None]:
    """Arms guardrail_hooks.stuck; lets every stuck thread go at teardown."""
    guardrail_hooks.stuck_release.clear()
    while guardrail_hooks.stuck_entered.acquire(blocking=False):
        pass
    yield
    guardrail_hooks.stuck_release.set()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    with httpx.Client(timeout=15, limits=limits) as c:
        yield c


def timed_chat(
    client: httpx.Client, gw: aigw.Gateway, model: str, text: str = "hello"
) -> tuple[float, httpx.Response]:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    t0 = time.monotonic()
    r = client.post(gw.url + "/v1/chat/completions", json=body)
    return time.monotonic() - t0, r


def sync_stats(gw: aigw.Gateway, hook: str) -> dict[str, int]:
    counters: dict[str, int] = gw.stats()["hooks"]["sync"]["by_hook"][hook]
    return counters


# --------------------------------------------------------------------------- over HTTP


def test_a_stuck_sync_guardrail_does_not_starve_another_routes_guardrail(
    stuck_hook: None, client: httpx.Client, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    # The scenario: thirty requests hit a sync guardrail stuck far past its 0.5 s
    # timeout while another route's sync guardrail keeps answering.
    gw = make_gateway(routes_config())
    assert timed_chat(client, gw, FAST)[1].status_code == 200  # warm: connections, threads
    fast: list[tuple[float, httpx.Response]] = []
    with ThreadPoolExecutor(max_workers=30) as senders:
        slow = [senders.submit(timed_chat, client, gw, SLOW) for _ in range(30)]
        assert guardrail_hooks.stuck_entered.acquire(timeout=5)  # threads are stuck now
        # The fast route's checks go on through the slow one's timeouts and write-offs.
        while not all(f.done() for f in slow) or len(fast) < 10:
            fast.append(timed_chat(client, gw, FAST))
        blocked = timed_chat(client, gw, FAST, "baz")
        slow_results = [f.result() for f in slow]

    fast_took = sorted(took for took, _ in fast)
    assert all(r.status_code == 200 for _, r in fast)
    assert fast_took[-1] < 0.5, fast_took[-5:]  # each well under a second, none queued
    assert blocked[1].status_code == 400 and blocked[0] < 0.5  # its verdict counts too

    slow_took = sorted(took for took, _ in slow_results)
    for _, r in slow_results:
        assert r.status_code == 503
        error = r.json()["error"]
        assert error["code"] == "guardrail_error"
        # Answered at the timeout: by Python, or by the C++ backstop 0.1 s later when the hook
        # thread could not run in time (a busy machine); never when the thread returned.
        assert (
            f"timed out after {TIMEOUT:g} s" in error["message"]
            or "no verdict came within 600 ms" in error["message"]
        ), error
    assert slow_took[0] > TIMEOUT - 0.05
    assert slow_took[-1] < TIMEOUT + MARGIN, slow_took[-5:]

    stats = gw.stats()
    assert stats["guardrails"]["stuck"]["timeouts"] == 30
    stuck = stats["hooks"]["sync"]["by_hook"]["guardrail:stuck"]
    assert stuck["calls"] == 30 and stuck["timeouts"] == 30 and stuck["queued"] == 0
    # Two ran at once (its share of the four threads); each was written off at its deadline
    # (a replacement may have started another queued call in the time it had left). The
    # rest never started: dropped at their deadline instead of running late.
    assert 2 <= stuck["abandoned_total"] <= 4
    assert stuck["expired_in_queue"] == 30 - stuck["abandoned_total"] - stuck["running"]
    quick = stats["hooks"]["sync"]["by_hook"]["guardrail:quick"]
    assert quick["calls"] == len(fast) + 2 and quick["timeouts"] == 0


def test_a_hook_with_too_many_threads_stuck_fails_fast_until_one_returns(
    stuck_hook: None, client: httpx.Client, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    gw = make_gateway(routes_config())
    cap = gw.stats()["hooks"]["sync"]["max_abandoned_per_hook"]
    share = gw.stats()["hooks"]["sync"]["share"]
    with ThreadPoolExecutor(max_workers=share) as senders:
        while sync_stats(gw, "guardrail:stuck")["abandoned"] < cap:
            # A wave that fills the hook's share; each call is written off at its timeout.
            wave = [senders.submit(timed_chat, client, gw, SLOW) for _ in range(share)]
            for f in wave:
                took, r = f.result()
                assert r.status_code == 503 and took < TIMEOUT + MARGIN
    assert sync_stats(gw, "guardrail:stuck")["abandoned"] == cap

    # At its cap the hook is refused at once (its on_error decides: fail closed) instead of
    # queueing; the other route does not notice.
    took, r = timed_chat(client, gw, SLOW)
    assert r.status_code == 503 and took < TIMEOUT
    assert "rejected" in r.json()["error"]["message"] and "past their timeout" in str(r.json())
    took, r = timed_chat(client, gw, FAST)
    assert r.status_code == 200 and took < 0.5
    counters = sync_stats(gw, "guardrail:stuck")
    assert counters["rejected"] == 1 and counters["abandoned_total"] == cap
    assert gw.stats()["guardrails"]["stuck"]["errors"] >= cap + 1

    # Once its threads return, the hook runs again.
    guardrail_hooks.stuck_release.set()
    wait_until(lambda: sync_stats(gw, "guardrail:stuck")["abandoned"] == 0, what="stuck threads")
    took, r = timed_chat(client, gw, SLOW)
    assert r.status_code == 200
    assert gw.stats()["hooks"]["sync"]["live_threads"] <= 4  # no thread kept past the pool's size


def test_a_stuck_sync_cost_hook_answers_on_time_and_leaves_the_guardrails_threads(
    client: httpx.Client, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    release = threading.Event()

    def stuck_cost(ctx: aigw.CostContext) -> float:
        release.wait(10)
        return 1.0

    @aigw.guardrail(name="quick")
    def quick(request: aigw.Request) -> aigw.Verdict:
        return aigw.allow()

    config = mock_config()
    config["cost"] = {"timeout": TIMEOUT}
    gw = make_gateway(config, cost_hook=stuck_cost, guardrails=[quick])
    try:
        with ThreadPoolExecutor(max_workers=8) as senders:
            priced = [senders.submit(timed_chat, client, gw, "mock-gpt") for _ in range(8)]
            wait_until(lambda: sync_stats(gw, "cost")["running"] == 2, what="stuck cost hooks")
            # The cost hook holds its share; the guardrail still finds a thread at once.
            assert sync_stats(gw, "guardrail:quick")["timeouts"] == 0
            results = [f.result() for f in priced]
        for took, r in results:
            assert r.status_code == 200 and took < TIMEOUT + MARGIN
        stats = gw.stats()
        assert stats["cost_hook"]["timeouts"] == 8 and stats["cost_hook"]["backstop_timeouts"] == 0
        assert stats["guardrails"]["quick"]["timeouts"] == 0
    finally:
        release.set()


# --------------------------------------------------------------------------- the pool itself


class Gate:
    """A sync hook that waits for the test: records the calls that ran."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.ran: list[Any] = []

    def __call__(self, arg: Any) -> Any:
        self.ran.append(arg)
        self.release.wait(10)
        return arg


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    yield g
    g.release.set()


async def test_a_queued_call_counts_its_wait_and_is_dropped_at_its_deadline(gate: Gate) -> None:
    pool = SyncHookPool(asyncio.get_running_loop(), threads=1)
    try:
        running = pool.call("a", gate, "first", 10)
        await asyncio.to_thread(wait_until, lambda: gate.ran)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            await pool.call("a", gate, "queued", 0.2)
        assert 0.15 < time.monotonic() - t0 < 0.2 + MARGIN  # the queue time counted
        gate.release.set()
        assert await running == "first"
        assert await pool.call("a", gate, "later", 2) == "later"
        assert gate.ran == ["first", "later"]  # the expired call never ran, not even late
        counters = pool.stats()["by_hook"]["a"]
        assert counters["expired_in_queue"] == 1 and counters["timeouts"] == 1
        assert counters["abandoned_total"] == 0
    finally:
        pool.shutdown()


async def test_a_call_past_its_deadline_is_written_off_and_replaced(gate: Gate) -> None:
    pool = SyncHookPool(asyncio.get_running_loop(), threads=1, share=1)
    try:
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            await pool.call("a", gate, "stuck", 0.2)
        assert time.monotonic() - t0 < 0.2 + MARGIN
        stats = pool.stats()
        assert stats["abandoned"] == 1 and stats["live_threads"] == 0
        # Its thread no longer counts: another call starts at once on a replacement.
        assert await pool.call("b", lambda x: x * 2, 21, 1) == 42
        assert pool.stats()["by_hook"]["a"]["abandoned_total"] == 1
        gate.release.set()
        await asyncio.to_thread(wait_until, lambda: pool.stats()["abandoned"] == 0)
        assert pool.stats()["live_threads"] == 1  # the stuck thread left: the pool's size kept
    finally:
        pool.shutdown()


async def test_one_hook_runs_at_most_its_share_and_others_take_turns(gate: Gate) -> None:
    pool = SyncHookPool(asyncio.get_running_loop(), threads=4)
    try:
        assert pool.stats()["share"] == 2
        hogs = [pool.call("hog", gate, i, 10) for i in range(6)]
        await asyncio.to_thread(wait_until, lambda: len(gate.ran) == 2)
        hog = pool.stats()["by_hook"]["hog"]
        assert hog["running"] == 2 and hog["queued"] == 4
        t0 = time.monotonic()
        assert await asyncio.gather(*(pool.call("other", str, i, 1) for i in range(5))) == [
            str(i) for i in range(5)
        ]
        assert time.monotonic() - t0 < 0.5
        gate.release.set()
        assert await asyncio.gather(*hogs) == list(range(6))
    finally:
        pool.shutdown()


async def test_a_hook_at_its_cap_of_stuck_threads_is_rejected(gate: Gate) -> None:
    pool = SyncHookPool(asyncio.get_running_loop(), threads=2, max_abandoned_per_hook=2)
    try:
        for i in range(2):
            with pytest.raises(TimeoutError):
                await pool.call("stuck", gate, i, 0.05)
        assert pool.stats()["by_hook"]["stuck"]["abandoned"] == 2
        with pytest.raises(SyncHookRejected, match="still running past their timeout"):
            await pool.call("stuck", gate, "refused", 1)
        assert await pool.call("fine", str, 1, 1) == "1"  # other hooks are not refused
        assert pool.stats()["by_hook"]["stuck"]["rejected"] == 1
        gate.release.set()
        await asyncio.to_thread(wait_until, lambda: pool.stats()["abandoned"] == 0)
        assert await pool.call("stuck", gate, "again", 1) == "again"
        assert gate.ran == [0, 1, "again"]
    finally:
        pool.shutdown()


async def test_at_the_pools_cap_a_timeout_is_still_answered_on_time(gate: Gate) -> None:
    pool = SyncHookPool(asyncio.get_running_loop(), threads=1, max_abandoned=1)
    try:
        with pytest.raises(TimeoutError):
            await pool.call("a", gate, "written off", 0.05)
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):  # no more write-offs: answered, thread kept counted
            await pool.call("b", gate, "held", 0.1)
        assert time.monotonic() - t0 < 0.1 + MARGIN
        stats = pool.stats()
        assert stats["abandoned"] == 1 and stats["live_threads"] == 1 and stats["running"] == 1
        # "a" has a written-off thread and the pool is at its cap: refused. "c" has none: it
        # queues (behind "b", which holds the only thread) and expires on time.
        with pytest.raises(SyncHookRejected):
            await pool.call("a", gate, "refused", 1)
        with pytest.raises(TimeoutError):
            await pool.call("c", gate, "waits", 0.05)
        gate.release.set()
        assert await pool.call("c", str, 5, 1) == "5"
    finally:
        pool.shutdown()


async def test_a_cancelled_call_that_has_not_started_never_runs(gate: Gate) -> None:
    pool = SyncHookPool(asyncio.get_running_loop(), threads=1)
    try:
        first = pool.call("a", gate, "first", 10)
        await asyncio.to_thread(wait_until, lambda: gate.ran)
        queued = pool.call("a", gate, "cancelled", 10)
        queued.cancel()
        gate.release.set()
        assert await first == "first"
        assert await pool.call("a", gate, "next", 1) == "next"
        assert gate.ran == ["first", "next"]
    finally:
        pool.shutdown()


async def test_errors_reach_the_caller_and_shutdown_lets_idle_threads_go() -> None:
    before = set(threading.enumerate())
    pool = SyncHookPool(asyncio.get_running_loop(), threads=2)

    def boom(arg: Any) -> Any:
        raise ValueError(arg)

    with pytest.raises(ValueError, match="bad"):
        await pool.call("a", boom, "bad", 1)
    ours = set(threading.enumerate()) - before
    assert ours and all(t.name.startswith("aigw-guardrail") for t in ours)
    pool.shutdown()
    wait_until(lambda: not any(t.is_alive() for t in ours), what="idle threads to go")
    with pytest.raises(SyncHookRejected, match="stopped"):
        await pool.call("a", str, 1, 1)
