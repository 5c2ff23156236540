"""aigw.Gateway's life: start, stop, drain, restart, leaks, asyncio, errors, introspection."""

from __future__ import annotations

import asyncio
import gc
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from _util import (
    CHAT_BODY,
    STOCK_ANSWER,
    RawConn,
    count_fds,
    count_tasks,
    free_port,
    mock_config,
    wait_until,
)

import aigw
from aigw import _core

STREAM_BODY = json.dumps(
    {"model": "mock-gpt", "stream": True, "messages": [{"role": "user", "content": "x"}]}
)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as ex:
        yield ex


def refused_or_503(port: int) -> bool:
    """True when a new connection is refused outright or answered 503 (shutting down)."""
    try:
        with RawConn(port, timeout=2) as c:
            return c.request("GET", "/health").status == 503
    except (ConnectionRefusedError, ConnectionResetError, EOFError, BrokenPipeError):
        return True


def health_ok(port: int) -> bool:
    with RawConn(port) as c:
        return c.request("GET", "/health").status == 200


# --------------------------------------------------------------------------- leaks


def test_start_stop_a_hundred_times_leaks_no_threads_or_fds() -> None:
    def cycle(i: int) -> None:
        gw = aigw.Gateway(workers=2).start()
        port = gw.port or 0
        if i % 10 == 0:
            # A keep-alive connection still open when stop(0) runs: forcibly closed.
            conn = RawConn(port)
            assert conn.request("GET", "/health").status == 200
            gw.stop(drain_timeout=0)
            assert conn.closed_by_peer(2)
            conn.close()
        else:
            assert health_ok(port)
            gw.stop(drain_timeout=1)

    cycle(0)  # warm-up: whatever is created once per process (libuv thread pool, caches)
    gc.collect()
    tasks0, fds0 = count_tasks(), count_fds()

    probe = aigw.Gateway(workers=2).start()
    assert count_tasks() == tasks0 + 3  # the counting sees a gateway's threads (+ its log thread)
    assert count_fds() > fds0  # ... and its sockets
    probe.stop()

    for i in range(100):
        cycle(i)
    gc.collect()
    assert count_tasks() == tasks0, "threads leaked"
    assert count_fds() == fds0, "file descriptors leaked"


def test_dropped_gateway_releases_threads_and_port() -> None:
    aigw.Gateway(workers=1).start().stop()  # warm-up
    gc.collect()
    tasks0, fds0 = count_tasks(), count_fds()
    gw = aigw.Gateway(workers=2).start()
    port = gw.port or 0
    assert health_ok(port)
    del gw
    gc.collect()
    assert count_tasks() == tasks0
    assert count_fds() == fds0
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass


def test_failed_start_leaks_nothing() -> None:
    aigw.Gateway(workers=1).start().stop()
    gc.collect()
    tasks0, fds0 = count_tasks(), count_fds()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        fds_with_holder = count_fds()
        for _ in range(20):
            with pytest.raises(OSError):
                aigw.Gateway(port=port, workers=3).start()
        assert count_fds() == fds_with_holder
    assert count_tasks() == tasks0
    assert count_fds() == fds0


# --------------------------------------------------------------------------- stop


def test_stop_is_idempotent_and_restart_works() -> None:
    gw = aigw.Gateway(workers=1)
    gw.stop()  # never started: a no-op
    gw.stop(drain_timeout=0)
    gw.start()
    assert gw.start() is gw  # starting a running gateway is a no-op too
    port = gw.port or 0
    assert health_ok(port)
    gw.stop()
    gw.stop()
    gw.stop(drain_timeout=0)
    assert not gw.running
    assert refused_or_503(port)
    gw.start()  # a stopped gateway starts again
    try:
        assert gw.running
        assert health_ok(gw.port or 0)
    finally:
        gw.stop()


