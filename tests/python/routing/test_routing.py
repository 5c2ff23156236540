"""The routing engine over real sockets: strategies, retries, deadlines, breakers, caps,
Retry-After, error-class fallbacks, transforms and what clients see (docs/routing.md).

Each test builds its own gateway (one worker) from routes written out in full, so what a test
asserts follows from its config alone. Targets are in-process mock providers (knobs in config
or `x-mock-*` headers), the built-in mock serving as a standalone upstream over TCP (for the
per-attempt connect / first-byte / stream-idle timeouts, which only `kind: openai` providers
have), or the recording upstream of upstreams.py when a test must see what was sent.

Timing: latencies and timeouts are short (tenths of a second); assertions on time are loose
upper bounds, and state changes (half-open, pending) are polled for, never slept for.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from _util import wait_until
from upstreams import (
    Recorded,
    RecordingUpstream,
    Reply,
    blackhole_port,
    closed_port,
    openai_handler,
    openai_provider,
)

import aigw

MESSAGES = [{"role": "user", "content": "hi"}]
SUMMARY = {"x-aigw-routing-summary": "true"}


# --------------------------------------------------------------------------- helpers


def mock(**knobs: Any) -> dict[str, Any]:
    """An in-process mock provider with these knobs."""
    return {"kind": "mock", **knobs}


def config(
    providers: dict[str, dict[str, Any]], routes: list[dict[str, Any]], **server: Any
) -> dict[str, Any]:
    """A gateway config with exactly these routes (no defaults slipped in)."""
    return {
        "server": {"workers": 1, "drain_timeout": 0, **server},
        "providers": providers,
        "routes": routes,
    }


@pytest.fixture
def gw_factory() -> Iterator[Callable[[dict[str, Any]], aigw.Gateway]]:
    started: list[aigw.Gateway] = []

    def make(cfg: dict[str, Any]) -> aigw.Gateway:
        gw = aigw.Gateway(cfg).start()
        started.append(gw)
        return gw

    yield make
    for gw in started:
        gw.stop(drain_timeout=0)


@contextlib.contextmanager
def mock_upstream(**knobs: Any) -> Iterator[aigw.Gateway]:
    """The built-in mock as a standalone OpenAI upstream (``mode: mock``) with these knobs."""
    gw = aigw.Gateway(
        {
            "server": {"mode": "mock", "workers": 1, "drain_timeout": 0},
            "providers": {"m": mock(**knobs)},
            "routes": [
                {
                    "name": "*",
                    "provider": "m",
                    "retry": {"attempts": 1},
                    "circuit_breaker": {"enabled": False},
                }
            ],
        }
    ).start()
    try:
        yield gw
    finally:
        gw.stop(drain_timeout=0)


def chat(
    gw: aigw.Gateway,
    model: str,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
    **body: Any,
) -> httpx.Response:
    payload = {"model": model, "messages": MESSAGES, **body}
    if client is not None:
        return client.post("/v1/chat/completions", json=payload, headers=headers or {})
    return httpx.post(
        gw.url + "/v1/chat/completions", json=payload, headers=headers or {}, timeout=timeout
    )


def sdk(gw: aigw.Gateway, timeout: float = 10.0) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-test", max_retries=0, timeout=timeout)


def health(gw: aigw.Gateway) -> dict[str, Any]:
    r = httpx.get(gw.url + "/health", timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def target_health(gw: aigw.Gateway, route: str, label: str) -> dict[str, Any]:
    for r in health(gw)["routes"]:
        if r["name"] == route:
            for t in r["targets"]:
                if t["target"] == label:
                    return t
            raise AssertionError(f"no target {label!r} in route {route!r}: {r['targets']}")
    raise AssertionError(f"no route {route!r} in /health")


def summary(resp: httpx.Response) -> dict[str, Any]:
    return resp.json()["aigw_routing"]


def error_of(resp: httpx.Response) -> dict[str, Any]:
    return resp.json()["error"]


def attempts_header(resp: httpx.Response) -> int:
    return int(resp.headers["x-aigw-attempts"])


def concurrently(n: int, fn: Callable[[int], Any], timeout: float = 20.0) -> list[Any]:
    """Runs fn(0..n-1) on n threads released together; returns their results in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(5)
            results[i] = fn(i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors
    assert all(not t.is_alive() for t in threads)
    return results


def timed(fn: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


# =========================================================================== 1. fallback order


def test_fallback_walks_targets_in_config_order(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """[503, 500, good]: the answer is the third target's 200 after 3 attempts, and the
    summary lists the attempts in config order with the status each got."""
    gw = gw_factory(
        config(
            {"down": mock(status=503), "broken": mock(status=500), "good": mock()},
            [
                {
                    "name": "chain",
                    "targets": [
                        {"provider": "down", "model": "m1"},
                        {"provider": "broken", "model": "m2"},
                        {"provider": "good", "model": "m3"},
                    ],
                    "retry": {"backoff": 0.01},
                }
            ],
        )
    )
    r = chat(gw, "chain", SUMMARY)
    assert r.status_code == 200, r.text
    assert attempts_header(r) == 3
    assert r.headers["x-aigw-provider"] == "good"
    assert r.headers["x-aigw-model"] == "m3"
    s = summary(r)
    assert s["route"] == "chain"
    assert [a["target"] for a in s["attempts"]] == ["down/m1", "broken/m2", "good/m3"]
    assert [a["status"] for a in s["attempts"]] == [503, 500, 200]
    assert [a["error"] is None for a in s["attempts"]] == [False, False, True]
    assert r.json()["choices"][0]["message"]["content"]
    # Walking on to a target not yet tried is a retry (no backoff needed), counted as such.
    assert gw.stats()["routing"]["retries"] == 2


# =========================================================================== 2. weighted


def test_weighted_split_and_nested_weighted_group(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """weight 3:1 sends ~75% / ~25% of 400 requests (±8%); the same holds for a weighted group
    that is the second step of a fallback whose first step always fails."""
    gw = gw_factory(
        config(
            {"a": mock(), "b": mock(), "c": mock(), "d": mock(), "down": mock(status=503)},
            [
                {
                    "name": "split",
                    "strategy": "weighted",
                    "targets": [
                        {"provider": "a", "model": "x", "weight": 3},
                        {"provider": "b", "model": "x", "weight": 1},
                    ],
                },
                {
                    "name": "nested",
                    "targets": [
                        {"provider": "down", "model": "x"},
                        {
                            "strategy": "weighted",
                            "targets": [
                                {"provider": "c", "model": "x", "weight": 3},
                                {"provider": "d", "model": "x", "weight": 1},
                            ],
                        },
                    ],
                    "retry": {"backoff": 0.001},
                    "circuit_breaker": {"enabled": False},
                },
            ],
        )
    )
    n = 400
    with httpx.Client(base_url=gw.url, timeout=10) as client:
        split = Counter()
        for _ in range(n):
            r = chat(gw, "split", client=client)
            assert r.status_code == 200, r.text
            assert attempts_header(r) == 1
            split[r.headers["x-aigw-provider"]] += 1
        nested = Counter()
        for _ in range(n):
            r = chat(gw, "nested", client=client)
            assert r.status_code == 200, r.text
            assert attempts_header(r) == 2  # the failing first step, then the group
            nested[r.headers["x-aigw-provider"]] += 1
    assert set(split) <= {"a", "b"} and set(nested) <= {"c", "d"}
    assert abs(split["a"] / n - 0.75) <= 0.08, split
    assert abs(nested["c"] / n - 0.75) <= 0.08, nested


# =========================================================================== 3. conditional


def test_conditional_on_model_header_metadata_with_default(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """A conditional group picks the first entry whose `when` matches (model glob, header
    case-insensitively, body metadata key), else the entry without `when`."""
    gw = gw_factory(
        config(
            {"big": mock(), "premium": mock(), "team_a": mock(), "dflt": mock()},
            [
                {
                    "name": "cond-*",
                    "strategy": "conditional",
                    "targets": [
                        {"provider": "big", "when": {"model": "cond-big*"}},
                        {"provider": "premium", "when": {"header": {"x-tier": "premium"}}},
                        {"provider": "team_a", "when": {"metadata": {"team": ["a", "alpha"]}}},
                        {"provider": "dflt"},
                    ],
                }
            ],
        )
    )
    client = sdk(gw)

    def provider_for(model: str, **kw: Any) -> str:
        raw = client.chat.completions.with_raw_response.create(model=model, messages=MESSAGES, **kw)
        raw.parse()
        return raw.headers["x-aigw-provider"]

    assert provider_for("cond-big-1") == "big"
    assert provider_for("cond-x", extra_headers={"X-Tier": "premium"}) == "premium"
    assert provider_for("cond-x", extra_headers={"x-tier": "basic"}) == "dflt"
    assert provider_for("cond-x", metadata={"team": "a"}) == "team_a"
    assert provider_for("cond-x", extra_body={"metadata": {"team": "alpha"}}) == "team_a"
    assert provider_for("cond-x", metadata={"team": "b"}) == "dflt"
    assert provider_for("cond-x") == "dflt"
    # The first matching entry wins: model before header.
    assert provider_for("cond-big-2", extra_headers={"x-tier": "premium"}) == "big"
    client.close()


# ======================================================= 4. least_busy / least_latency


def test_least_latency_prefers_the_fast_target(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """After each target has a time-to-first-byte sample, least_latency sends (nearly) all
    traffic to the fast one."""
    gw = gw_factory(
        config(
            {"slow": mock(latency_ms=150), "fast": mock()},
            [
                {
                    "name": "ll",
                    "strategy": "least_latency",
                    "targets": [{"provider": "slow"}, {"provider": "fast"}],
                }
            ],
        )
    )
    counts = Counter()
    with httpx.Client(base_url=gw.url, timeout=10) as client:
        for _ in range(30):
            r = chat(gw, "ll", client=client)
            assert r.status_code == 200
            counts[r.headers["x-aigw-provider"]] += 1
    # The slow one is tried while it has no sample (once, maybe twice), then never again.
    assert counts["slow"] <= 2, counts
    assert counts["fast"] >= 28, counts
    assert target_health(gw, "ll", "slow/*")["ttfb_ms"] >= 100
    assert target_health(gw, "ll", "fast/*")["ttfb_ms"] < 100


def test_least_busy_spreads_concurrent_requests(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """least_busy picks the target with the fewest attempts in flight: 8 overlapping slow
    requests split about evenly between two targets."""
    gw = gw_factory(
        config(
            {"one": mock(latency_ms=400), "two": mock(latency_ms=400)},
            [
                {
                    "name": "lb",
                    "strategy": "least_busy",
                    "targets": [{"provider": "one"}, {"provider": "two"}],
                }
            ],
        )
    )
    results = concurrently(8, lambda _: chat(gw, "lb"))
    assert all(r.status_code == 200 for r in results)
    counts = Counter(r.headers["x-aigw-provider"] for r in results)
    assert 3 <= counts["one"] <= 5, counts


# =========================================================================== 5. retry budget


def test_retry_budget_bounds_attempts_in_a_503_storm(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """budget 0 / min_retries 1: at most one retry runs at a time, so 20 concurrent requests to
    an always-503 target make about 20 attempts, not 20 x 3; denied retries are counted."""
    gw = gw_factory(
        config(
            {"down": mock(status=503, latency_ms=200)},
            [
                {
                    "name": "storm",
                    "provider": "down",
                    "retry": {"attempts": 3, "budget": 0.0, "min_retries": 1, "backoff": 0.01},
                    "circuit_breaker": {"enabled": False},
                }
            ],
        )
    )
    n = 20
    results = concurrently(n, lambda _: chat(gw, "storm"))
    assert all(r.status_code == 503 for r in results), [r.status_code for r in results]
    attempts = target_health(gw, "storm", "down/*")["attempts"]
    assert n <= attempts <= n + 6, attempts  # unbounded retries would make 60
    assert sum(attempts_header(r) for r in results) == attempts
    routing = gw.stats()["routing"]
    assert routing["retry_budget_denied"] > 0, routing
    assert routing["retries"] == attempts - n


def test_retry_budget_is_a_ratio_of_recent_requests(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """One request at a time against an always-503 target: no retry is ever in flight while a
    request starts, so a budget of retries in flight let every request retry twice (3x the
    load). The budget over recent requests keeps attempts within (1 + budget) x requests plus
    the floor (min_retries per 10 s)."""
    gw = gw_factory(
        config(
            {"down": mock(status=503)},
            [
                {
                    "name": "storm",
                    "provider": "down",
                    "retry": {"attempts": 3, "budget": 0.2, "min_retries": 3, "backoff": 0},
                    "circuit_breaker": {"enabled": False},
                }
            ],
        )
    )
    n = 100
    with httpx.Client(base_url=gw.url, timeout=10) as client:
        for _ in range(n):
            assert chat(gw, "storm", client=client).status_code == 503
    attempts = target_health(gw, "storm", "down/*")["attempts"]
    floor = 3 * 2  # min_retries per 10 s; the loop may straddle one window boundary
    assert attempts <= 1.2 * n + floor, attempts  # the in-flight budget made 300
    assert attempts >= 1.2 * n - 1, attempts  # the budget is spent, not starved


@pytest.mark.parametrize("client_retries", [False, True])
def test_sdk_does_not_retry_what_the_gateway_retried(
    gw_factory: Callable[..., aigw.Gateway], client_retries: bool
) -> None:
    """One official-SDK call against an always-429 target: the gateway's 3 attempts, then
    x-should-retry: false, so the SDK's own 3 tries do not make it 9. A route may leave retrying
    to clients (retry.client_retries)."""
    retry = {"attempts": 3, "backoff": 0, "budget": 1.0, "client_retries": client_retries}
    gw = gw_factory(
        config(
            {"busy": mock(status=429)},
            [
                {
                    "name": "busy",
                    "provider": "busy",
                    "retry": retry,
                    "circuit_breaker": {"enabled": False},
                },
                {"name": "once", "provider": "busy", "retry": {"attempts": 1}},
            ],
        )
    )
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=2)
    with pytest.raises(openai.RateLimitError) as err:
        client.chat.completions.create(model="busy", messages=MESSAGES)  # type: ignore[arg-type]
    attempts = target_health(gw, "busy", "busy/*")["attempts"]
    if client_retries:
        assert "x-should-retry" not in err.value.response.headers
        assert attempts == 9, attempts
    else:
        assert err.value.response.headers["x-should-retry"] == "false"
        assert attempts == 3, attempts
    # A route that does not retry leaves the decision to the client: no advice.
    once = chat(gw, "once")
    assert once.status_code == 429 and "x-should-retry" not in once.headers


# =========================================================================== 6. deadline


def test_deadline_covers_every_attempt(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """timeout 0.5 s with first-byte timeouts of 0.2 s against a stalled upstream: attempts are
    retried until the one deadline passes, then 504 deadline_exceeded, well under 2 s."""
    with mock_upstream() as up:
        gw = gw_factory(
            config(
                {"up": openai_provider(up.url + "/v1")},
                [
                    {
                        "name": "slow",
                        "provider": "up",
                        "timeout": 0.5,
                        "first_byte_timeout": 0.2,
                        "retry": {"attempts": 10, "backoff": 0.001, "max_backoff": 0.001},
                        "circuit_breaker": {"enabled": False},
                    },
                    {
                        "name": "stalled",
                        "provider": "up",
                        "timeout": 0.5,
                        "circuit_breaker": {"enabled": False},
                    },
                ],
            )
        )
        headers = {**SUMMARY, "x-mock-latency-ms": "5000"}
        r, took = timed(lambda: chat(gw, "slow", headers))
        assert r.status_code == 504, r.text
        assert error_of(r)["code"] == "deadline_exceeded"
        assert took < 2.0
        # 0.2 + 0.2 + (cut short): nominally 3 attempts; a loaded machine may manage only 2.
        assert 2 <= attempts_header(r) <= 3, r.headers
        atts = summary(r)["attempts"]
        assert len(atts) == attempts_header(r)
        assert all(a["status"] is None and a["error"] for a in atts)
        assert atts[-1]["error"] == "deadline exceeded"

        # No per-attempt limit: the single attempt is cut off by the deadline itself.
        r, took = timed(lambda: chat(gw, "stalled", {"x-mock-latency-ms": "5000"}))
        assert r.status_code == 504, r.text
        assert error_of(r)["code"] == "deadline_exceeded"
        assert attempts_header(r) == 1
        assert 0.4 < took < 2.0


# =========================================================================== 7. first-byte timeout


def test_first_byte_timeout_falls_back_to_next_target(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """A target that does not answer within its first_byte_timeout is a timeout failure: the
    next target serves the request."""
    with mock_upstream(latency_ms=3000) as up:
        gw = gw_factory(
            config(
                {"slowup": openai_provider(up.url + "/v1"), "good": mock()},
                [
                    {
                        "name": "fbt",
                        "targets": [
                            {"provider": "slowup", "model": "m", "first_byte_timeout": 0.3},
                            {"provider": "good", "model": "m"},
                        ],
                    }
                ],
            )
        )
        r, took = timed(lambda: chat(gw, "fbt", SUMMARY))
        assert r.status_code == 200, r.text
        assert attempts_header(r) == 2
        assert r.headers["x-aigw-provider"] == "good"
        first = summary(r)["attempts"][0]
        assert first["target"] == "slowup/m" and first["status"] is None
        assert first["error"] == "no response within 300 ms"
        assert first["duration_ms"] >= 250
        assert took < 2.5
        assert target_health(gw, "fbt", "slowup/m")["failures"] == 1


# =========================================================================== 8. connect error


def test_connect_error_falls_back_to_next_target(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """Connection refused is a `connect` failure: retried on the next target; /health records
    the failure and the error on the dead target."""
    gw = gw_factory(
        config(
            {
                "dead": openai_provider(f"http://127.0.0.1:{closed_port()}/v1"),
                "good": mock(),
            },
            [
                {
                    "name": "conn",
                    "targets": [
                        {"provider": "dead", "model": "m"},
                        {"provider": "good", "model": "m"},
                    ],
                }
            ],
        )
    )
    r, took = timed(lambda: chat(gw, "conn", SUMMARY))
    assert r.status_code == 200, r.text
    assert attempts_header(r) == 2
    assert r.headers["x-aigw-provider"] == "good"
    first = summary(r)["attempts"][0]
    assert first["target"] == "dead/m" and first["status"] is None and first["error"]
    assert took < 2.0
    dead = target_health(gw, "conn", "dead/m")
    assert dead["failures"] == 1 and dead["last_error"]
    assert dead["breaker"] == "closed"  # one failure of the default five


# =========================================================================== 9. mid-stream stall


def test_mid_stream_stall_ends_with_error_event_and_no_retry(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """Once the first chunk reached the client there is no retry: a stall longer than
    stream_idle_timeout ends the stream with an `error` data event and a clean end."""
    with mock_upstream() as up:
        gw = gw_factory(
            config(
                {"up": openai_provider(up.url + "/v1"), "spare": mock()},
                [
                    {
                        "name": "s",
                        "targets": [{"provider": "up", "model": "m"}, {"provider": "spare"}],
                        "stream_idle_timeout": 0.5,
                    }
                ],
            )
        )
        stall = {"x-mock-stall-after": "3"}

        # The SDK: chunks first, then an APIError raised mid-iteration.
        client = sdk(gw)
        got: list[str] = []
        t0 = time.monotonic()
        with pytest.raises(openai.APIError) as exc:
            stream = client.chat.completions.create(
                model="s", messages=MESSAGES, stream=True, extra_headers=stall
            )
            for chunk in stream:
                got.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
        assert len(got) == 3, got  # role chunk + two content chunks
        assert "mid-stream" in str(exc.value.message)
        assert time.monotonic() - t0 < 3.0
        client.close()

        # Raw: the error event is the last data line, no [DONE], and a clean chunked end.
        with httpx.stream(
            "POST",
            gw.url + "/v1/chat/completions",
            json={"model": "s", "messages": MESSAGES, "stream": True},
            headers=stall,
            timeout=5,
        ) as r:
            assert r.status_code == 200
            assert attempts_header(r) == 1
            assert r.headers["x-aigw-provider"] == "up"
            text = r.read().decode()
        data = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
        assert len(data) == 4, text
        assert "error" in json.loads(data[-1])
        assert "[DONE]" not in text
    h = target_health(gw, "s", "up/m")
    assert h["attempts"] == 2 and h["failures"] == 2  # one per request, never retried
    assert target_health(gw, "s", "spare/*")["attempts"] == 0
    assert gw.stats()["routing"]["retries"] == 0


# ======================================================= 10. ejection & recovery


def test_ejection_half_open_probe_and_recovery(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """Two failures in a row eject the target (breaker "open", fast 503 naming why); after the
    ejection time one probe goes through: its success closes the breaker, its failure ejects
    the target again for twice as long."""
    gw = gw_factory(
        config(
            {"flaky": mock()},
            [
                {
                    "name": "ej",
                    "targets": [{"provider": "flaky", "model": "m"}],
                    "retry": {"attempts": 1},
                    "circuit_breaker": {"consecutive_failures": 2, "ejection_time": 0.5},
                }
            ],
        )
    )
    fail = {"x-mock-status": "500"}
    label = "flaky/m"
    for _ in range(2):
        assert chat(gw, "ej", fail).status_code == 500
    h = target_health(gw, "ej", label)
    assert h["breaker"] == "open", h
    assert 0 < h["ejected_for_ms"] <= 500
    provider = next(p for p in health(gw)["providers"] if p["name"] == "flaky")
    assert provider["status"] == "down" and provider["last_error"]

    r, took = timed(lambda: chat(gw, "ej"))
    assert r.status_code == 503, r.text
    assert error_of(r)["code"] == "no_available_target"
    assert "flaky/m: ejected for" in error_of(r)["message"]
    assert "2 consecutive failures" in error_of(r)["message"]
    assert r.headers["retry-after"] in ("0", "1")
    assert took < 0.45  # refused at once, not after the ejection

    wait_until(lambda: target_health(gw, "ej", label)["breaker"] == "half_open", timeout=5)
    r = chat(gw, "ej")  # the probe, healthy again
    assert r.status_code == 200, r.text
    assert target_health(gw, "ej", label)["breaker"] == "closed"

    # Eject again; this time the probe fails: ejected for 2 x 0.5 s.
    for _ in range(2):
        assert chat(gw, "ej", fail).status_code == 500
    wait_until(lambda: target_health(gw, "ej", label)["breaker"] == "half_open", timeout=5)
    assert chat(gw, "ej", fail).status_code == 500  # the failing probe
    h = target_health(gw, "ej", label)
    assert h["breaker"] == "open" and h["ejected_for_ms"] > 500, h
    assert gw.stats()["routing"]["ejections"] == 3


def test_ejected_target_is_skipped_for_the_next_one(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """While the first target is ejected, requests go straight to the second (one attempt)."""
    gw = gw_factory(
        config(
            {"flaky": mock(), "backup": mock(header_knobs=False)},
            [
                {
                    "name": "ej2",
                    "targets": [{"provider": "flaky"}, {"provider": "backup"}],
                    "retry": {"backoff": 0.001},
                    "circuit_breaker": {"consecutive_failures": 2, "ejection_time": 30},
                }
            ],
        )
    )
    fail = {"x-mock-status": "503"}
    for _ in range(2):
        r = chat(gw, "ej2", fail)
        assert r.status_code == 200 and attempts_header(r) == 2
    assert target_health(gw, "ej2", "flaky/*")["breaker"] == "open"
    r = chat(gw, "ej2", fail)
    assert r.status_code == 200
    assert attempts_header(r) == 1 and r.headers["x-aigw-provider"] == "backup"


# =========================================================================== 11. caps


def test_concurrency_cap_refuses_overflow_at_once(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """max_in_flight 2, max_pending 0: of 5 overlapping requests 2 are served and 3 are refused
    at once with 503 naming the cap; each refusal is counted."""
    gw = gw_factory(
        config(
            {"slow": mock(latency_ms=600)},
            [
                {
                    "name": "capped",
                    "targets": [{"provider": "slow", "max_in_flight": 2, "max_pending": 0}],
                }
            ],
        )
    )
    results = concurrently(5, lambda _: timed(lambda: chat(gw, "capped")))
    ok = [(r, t) for r, t in results if r.status_code == 200]
    refused = [(r, t) for r, t in results if r.status_code != 200]
    assert len(ok) == 2, [r.status_code for r, _ in results]
    assert len(refused) == 3
    for r, took in refused:
        assert r.status_code == 503, r.text
        assert error_of(r)["code"] == "no_available_target"
        assert "concurrency cap" in error_of(r)["message"]
        assert took < min(t for _, t in ok)  # not queued behind the slow ones
    assert gw.stats()["routing"]["cap_rejections"] == 3
    assert target_health(gw, "capped", "slow/*")["cap_rejections"] == 3


def test_concurrency_cap_with_pending_queues_everyone(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """max_in_flight 2, max_pending 3: 5 overlapping requests all succeed; the extra ones wait
    (visible as `pending` in /health) and in_flight never exceeds the cap."""
    gw = gw_factory(
        config(
            {"slow": mock(latency_ms=300)},
            [
                {
                    "name": "queued",
                    "targets": [{"provider": "slow", "max_in_flight": 2, "max_pending": 3}],
                }
            ],
        )
    )
    seen: list[dict[str, Any]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(target_health(gw, "queued", "slow/*"))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = concurrently(5, lambda _: chat(gw, "queued"))
    finally:
        stop.set()
        watcher.join(5)
    assert [r.status_code for r in results] == [200] * 5
    assert max(h["in_flight"] for h in seen) <= 2
    assert max(h["pending"] for h in seen) >= 1
    assert gw.stats()["routing"]["cap_rejections"] == 0


# =========================================================================== 12. all ejected


def test_all_ejected_uses_unavailable_fallback_or_fails_fast(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """When every target is ejected: with `fallbacks.unavailable` the other route serves the
    request (no attempt on the ejected target); without, a fast 503 naming each target's
    reason and a Retry-After until the first comes back."""
    gw = gw_factory(
        config(
            {"bad": mock(status=500), "bad2": mock(status=500), "good": mock()},
            [
                {
                    "name": "primary",
                    "targets": [{"provider": "bad", "model": "m"}],
                    "retry": {"attempts": 1},
                    "circuit_breaker": {"consecutive_failures": 1, "ejection_time": 30},
                    "fallbacks": {"unavailable": "other"},
                },
                {
                    "name": "lonely",
                    "targets": [{"provider": "bad", "model": "m"}, {"provider": "bad2"}],
                    "retry": {"backoff": 0.001},
                    "circuit_breaker": {"consecutive_failures": 1, "ejection_time": 30},
                },
                {"name": "other", "provider": "good", "model": "g"},
            ],
        )
    )
    # primary: the failure exhausts its one attempt, which also goes to `unavailable`.
    r = chat(gw, "primary", SUMMARY)
    assert r.status_code == 200 and r.headers["x-aigw-provider"] == "good"
    assert target_health(gw, "primary", "bad/m")["breaker"] == "open"
    r = chat(gw, "primary", SUMMARY)
    assert r.status_code == 200, r.text
    assert summary(r)["route"] == "other"
    assert [a["target"] for a in summary(r)["attempts"]] == ["good/g"]
    assert attempts_header(r) == 1 and r.headers["x-aigw-model"] == "g"

    # lonely: both targets fail once (ejected), then requests are refused at once.
    assert chat(gw, "lonely").status_code == 500
    r, took = timed(lambda: chat(gw, "lonely"))
    assert r.status_code == 503, r.text
    err = error_of(r)
    assert err["code"] == "no_available_target"
    assert "route 'lonely'" in err["message"]
    assert "bad/m: ejected for" in err["message"] and "bad2/*: ejected for" in err["message"]
    assert 28 <= int(r.headers["retry-after"]) <= 30
    assert attempts_header(r) == 0
    assert took < 0.5
    routing = gw.stats()["routing"]
    assert routing["unavailable"] >= 1 and routing["fallbacks"] == 2


# =========================================================================== 13. Retry-After


def test_retry_after_keeps_requests_off_the_target(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """A 429 with Retry-After: 2 marks the target: the failing request goes on to the next
    target, the following one goes there directly; a route whose only target is waiting it out
    answers 429 itself, with a Retry-After."""
    gw = gw_factory(
        config(
            {
                "limited": mock(status=429, retry_after=2),
                "good": mock(),
                "alone": mock(status=429, retry_after=2),
            },
            [
                {
                    "name": "ra",
                    "targets": [{"provider": "limited"}, {"provider": "good"}],
                    "circuit_breaker": {"enabled": False},
                },
                {"name": "ra1", "provider": "alone", "timeout": 0.3},
            ],
        )
    )
    r = chat(gw, "ra", SUMMARY)
    assert r.status_code == 200
    assert [a["target"] for a in summary(r)["attempts"]] == ["limited/*", "good/*"]
    assert summary(r)["attempts"][0]["status"] == 429
    r = chat(gw, "ra", SUMMARY)
    assert r.status_code == 200
    assert attempts_header(r) == 1 and r.headers["x-aigw-provider"] == "good"
    assert 0 < target_health(gw, "ra", "limited/*")["retry_after_ms"] <= 2000
    # 429 does not count against the target's health.
    assert target_health(gw, "ra", "limited/*")["failures"] == 0

    # ra1: the first request gets the provider's 429 (waiting 2 s would outlast its deadline).
    r, took = timed(lambda: chat(gw, "ra1"))
    assert r.status_code == 429, r.text
    assert r.headers["retry-after"] == "2"
    assert took < 1.0
    # The next one is answered by the gateway without an attempt.
    r, took = timed(lambda: chat(gw, "ra1"))
    assert r.status_code == 429, r.text
    assert attempts_header(r) == 0
    assert error_of(r)["code"] == "rate_limit_exceeded"
    assert "Retry-After" in error_of(r)["message"]
    assert 1 <= int(r.headers["retry-after"]) <= 2
    assert took < 0.5


# =========================================================================== 14. error classes


def test_error_class_fallbacks_and_final_statuses(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """context_length_exceeded goes to fallbacks.context_window_exceeded and
    content_policy_violation to fallbacks.content_policy_violation (not to the route's next
    target); without such a fallback the error is relayed. 400/401/403/404/413/422 are never
    retried."""
    gw = gw_factory(
        config(
            {
                "small": mock(status=400, error_code="context_length_exceeded"),
                "prude": mock(status=400, error_code="content_policy_violation"),
                "next": mock(),
                "big": mock(),
                "lenient": mock(),
                "flaky": mock(),
                "backup": mock(header_knobs=False),
            },
            [
                {
                    "name": "ctx",
                    "targets": [{"provider": "small"}, {"provider": "next"}],
                    "fallbacks": {"context_window_exceeded": "big-route"},
                },
                {
                    "name": "cp",
                    "targets": [{"provider": "prude"}, {"provider": "next"}],
                    "fallbacks": {"content_policy_violation": "lenient-route"},
                },
                {"name": "ctx-nofb", "targets": [{"provider": "small"}, {"provider": "next"}]},
                {"name": "big-route", "provider": "big"},
                {"name": "lenient-route", "provider": "lenient"},
                {
                    "name": "final",
                    "targets": [{"provider": "flaky"}, {"provider": "backup"}],
                    "circuit_breaker": {"consecutive_failures": 1},
                },
            ],
        )
    )
    r = chat(gw, "ctx", SUMMARY)
    assert r.status_code == 200, r.text
    assert r.headers["x-aigw-provider"] == "big"
    assert summary(r)["route"] == "big-route"
    assert [a["target"] for a in summary(r)["attempts"]] == ["small/*", "big/*"]

    r = chat(gw, "cp", SUMMARY)
    assert r.status_code == 200, r.text
    assert r.headers["x-aigw-provider"] == "lenient"
    assert [a["target"] for a in summary(r)["attempts"]] == ["prude/*", "lenient/*"]

    r = chat(gw, "ctx-nofb")
    assert r.status_code == 400
    assert error_of(r)["code"] == "context_length_exceeded"
    assert attempts_header(r) == 1

    for status in (400, 401, 403, 404, 413, 422):
        r = chat(gw, "final", {"x-mock-status": str(status)})
        assert r.status_code == status, r.text
        assert attempts_header(r) == 1, status
        assert r.headers["x-aigw-provider"] == "flaky"
    flaky = target_health(gw, "final", "flaky/*")
    assert flaky["failures"] == 0 and flaky["breaker"] == "closed"  # 4xx says nothing of health
    assert target_health(gw, "final", "backup/*")["attempts"] == 0
    assert gw.stats()["routing"]["retries"] == 0


# =========================================================================== 15. transforms


def test_transforms_reach_only_their_target(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """A target's transforms edit the body it is sent (drop if_present, rename, set); the next
    target of the same request gets the original body."""

    async def handler(req: Recorded, reply: Reply) -> None:
        if req.path.startswith("/a/"):
            await reply.json({"error": {"message": "boom", "type": "server_error"}}, status=500)
        else:
            await openai_handler(req, reply)

    with RecordingUpstream(handler) as up:
        gw = gw_factory(
            config(
                {
                    "a": openai_provider(up.origin + "/a/v1"),
                    "b": openai_provider(up.origin + "/b/v1"),
                },
                [
                    {
                        "name": "xf",
                        "targets": [
                            {
                                "provider": "a",
                                "model": "reasoner",
                                "transforms": [
                                    {"drop": "response_format", "if_present": "tools"},
                                    {"rename": {"max_tokens": "max_completion_tokens"}},
                                    {
                                        "set": {
                                            "temperature": 1,
                                            "stream_options.include_usage": True,
                                        }
                                    },
                                ],
                            },
                            {"provider": "b", "model": "plain"},
                        ],
                        "retry": {"backoff": 0.001},
                        "circuit_breaker": {"enabled": False},
                    }
                ],
            )
        )
        tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
        rf = {"type": "json_object"}
        r = chat(gw, "xf", tools=tools, response_format=rf, max_tokens=7, temperature=0.5)
        assert r.status_code == 200, r.text
        assert attempts_header(r) == 2
        sent_a, sent_b = (q.json() for q in up.requests)
        assert up.requests[0].path == "/a/v1/chat/completions"
        assert "response_format" not in sent_a and sent_a["tools"] == tools
        assert "max_tokens" not in sent_a and sent_a["max_completion_tokens"] == 7
        assert sent_a["temperature"] == 1
        assert sent_a["stream_options"] == {"include_usage": True}
        assert sent_a["model"] == "reasoner"
        # b: the original body, only the model rewritten.
        assert sent_b == {
            "model": "plain",
            "messages": MESSAGES,
            "tools": tools,
            "response_format": rf,
            "max_tokens": 7,
            "temperature": 0.5,
        }

        up.reset()
        r = chat(gw, "xf", response_format=rf)
        assert r.status_code == 200
        assert up.requests[0].json()["response_format"] == rf  # no tools: kept


# =========================================================================== 16. what clients see


def test_routing_summary_headers_and_model_list(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """`aigw_routing` is added to JSON bodies (success and error) only on request;
    x-aigw-provider / x-aigw-model name the answering attempt; /v1/models lists route names
    and aliases but no patterns."""
    gw = gw_factory(
        config(
            {"good": mock(), "bad": mock(status=500)},
            [
                {"name": "ok", "aliases": ["ok-alias"], "provider": "good", "model": "up-ok"},
                {"name": "err", "provider": "bad", "model": "up-err", "retry": {"attempts": 1}},
                {"name": "fam/*", "provider": "good"},
                {"name": "*", "provider": "good"},
            ],
        )
    )
    r = chat(gw, "ok", SUMMARY)
    assert r.status_code == 200
    assert r.headers["x-aigw-provider"] == "good" and r.headers["x-aigw-model"] == "up-ok"
    assert r.json()["model"] == "up-ok"
    (att,) = summary(r)["attempts"]
    assert att["target"] == "good/up-ok" and att["status"] == 200 and att["error"] is None
    assert att["duration_ms"] >= 0
    assert "aigw_routing" not in chat(gw, "ok").json()
    assert "aigw_routing" not in chat(gw, "ok", {"x-aigw-routing-summary": "false"}).json()

    r = chat(gw, "ok-alias", SUMMARY)
    assert summary(r)["route"] == "ok" and r.headers["x-aigw-model"] == "up-ok"

    r = chat(gw, "err", SUMMARY)
    assert r.status_code == 500
    assert r.headers["x-aigw-provider"] == "bad" and r.headers["x-aigw-model"] == "up-err"
    assert attempts_header(r) == 1
    body = r.json()
    assert body["error"]["code"] == "server_error"
    (att,) = body["aigw_routing"]["attempts"]
    assert att["status"] == 500 and "500" in att["error"]
    assert "aigw_routing" not in chat(gw, "err").json()

    # The SDK reads the body as usual (the extra field is ignored).
    client = sdk(gw)
    out = client.chat.completions.create(model="ok", messages=MESSAGES, extra_headers=SUMMARY)
    assert out.choices[0].message.content
    ids = {m.id for m in client.models.list()}
    client.close()
    assert {"ok", "ok-alias", "err"} <= ids
    assert not any("*" in i for i in ids), ids


@pytest.mark.parametrize(
    ("setting", "header", "present"), [("always", False, True), ("never", True, False)]
)
def test_routing_summary_setting(
    gw_factory: Callable[..., aigw.Gateway], setting: str, header: bool, present: bool
) -> None:
    """server.routing_summary `always` adds the summary unasked; `never` even when asked."""
    gw = gw_factory(
        config({"good": mock()}, [{"name": "ok", "provider": "good"}], routing_summary=setting)
    )
    r = chat(gw, "ok", SUMMARY if header else None)
    assert ("aigw_routing" in r.json()) is present


# =========================================================================== 17. patterns


def test_pattern_routes_send_the_captured_model(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """`openai/*` with a target without `model` sends what `*` matched; a target model with `*`
    gets it substituted; the most specific pattern wins, then the catch-all."""
    with RecordingUpstream() as up:
        gw = gw_factory(
            config(
                {"up": openai_provider(up.origin + "/v1")},
                [
                    {"name": "openai/*", "provider": "up"},
                    {"name": "openai/gpt-*", "provider": "up", "model": "gpt-*-2024"},
                    {"name": "dated/*", "provider": "up", "model": "*-2024"},
                    {"name": "*", "provider": "up"},
                ],
            )
        )

        def upstream_model(requested: str) -> str:
            up.reset()
            r = chat(gw, requested)
            assert r.status_code == 200, r.text
            assert r.headers["x-aigw-model"] == up.last.json()["model"]
            return up.last.json()["model"]

        assert upstream_model("openai/o1-mini") == "o1-mini"
        assert upstream_model("openai/gpt-4o") == "gpt-4o-2024"
        assert upstream_model("dated/claude") == "claude-2024"
        assert upstream_model("anything/else") == "anything/else"


# =========================================================================== streams & deadlines


def test_stream_is_retried_until_its_first_byte(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """A streamed request whose first target answers 503 is served by the next target (nothing
    had reached the client yet); with the summary asked for, it comes as an SSE comment first."""
    gw = gw_factory(
        config(
            {"down": mock(status=503), "good": mock()},
            [{"name": "sf", "targets": [{"provider": "down"}, {"provider": "good"}]}],
        )
    )
    with httpx.stream(
        "POST",
        gw.url + "/v1/chat/completions",
        json={"model": "sf", "messages": MESSAGES, "stream": True},
        headers=SUMMARY,
        timeout=5,
    ) as r:
        assert r.status_code == 200
        assert attempts_header(r) == 2 and r.headers["x-aigw-provider"] == "good"
        text = r.read().decode()
    assert text.startswith(": aigw_routing ")
    comment = json.loads(text.split("\n", 1)[0][len(": aigw_routing ") :])
    assert [a["status"] for a in comment["attempts"]] == [503, 200]
    assert text.rstrip().endswith("data: [DONE]")


def test_deadline_mid_stream_ends_with_error_event(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """The deadline passing after the stream started: an `error` event with code
    deadline_exceeded, then a clean end (no [DONE])."""
    gw = gw_factory(
        config(
            {"slow": mock(chunk_delay_ms=200)},
            [{"name": "dl", "provider": "slow", "timeout": 0.5}],
        )
    )
    t0 = time.monotonic()
    with httpx.stream(
        "POST",
        gw.url + "/v1/chat/completions",
        json={"model": "dl", "messages": MESSAGES, "stream": True},
        timeout=5,
    ) as r:
        assert r.status_code == 200
        text = r.read().decode()
    assert time.monotonic() - t0 < 2.0
    data = [line[6:] for line in text.split("\n") if line.startswith("data: ")]
    assert len(data) >= 2  # some chunks first
    assert json.loads(data[-1])["error"]["code"] == "deadline_exceeded"
    assert "[DONE]" not in text


def test_connect_timeout_falls_back(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """A connect that hangs (full listen queue) is cut at the target's connect_timeout and the
    next target serves the request."""
    with blackhole_port() as port:
        gw = gw_factory(
            config(
                {"hole": openai_provider(f"http://127.0.0.1:{port}/v1"), "good": mock()},
                [
                    {
                        "name": "ct",
                        "targets": [
                            {"provider": "hole", "model": "m", "connect_timeout": 0.2},
                            {"provider": "good"},
                        ],
                    }
                ],
            )
        )
        r, took = timed(lambda: chat(gw, "ct", SUMMARY))
    assert r.status_code == 200, r.text
    assert attempts_header(r) == 2
    first = summary(r)["attempts"][0]
    assert first["target"] == "hole/m" and first["error"] == "no connection within 200 ms"
    assert took < 2.0


# =========================================================================== breakers & caps, more


def test_half_open_lets_exactly_one_probe_through(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """Half-open admits one probe: concurrent requests meanwhile are refused ("a probe is in
    flight"); the probe's success closes the breaker."""
    gw = gw_factory(
        config(
            {"lat": mock()},
            [
                {
                    "name": "probe",
                    "provider": "lat",
                    "retry": {"attempts": 1},
                    "circuit_breaker": {"consecutive_failures": 1, "ejection_time": 0.3},
                }
            ],
        )
    )
    assert chat(gw, "probe", {"x-mock-status": "500"}).status_code == 500
    wait_until(lambda: target_health(gw, "probe", "lat/*")["breaker"] == "half_open", timeout=5)
    results = concurrently(4, lambda _: chat(gw, "probe", {"x-mock-latency-ms": "400"}))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 503, 503, 503], statuses
    for r in results:
        if r.status_code == 503:
            assert "a probe is in flight" in error_of(r)["message"]
    assert target_health(gw, "probe", "lat/*")["breaker"] == "closed"


def test_slots_are_released_on_deadline_and_client_abort(
    gw_factory: Callable[..., aigw.Gateway],
) -> None:
    """A capped target's slot (and queue place) is given back when the deadline cuts a
    request, queued or running, and when the client goes away."""
    gw = gw_factory(
        config(
            {"lat": mock()},
            [
                {
                    "name": "capdl",
                    "provider": "lat",
                    "max_in_flight": 1,
                    "max_pending": 1,
                    "timeout": 0.3,
                },
                {"name": "abort", "provider": "lat", "max_in_flight": 1},
            ],
        )
    )
    slow = {"x-mock-latency-ms": "1000"}
    results = concurrently(2, lambda _: chat(gw, "capdl", slow))
    assert [error_of(r)["code"] for r in results] == ["deadline_exceeded"] * 2
    h = target_health(gw, "capdl", "lat/*")
    assert h["in_flight"] == 0 and h["pending"] == 0
    assert chat(gw, "capdl").status_code == 200

    with pytest.raises(httpx.TimeoutException):
        chat(gw, "abort", {"x-mock-latency-ms": "3000"}, timeout=0.2)
    wait_until(lambda: target_health(gw, "abort", "lat/*")["in_flight"] == 0, timeout=2)
    assert chat(gw, "abort").status_code == 200


def test_fallback_cycle_terminates(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """Two routes naming each other as `unavailable` fallback, both failing: the request ends
    (bounded hops) with an error instead of bouncing forever."""
    bad = {"retry": {"attempts": 1}, "circuit_breaker": {"consecutive_failures": 1}}
    gw = gw_factory(
        config(
            {"bad": mock(status=500)},
            [
                {"name": "A", "provider": "bad", **bad, "fallbacks": {"unavailable": "B"}},
                {"name": "B", "provider": "bad", **bad, "fallbacks": {"unavailable": "A"}},
            ],
        )
    )
    r, took = timed(lambda: chat(gw, "A"))
    assert r.status_code == 500
    r, took = timed(lambda: chat(gw, "A"))
    assert r.status_code == 503 and error_of(r)["code"] == "no_available_target"
    assert took < 1.0


def test_retry_goes_straight_to_a_metadata_branch(gw_factory: Callable[..., aigw.Gateway]) -> None:
    """After the first target fails, the next attempt goes at once to a target not yet tried —
    also when that target is a conditional branch selected by body metadata. (A huge backoff
    makes any wrongly taken backoff outlast the 2 s deadline.)"""
    gw = gw_factory(
        config(
            {"bad": mock(status=500), "a": mock()},
            [
                {
                    "name": "meta",
                    "targets": [
                        {"provider": "bad"},
                        {
                            "strategy": "conditional",
                            "targets": [{"provider": "a", "when": {"metadata": {"team": "a"}}}],
                        },
                    ],
                    "retry": {"backoff": 100000, "max_backoff": 100000},
                    "timeout": 2,
                    "circuit_breaker": {"enabled": False},
                }
            ],
        )
    )
    r = chat(gw, "meta", metadata={"team": "a"})
    assert r.status_code == 200, r.text
    assert attempts_header(r) == 2 and r.headers["x-aigw-provider"] == "a"
