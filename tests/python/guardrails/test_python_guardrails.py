"""Python guardrails on the input stage, over real sockets: verdicts, priorities, concurrency,
cancellation, failures, and that the data plane never waits for Python."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from _util import mock_config, mock_route
from upstreams import RecordingUpstream, gateway_config, openai_provider

import aigw

CHAT = {"model": "mock-gpt", "messages": [{"role": "user", "content": "hello there"}]}


def chat(gw: aigw.Gateway, content: str = "hello there", **extra: Any) -> httpx.Response:
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": content}], **extra}
    return httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)


def start(*guardrails: aigw.Guardrail, config: dict[str, Any] | None = None) -> aigw.Gateway:
    return aigw.Gateway(config or mock_config(), guardrails=list(guardrails)).start()


@pytest.fixture
def gateways() -> Iterator[list[aigw.Gateway]]:
    started: list[aigw.Gateway] = []
    yield started
    for gw in started:
        gw.stop(drain_timeout=0)


class NoForbidden(aigw.Guardrail):
    def check(self, request: aigw.Request) -> aigw.Verdict:
        if "forbidden" in request.text:
            return aigw.block("forbidden words are not allowed", status=422, code="no_forbidden")
        return aigw.allow()


def test_a_python_guardrail_blocks_before_the_provider(gateways: list[aigw.Gateway]) -> None:
    gw = start(NoForbidden())
    gateways.append(gw)
    ok = chat(gw)
    assert ok.status_code == 200 and ok.headers["x-aigw-provider"] == "mock"
    r = chat(gw, "a forbidden thing")
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "no_forbidden" and err["message"] == "forbidden words are not allowed"
    assert r.headers["x-aigw-guardrail"] == "NoForbidden"
    assert "x-aigw-provider" not in r.headers  # never reached a provider
    assert gw.stats()["guardrails"]["NoForbidden"]["blocks"] == 1


def test_the_same_banned_prompt_is_blocked_on_every_endpoint(gateways: list[aigw.Gateway]) -> None:
    gw = start(NoForbidden())
    gateways.append(gw)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0)
    calls = [
        lambda: client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "forbidden"}]
        ),
        lambda: client.chat.completions.create(
            model="mock-gpt", messages=[{"role": "user", "content": "forbidden"}], stream=True
        ),
        lambda: client.chat.completions.create(
            model="mock-gpt",
            messages=[{"role": "user", "content": [{"type": "text", "text": "so forbidden"}]}],
        ),
        lambda: client.completions.create(model="mock-gpt", prompt="forbidden"),
        lambda: client.completions.create(
            model="mock-gpt", prompt=["ok", "forbidden"], stream=True
        ),
        lambda: client.embeddings.create(model="mock-embedding", input=["fine", "forbidden"]),
    ]
    for call in calls:
        with pytest.raises(openai.UnprocessableEntityError) as info:
            call()
        assert info.value.code == "no_forbidden"


def test_an_async_guardrail_that_sleeps_does_not_stall_other_requests(
    gateways: list[aigw.Gateway],
) -> None:
    @aigw.guardrail
    async def slow(request: aigw.Request) -> aigw.Verdict:
        await asyncio.sleep(1.0 if "slow" in request.text else 0.2)
        return aigw.allow()

    gw = aigw.Gateway(mock_config(), guardrails=[slow], workers=1).start()
    gateways.append(gw)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(chat(gw, "slow").status_code))
        for _ in range(20)
    ]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # Once all twenty wait for Python, the single worker still answers everything else at once,
    # and a request with a short check overtakes them.
    deadline = time.monotonic() + 5
    while httpx.get(gw.url + "/health", timeout=5).json()["requests_in_flight"] < 21:  # + /health
        assert time.monotonic() < deadline
    t1 = time.monotonic()
    assert httpx.get(gw.url + "/health", timeout=5).status_code == 200
    assert chat(gw, "quick").status_code == 200
    overtook = time.monotonic() - t1
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    assert overtook < 0.8  # 0.2 s of its own check, not behind the 1 s ones
    assert results == [200] * 20
    assert took < 3.0  # twenty 1 s checks side by side, not one after the other (20 s)


def test_equal_priorities_run_concurrently_and_lower_runs_first(
    gateways: list[aigw.Gateway],
) -> None:
    log: list[tuple[str, str, float]] = []

    def tracer(name: str, priority: int, sleep: float) -> aigw.Guardrail:
        @aigw.guardrail(name=name, priority=priority)
        async def check(request: aigw.Request) -> aigw.Verdict:
            log.append((name, "start", time.monotonic()))
            await asyncio.sleep(sleep)
            log.append((name, "end", time.monotonic()))
            return aigw.allow()

        return check

    gw = start(tracer("late", 5, 0.05), tracer("a", 0, 0.3), tracer("b", 0, 0.3))
    gateways.append(gw)
    t0 = time.monotonic()
    assert chat(gw).status_code == 200
    took = time.monotonic() - t0
    order = [(n, e) for n, e, _ in log]
    assert set(order[:2]) == {("a", "start"), ("b", "start")}  # side by side ...
    assert order[-2:] == [("late", "start"), ("late", "end")]  # ... and priority 5 after both
    assert took < 0.55  # not 0.6+: a and b overlapped


def test_the_first_block_cancels_its_siblings(gateways: list[aigw.Gateway]) -> None:
    cancelled = threading.Event()

    @aigw.guardrail(name="blocker")
    async def blocker(request: aigw.Request) -> aigw.Verdict:
        await asyncio.sleep(0.05)  # the sleeper is surely running by now
        return aigw.block("no")

    @aigw.guardrail(name="sleeper")
    async def sleeper(request: aigw.Request) -> aigw.Verdict:
        try:
            await asyncio.sleep(3)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return aigw.allow()

    @aigw.guardrail(name="never", priority=1)
    def never(request: aigw.Request) -> aigw.Verdict:
        raise AssertionError("a later priority ran after a block")

    gw = start(blocker, sleeper, never)
    gateways.append(gw)
    t0 = time.monotonic()
    r = chat(gw)
    assert r.status_code == 400 and r.headers["x-aigw-guardrail"] == "blocker"
    assert time.monotonic() - t0 < 1.5
    assert cancelled.wait(2)
    stats = gw.stats()["guardrails"]
    assert stats["never"]["runs"] == 0 and stats["blocker"]["blocks"] == 1


def test_raising_and_timing_out_fail_closed_unless_told_otherwise(
    gateways: list[aigw.Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    @aigw.guardrail(name="raiser")
    def raiser(request: aigw.Request) -> aigw.Verdict:
        if "raise" in request.text:
            raise RuntimeError("boom")
        return aigw.allow()

    @aigw.guardrail(name="sleepy", timeout=0.2)
    async def sleepy(request: aigw.Request) -> aigw.Verdict:
        if "sleep" in request.text:
            await asyncio.sleep(5)
        return aigw.allow()

    @aigw.guardrail(name="lenient", on_error="allow", priority=1)
    def lenient(request: aigw.Request) -> aigw.Verdict:
        if "lenient" in request.text:
            raise ValueError("ignored")
        return aigw.allow()

    @aigw.guardrail(name="wrong_type", priority=2)
    def wrong_type(request: aigw.Request) -> Any:
        return "yes" if "wrong" in request.text else aigw.allow()

    gw = start(raiser, sleepy, lenient, wrong_type)
    gateways.append(gw)
    with caplog.at_level("ERROR", logger="aigw.guardrails"):
        boom = chat(gw, "please raise")
        assert boom.status_code == 503
        assert boom.json()["error"]["code"] == "guardrail_error"
        assert "boom" in boom.json()["error"]["message"]
        t0 = time.monotonic()
        slow = chat(gw, "please sleep")
        assert slow.status_code == 503 and "timed out" in slow.json()["error"]["message"]
        assert time.monotonic() - t0 < 2
        assert chat(gw, "lenient please").status_code == 200
        wrong = chat(gw, "wrong answer")
        assert (
            wrong.status_code == 503 and "not an aigw.Verdict" in wrong.json()["error"]["message"]
        )
    assert any("raiser" in rec.getMessage() for rec in caplog.records)
    stats = gw.stats()["guardrails"]
    assert stats["raiser"]["errors"] == 1 and stats["sleepy"]["timeouts"] == 1
    assert stats["lenient"]["errors"] == 1
    assert chat(gw).status_code == 200  # nothing is broken afterwards


def test_rewrite_and_redact_reach_the_provider(gateways: list[aigw.Gateway]) -> None:
    @aigw.guardrail(priority=0)
    def redact_keys(request: aigw.Request) -> aigw.Verdict:
        found = [w for w in request.text.split() if w.startswith("sk-")]
        return aigw.redact(found, "[KEY]") if found else aigw.allow()

    seen: list[str] = []

    @aigw.guardrail(priority=1)
    def add_system(request: aigw.Request) -> aigw.Verdict:
        seen.append(request.text)  # sees the redaction of priority 0
        return aigw.rewrite(messages=[{"role": "system", "content": "be nice"}, *request.messages])

    with RecordingUpstream() as upstream:
        config = gateway_config({"up": openai_provider(upstream.origin + "/v1")})
        gw = start(redact_keys, add_system, config=config)
        gateways.append(gw)
        r = chat(gw, "my key is sk-abc123 ok")
        assert r.status_code == 200
        sent = upstream.last.json()
    assert seen == ["my key is [KEY] ok"]
    assert sent["messages"] == [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "my key is [KEY] ok"},
    ]
    assert sent["model"] == "mock-gpt"


def test_a_client_that_leaves_while_its_request_is_parked(gateways: list[aigw.Gateway]) -> None:
    release = threading.Event()

    @aigw.guardrail(timeout=10)
    def waits(request: aigw.Request) -> aigw.Verdict:
        release.wait(5)
        return aigw.allow()

    gw = start(waits)
    gateways.append(gw)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gw.url + "/v1/chat/completions", json=CHAT, timeout=0.3)
    release.set()  # the verdict arrives for a request that is gone: dropped quietly
    time.sleep(0.1)
    # In flight: only this /health request itself.
    assert httpx.get(gw.url + "/health", timeout=5).json()["requests_in_flight"] == 1
    assert chat(gw).status_code == 200


def test_an_object_with_an_async_call_is_an_async_check(gateways: list[aigw.Gateway]) -> None:
    class Checker:
        def __init__(self) -> None:
            self.tasks: list[asyncio.Task[Any] | None] = []

        async def __call__(self, request: aigw.Request) -> aigw.Verdict:
            self.tasks.append(asyncio.current_task())
            return aigw.block("no") if "forbidden" in request.text else aigw.allow()

    checker = Checker()
    gw = start(aigw.guardrail(name="obj")(checker))
    gateways.append(gw)
    assert chat(gw).status_code == 200
    assert chat(gw, "forbidden").status_code == 400
    # Like an async def check that does not wait: answered on its first step, without a task
    # (a sync check's result would have been awaited in one).
    assert checker.tasks == [None, None]


def test_guardrail_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="timeout"):
        aigw.guardrail(timeout=0)(lambda r: aigw.allow())
    with pytest.raises(ValueError, match="on_error"):
        aigw.guardrail(on_error="maybe")(lambda r: aigw.allow())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aigw.Guardrail"):
        aigw.Gateway(guardrails=[lambda r: aigw.allow()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="4xx or 5xx"):
        aigw.block(status=200)
    g = NoForbidden(priority=3, timeout=1.5)
    assert (g.name, g.priority, g.timeout, g.on_error) == ("NoForbidden", 3, 1.5, "block")


def test_guardrail_results_and_cost_reach_the_request_record(gateways: list[aigw.Gateway]) -> None:
    @aigw.guardrail(name="checker")
    async def checker(request: aigw.Request) -> aigw.Verdict:
        return aigw.block("nope") if "nope" in request.text else aigw.allow()

    config = mock_config()
    config["pricing"] = {"mock-gpt": {"input": 1.0, "output": 2.0}}
    gw = start(checker, config=config)
    gateways.append(gw)
    ok = chat(gw)
    blocked = chat(gw, "nope")
    assert gw.flush_logs()
    (rec_ok,) = gw.logs(request_id=ok.headers["x-aigw-request-id"])
    (rec_blocked,) = gw.logs(request_id=blocked.headers["x-aigw-request-id"])
    assert [g["name"] for g in rec_ok["guardrails"]] == ["checker"]
    assert rec_ok["guardrails"][0]["verdict"] == "allow"
    assert rec_ok["cost_usd"] == pytest.approx(float(ok.headers["x-aigw-cost-usd"]))
    assert rec_blocked["status"] == 400 and rec_blocked["guardrails"][0]["verdict"] == "block"
    assert rec_blocked["cost_usd"] is None


def test_python_guardrails_from_the_config_follow_route_selection(
    gateways: list[aigw.Gateway],
) -> None:
    config = mock_config()
    config["guardrails"] = [
        {
            "name": "nofoo",
            "kind": "python",
            "hook": "guardrail_hooks:NoWord",
            "options": {"word": "foo"},
            "default": True,
        },
        {"name": "nobar", "kind": "python", "hook": "guardrail_hooks:no_bar", "timeout": 2},
        {"name": "banned", "kind": "phrases", "phrases": ["qux"], "default": True},
    ]
    config["routes"].insert(0, {**mock_route("guarded"), "guardrails": ["nobar", "banned"]})
    config["routes"].insert(0, {**mock_route("open"), "guardrails": []})
    gw = aigw.Gateway(config).start()
    gateways.append(gw)

    def ask(model: str, text: str) -> int:
        return chat(gw, text, model=model).status_code

    assert ask("mock-gpt", "foo") == 400 and ask("mock-gpt", "bar") == 200  # the default
    assert ask("mock-gpt", "qux") == 400  # a built-in default alongside
    assert ask("guarded", "bar") == 400 and ask("guarded", "foo") == 200  # the route's own
    assert ask("guarded", "qux") == 400
    assert ask("open", "foo bar qux") == 200  # none
    stats = gw.stats()["guardrails"]
    # One order: at equal priority the synchronous built-in runs first and blocks "qux" before
    # any Python check starts.
    assert stats["nofoo"]["runs"] == 2 and stats["nobar"]["runs"] == 2
    assert stats["nofoo"]["kind"] == "python" and stats["banned"]["kind"] == "phrases"


def test_python_guardrail_config_errors() -> None:
    config = mock_config()
    config["guardrails"] = [{"name": "g", "kind": "python", "hook": "guardrail_hooks:missing"}]
    with pytest.raises(ValueError, match="cannot load it"):
        aigw.Gateway(config)
    config["guardrails"] = [
        {"name": "g", "kind": "python", "hook": "guardrail_hooks:no_bar", "window": -1},
        {"name": "p", "kind": "phrases", "phrases": ["x"], "stage": "stream", "window": 9},
    ]
    with pytest.raises(aigw.ConfigError) as err:
        aigw.Gateway(config)
    assert "guardrails[0].window" in str(err.value)
    assert "guardrails[1].window: only for kinds regex and python" in str(err.value)
    config["guardrails"] = [{"name": "g", "kind": "python", "default": True}]
    with pytest.raises(aigw.ConfigError, match="needs hook"):
        aigw.Gateway(config)