def test_stop_drains_an_in_flight_request_and_refuses_new_ones(
    make_gateway: Callable[..., aigw.Gateway], pool: ThreadPoolExecutor
) -> None:
    gw = make_gateway()
    port, url = gw.port or 0, gw.url
    slow: Future[httpx.Response] = pool.submit(
        httpx.post,
        url + "/v1/chat/completions",
        content=CHAT_BODY,
        headers={"x-mock-latency-ms": "300", "x-mock-response": "drained"},
        timeout=10,
    )
    wait_until(lambda: gw.stats()["requests"] == 1, what="the slow request to be in flight")
    t0 = time.monotonic()
    stopping = pool.submit(gw.stop, 2)
    wait_until(lambda: refused_or_503(port), timeout=2, what="new connections to be refused")
    in_flight_when_refused = not slow.done()
    resp = slow.result(5)
    stopping.result(5)
    stopped_at = time.monotonic()
    assert in_flight_when_refused, "the request finished before the refusal was observed"
    assert resp.status_code == 200
    assert resp.json()["choices"][0]["message"]["content"] == "drained"
    assert resp.headers["connection"] == "close"
    # stop() returned once the request was done, not at the end of the 2 s drain timeout.
    assert stopped_at - t0 < 1.5
    assert not gw.running


def test_drain_waits_for_a_stream_to_finish(
    make_gateway: Callable[..., aigw.Gateway], pool: ThreadPoolExecutor
) -> None:
    gw = make_gateway()
    with httpx.Client(timeout=10) as http:
        with http.stream(
            "POST",
            gw.url + "/v1/chat/completions",
            content=STREAM_BODY,
            headers={"x-mock-chunk-delay-ms": "50", "x-mock-chunks": "6"},
        ) as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("data: ")
            stopping = pool.submit(gw.stop, 5)
            wait_until(lambda: refused_or_503(gw.port or 0), timeout=2, what="the drain")
            rest = list(lines)
        stopping.result(5)
    assert "data: [DONE]" in rest
    text = "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in rest
        if line.startswith("data: {")
    )
    assert text == "Hello! This is a mock answer"  # all six pieces arrived


@pytest.mark.parametrize(
    ("drain_timeout", "stall_after", "least", "most"),
    [(0, "2", 0.0, 0.5), (0.5, "3", 0.45, 2.0)],
    ids=["zero-returns-promptly", "bounds-the-wait"],
)
def test_the_drain_timeout_bounds_stop_with_a_stalled_stream(
    make_gateway: Callable[..., aigw.Gateway],
    drain_timeout: float,
    stall_after: str,
    least: float,
    most: float,
) -> None:
    gw = make_gateway()
    with httpx.Client(timeout=10) as http:
        with http.stream(
            "POST",
            gw.url + "/v1/chat/completions",
            content=STREAM_BODY,
            headers={"x-mock-stall-after": stall_after},
        ) as stream:
            chunks = stream.iter_bytes()  # kept alive: dropping it would close the connection
            assert next(chunks).startswith(b"data: ")
            t0 = time.monotonic()
            gw.stop(drain_timeout=drain_timeout)
            elapsed = time.monotonic() - t0
            with pytest.raises(httpx.RemoteProtocolError):
                for _ in chunks:
                    pass
    assert least <= elapsed < most, elapsed
    assert gw.stats()["client_aborts"] == 1  # the in-flight stream was cancelled


def test_stop_under_load_from_another_thread(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(workers=2)
    url = gw.url
    stop_flag = threading.Event()
    outcomes: dict[str, int] = {}
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def hammer(stream: bool) -> None:
        with httpx.Client(timeout=5) as http:
            while not stop_flag.is_set():
                try:
                    if stream:
                        with http.stream(
                            "POST", url + "/v1/chat/completions", content=STREAM_BODY
                        ) as s:
                            s.read()
                            key = str(s.status_code)
                    else:
                        key = str(
                            http.post(url + "/v1/chat/completions", content=CHAT_BODY).status_code
                        )
                except httpx.TransportError:
                    key = "transport-error"
                except BaseException as exc:  # noqa: BLE001 - reported below
                    with lock:
                        unexpected.append(exc)
                    return
                with lock:
                    outcomes[key] = outcomes.get(key, 0) + 1
                if key == "transport-error" and not gw.running:
                    return

    threads = [threading.Thread(target=hammer, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    wait_until(lambda: outcomes.get("200", 0) >= 50, timeout=10, what="some traffic")
    gw.stop(drain_timeout=0.2)
    stop_flag.set()
    for t in threads:
        t.join(10)
    assert not unexpected, unexpected
    assert set(outcomes) <= {"200", "503", "transport-error"}, outcomes


# --------------------------------------------------------------------------- asyncio


async def test_async_context_manager() -> None:
    async with aigw.Gateway(workers=1) as gw:
        assert gw.running
        async with httpx.AsyncClient(base_url=gw.url, timeout=5) as http:
            r = await http.post("/v1/chat/completions", content=CHAT_BODY)
            assert r.json()["choices"][0]["message"]["content"] == STOCK_ANSWER

            # The loop stays free while requests are in flight: 10 x 200 ms run concurrently.
            t0 = time.monotonic()
            rs = await asyncio.gather(
                *(
                    http.post(
                        "/v1/chat/completions",
                        content=CHAT_BODY,
                        headers={"x-mock-latency-ms": "200"},
                    )
                    for _ in range(10)
                )
            )
            assert [x.status_code for x in rs] == [200] * 10
            assert time.monotonic() - t0 < 1.5
    assert not gw.running


async def test_start_called_from_a_coroutine_returns() -> None:
    gw = aigw.Gateway(workers=1)
    started = gw.start()  # blocking, but brief; must not need the running loop
    try:
        assert started is gw and gw.running
        async with httpx.AsyncClient(timeout=5) as http:
            r = await http.get(gw.url + "/health")
            assert r.json()["status"] == "ok"
    finally:
        gw.stop()
    assert not gw.running


async def test_async_context_manager_stops_on_exception() -> None:
    gw = aigw.Gateway(workers=1)
    with pytest.raises(KeyError):
        async with gw:
            port = gw.port or 0
            raise KeyError("boom")
    assert not gw.running
    assert refused_or_503(port)


# --------------------------------------------------------------------------- introspection


def test_repr_is_readable(write_config: Callable[..., Path]) -> None:
    gw = aigw.Gateway(workers=1)
    assert repr(gw) == "<aigw.Gateway stopped config='<default>'>"
    with gw:
        assert re.fullmatch(
            r"<aigw\.Gateway running url='http://127\.0\.0\.1:(\d+)' workers=1 config='<default>'>",
            repr(gw),
        )
        assert f":{gw.port}'" in repr(gw)
    assert repr(gw) == "<aigw.Gateway stopped config='<default>'>"
    assert repr(aigw.Gateway(mock_config())) == "<aigw.Gateway stopped config='<dict>'>"
    path = write_config(mock_config())
    assert repr(aigw.Gateway(path)) == f"<aigw.Gateway stopped config={str(path)!r}>"


def test_url_port_and_stats_when_stopped_and_running() -> None:
    gw = aigw.Gateway(workers=2)
    assert gw.running is False
    assert gw.port is None
    assert gw.workers is None
    with pytest.raises(RuntimeError, match="not running"):
        _ = gw.url
    assert gw.stats() == {"running": False}
    gw.start()
    try:
        assert isinstance(gw.port, int) and gw.port > 0
        assert gw.url == f"http://127.0.0.1:{gw.port}"
        assert gw.workers == 2
        assert gw.host == "127.0.0.1"
        stats = gw.stats()
        assert stats["running"] is True and stats["workers"] == 2
        assert health_ok(gw.port)
        after = gw.stats()
        assert after["requests"] == stats["requests"] + 1
        assert after["connections_accepted"] == stats["connections_accepted"] + 1
    finally:
        gw.stop()
    assert gw.port is None and gw.workers is None
    with pytest.raises(RuntimeError):
        _ = gw.url
    assert gw.stats()["running"] is False


def test_request_ids_are_unique_across_gateways_and_restarts() -> None:
    ids: list[str] = []

    def some_ids(gw: aigw.Gateway) -> None:
        for _ in range(3):
            with RawConn(gw.port or 0) as c:
                ids.append(c.request("GET", "/health").header("x-aigw-request-id") or "")

    gw = aigw.Gateway(workers=2)
    for _ in range(3):  # the same gateway, restarted
        with gw:
            some_ids(gw)
    with aigw.Gateway(workers=1) as a, aigw.Gateway(workers=1) as b:  # two at once
        some_ids(a)
        some_ids(b)
    assert all(re.fullmatch(r"req_[0-9a-f]{24}", i) for i in ids), ids
    assert len(set(ids)) == len(ids), sorted(ids)


def test_many_gateways_get_their_own_ports() -> None:
    """SO_REUSEPORT groups: port 0 never lands a gateway on another gateway's port."""
    gws = []
    try:
        for i in range(20):
            doc = mock_config(response=f"gw{i}")
            gws.append(aigw.Gateway(doc, workers=2).start())
        assert len({g.port for g in gws}) == 20
        for i, g in enumerate(gws):
            for _ in range(3):  # fresh connections: each may land on either worker
                with RawConn(g.port or 0) as c:
                    resp = c.request("POST", "/v1/chat/completions", CHAT_BODY)
                assert resp.json()["choices"][0]["message"]["content"] == f"gw{i}"
    finally:
        for g in gws:
            g.stop(drain_timeout=0)


def test_workers_zero_means_one_per_core() -> None:
    with aigw.Gateway(workers=0) as gw:
        assert gw.workers == _core.default_workers() >= 1


def test_fixed_port_and_host_overrides() -> None:
    port = free_port()
    with aigw.Gateway(port=port, host="127.0.0.1", workers=1) as gw:
        assert gw.port == port
        assert gw.url == f"http://127.0.0.1:{port}"
        assert health_ok(port)


def test_binding_a_port_in_use_raises_oserror() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        gw = aigw.Gateway(port=port, workers=1)
        with pytest.raises(
            OSError, match=rf"cannot listen on 127\.0\.0\.1:{port}: Address already in use"
        ):
            gw.start()
        assert not gw.running
        with pytest.raises(RuntimeError):
            _ = gw.url


def test_two_gateways_cannot_share_a_fixed_port() -> None:
    """SO_REUSEPORT is for one gateway's own workers, not for a second gateway."""
    with aigw.Gateway(port=0, workers=2) as first:
        second = aigw.Gateway(port=first.port, workers=2)
        with pytest.raises(OSError, match="Address already in use"):
            second.start()
        assert health_ok(first.port or 0)


def test_invalid_listen_address_raises_oserror() -> None:
    with pytest.raises(OSError, match="cannot"):
        aigw.Gateway(host="203.0.113.7", workers=1).start()  # TEST-NET-3: not ours


def test_invalid_config_raises_config_error_at_construction() -> None:
    with pytest.raises(aigw.ConfigError) as info:
        aigw.Gateway({"providers": {"mock": {"kind": "mock"}}}, workers=-1)
    assert any(p.startswith("server.workers") for p in info.value.problems)


def test_context_manager_stops_on_exception() -> None:
    gw = aigw.Gateway(workers=1)
    with pytest.raises(ZeroDivisionError):
        with gw:
            port = gw.port or 0
            assert health_ok(port)
            _ = 1 / 0
    assert not gw.running
    assert refused_or_503(port)


def test_ipv6_url_is_bracketed() -> None:
    gw = aigw.Gateway(host="::1", workers=1)
    try:
        gw.start()
    except OSError as exc:  # pragma: no cover - machines without IPv6 loopback
        pytest.skip(f"no IPv6 loopback: {exc}")
    try:
        assert gw.url == f"http://[::1]:{gw.port}"
        assert httpx.get(gw.url + "/health", timeout=5).status_code == 200
    finally:
        gw.stop()


EXIT_WITHOUT_STOP = """
import socket, sys, time
import aigw
gw = aigw.Gateway(workers=2).start()
# A client mid-request when the interpreter exits: atexit must stop the gateway cleanly.
s = socket.create_connection(("127.0.0.1", gw.port))
s.sendall(b"GET /health HTTP/1.1\\r\\nHo")
deadline = time.monotonic() + 5
while gw.stats()["connections_active"] < 1 and time.monotonic() < deadline:
    time.sleep(0.005)
print("active", gw.stats()["connections_active"], flush=True)
"""


def test_interpreter_exit_without_stop_is_clean() -> None:
    out = subprocess.run(
        [sys.executable, "-c", EXIT_WITHOUT_STOP], capture_output=True, text=True, timeout=30
    )
    assert out.stdout.strip() == "active 1"
    assert out.returncode == 0, out.stderr
    assert "Assertion" not in out.stderr
