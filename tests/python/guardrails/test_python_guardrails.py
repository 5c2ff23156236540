"""Python guardrails (docs/guardrails-python.md) over real sockets: one priority order with the
built-ins, concurrency and cancellation within a priority, failures at every stage, rewrites
and redactions, selection by route and by header, what reaches the request record, and that
the data plane never waits for Python. The output stage is in test_output_stage.py, the stream
stage in test_stream_stage.py, the during stage in test_during_stage.py."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest
from _util import mock_config, mock_route
from guardrail_hooks import NoForbidden
from upstreams import RecordingUpstream, gateway_config, openai_provider

import aigw

CHAT = {"model": "mock-gpt", "messages": [{"role": "user", "content": "hello there"}]}


def chat(gw: aigw.Gateway, content: str = "hello there", **extra: Any) -> httpx.Response:
    body = {"model": "mock-gpt", "messages": [{"role": "user", "content": content}], **extra}
    return httpx.post(gw.url + "/v1/chat/completions", json=body, timeout=10)


def ask(client: openai.OpenAI, content: str = "hello", **extra: Any) -> Any:
    return client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": content}], **extra
    )


def record(gw: aigw.Gateway, request_id: str) -> aigw.RequestRecord:
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=request_id)
    return rec


def test_a_python_guardrail_blocks_before_the_provider(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    gw = guarded(NoForbidden())
    ok = chat(gw)
    assert ok.status_code == 200 and ok.headers["x-aigw-provider"] == "mock"
    r = chat(gw, "a forbidden thing")
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "no_forbidden" and err["message"] == "forbidden words are not allowed"
    assert r.headers["x-aigw-guardrail"] == "NoForbidden"
    assert "x-aigw-provider" not in r.headers  # never reached a provider
    assert gw.stats()["guardrails"]["NoForbidden"]["blocks"] == 1


# --------------------------------------------------------------------------- one order, concurrency


def test_built_in_and_python_guardrails_share_one_priority_order(
    guarded: Callable[..., aigw.Gateway],
    sdk: Callable[[aigw.Gateway], openai.OpenAI],
) -> None:
    seen: dict[str, str] = {}

    @aigw.guardrail(name="early", priority=-1)
    def early(request: aigw.Request) -> aigw.Verdict:
        seen["early"] = request.text
        return aigw.rewrite(text=request.text + " or c@d.io")

    @aigw.guardrail(name="late", priority=1)
    async def late(request: aigw.Request) -> aigw.Verdict:
        seen["late"] = request.text
        return aigw.allow()

    config = mock_config()
    config["guardrails"] = [
        {
            "name": "emails",
            "kind": "regex",
            "action": "redact",
            "presets": ["email"],
            "default": True,
        }
    ]
    gw = guarded(late, early, config=config)
    client = sdk(gw)
    raw = client.chat.completions.with_raw_response.create(
        model="mock-gpt", messages=[{"role": "user", "content": "write to a@b.io"}]
    )
    # The Python guardrail before the built-in rewrote the text; the built-in redacted what it
    # found, the added address included; the Python one after it saw the redaction.
    assert seen["early"] == "write to a@b.io"
    assert seen["late"] == "write to [REDACTED:email] or [REDACTED:email]"
    rec = record(gw, raw.headers["x-aigw-request-id"])
    assert [(g["name"], g["kind"], g["verdict"]) for g in rec["guardrails"]] == [
        ("early", "python", "rewrite"),
        ("emails", "regex", "redact"),
        ("late", "python", "allow"),
    ]
    stats = gw.stats()["guardrails"]
    assert stats["early"]["redactions"] == 1 and stats["emails"]["redactions"] == 1
    assert stats["late"]["runs"] == 1 and stats["late"]["stages"] == ["input"]


def test_a_python_guardrail_redacts_for_the_built_ins_after_it(
    guarded: Callable[..., aigw.Gateway],
    sdk: Callable[[aigw.Gateway], openai.OpenAI],
) -> None:
    @aigw.guardrail(priority=-5)
    def hide_codes(request: aigw.Request) -> aigw.Verdict:
        return aigw.redact({"launch codes": "[codes]"})

    config = mock_config()
    config["guardrails"] = [
        {"name": "banned", "kind": "phrases", "phrases": ["launch codes"], "default": True}
    ]
    gw = guarded(hide_codes, config=config)
    client = sdk(gw)
    # Without the redaction before it, the phrase guardrail would block.
    assert ask(client, "the launch codes please").choices[0].message.content


def test_an_async_guardrail_that_sleeps_does_not_stall_other_requests(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    @aigw.guardrail
    async def slow(request: aigw.Request) -> aigw.Verdict:
        await asyncio.sleep(1.0 if "slow" in request.text else 0.2)
        return aigw.allow()

    gw = guarded(slow, workers=1)
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
    guarded: Callable[..., aigw.Gateway],
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

    gw = guarded(tracer("late", 5, 0.05), tracer("a", 0, 0.3), tracer("b", 0, 0.3))
    t0 = time.monotonic()
    assert chat(gw).status_code == 200
    took = time.monotonic() - t0
    order = [(n, e) for n, e, _ in log]
    assert set(order[:2]) == {("a", "start"), ("b", "start")}  # side by side ...
    assert order[-2:] == [("late", "start"), ("late", "end")]  # ... and priority 5 after both
    assert took < 0.55  # not 0.6+: a and b overlapped


def test_two_async_guardrails_of_equal_priority_run_side_by_side(
    guarded: Callable[..., aigw.Gateway],
    sdk: Callable[[aigw.Gateway], openai.OpenAI],
) -> None:
    def sleeper(name: str) -> aigw.Guardrail:
        @aigw.guardrail(name=name)
        async def check(request: aigw.Request) -> aigw.Verdict:
            await asyncio.sleep(0.2)
            return aigw.allow()

        return check

    gw = guarded(sleeper("a"), sleeper("b"))
    client = sdk(gw)
    ask(client)  # warm up (connection, first job)
    t0 = time.monotonic()
    ask(client)
    took = time.monotonic() - t0
    assert 0.2 <= took < 0.35  # ~200 ms, not 400


@pytest.mark.parametrize("blocker_first", [True, False], ids=["blocker-first", "sleeper-first"])
def test_the_first_block_cancels_its_siblings(
    guarded: Callable[..., aigw.Gateway], blocker_first: bool
) -> None:
    cancelled = threading.Event()

    @aigw.guardrail(name="blocker")
    async def blocker(request: aigw.Request) -> aigw.Verdict:
        await asyncio.sleep(0.05)  # the sleeper is surely running by now
        return aigw.block("blocker says no", code="fast_no")

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

    siblings = [blocker, sleeper] if blocker_first else [sleeper, blocker]
    gw = guarded(*siblings, never)
    t0 = time.monotonic()
    r = chat(gw)
    assert r.status_code == 400 and r.headers["x-aigw-guardrail"] == "blocker"
    assert r.json()["error"]["code"] == "fast_no"
    assert time.monotonic() - t0 < 1.0
    assert cancelled.wait(2)
    stats = gw.stats()["guardrails"]
    assert stats["never"]["runs"] == 0 and stats["blocker"]["blocks"] == 1
    rec = record(gw, r.headers["x-aigw-request-id"])
    assert {g["name"]: g["verdict"] for g in rec["guardrails"]} == {
        "blocker": "block",
        "sleeper": "cancelled",
    }


# ----------------------------------------------------------------------------------------- failures


def answer_text(r: httpx.Response) -> str:
    """The text of a chat answer, streamed or not."""
    if not r.headers["content-type"].startswith("text/event-stream"):
        return str(r.json()["choices"][0]["message"]["content"])
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
    return "".join(c["delta"].get("content") or "" for ev in events for c in ev["choices"])


def _answered(gw: aigw.Gateway, text: str, *, stream: bool) -> httpx.Response:
    headers = {"x-mock-response": text, **({"x-mock-chunks": "3"} if stream else {})}
    return httpx.post(
        gw.url + "/v1/chat/completions",
        json={**CHAT, "stream": stream},
        headers=headers,
        timeout=10,
    )


@dataclass(frozen=True)
class Stage:
    """How a test puts `text` in front of a guardrail of one stage."""

    send: Callable[[aigw.Gateway, str], httpx.Response]
    echoes: bool  # the client's answer is the checked text
    per_request: bool  # a guardrail runs once per request (the stream stage: once per window)


STAGES = {
    "input": Stage(lambda gw, text: chat(gw, text), echoes=False, per_request=True),
    "output": Stage(
        lambda gw, text: _answered(gw, text, stream=False), echoes=True, per_request=True
    ),
    "stream": Stage(
        lambda gw, text: _answered(gw, text, stream=True), echoes=True, per_request=False
    ),
}


@pytest.mark.parametrize("lenient_async", [False, True], ids=["sync-lenient", "async-lenient"])
@pytest.mark.parametrize("stage", sorted(STAGES))
def test_raising_and_timing_out_fail_closed_unless_told_otherwise(
    guarded: Callable[..., aigw.Gateway],
    caplog: pytest.LogCaptureFixture,
    stage: str,
    lenient_async: bool,
) -> None:
    how = STAGES[stage]

    @aigw.guardrail(name="raiser", stages=stage)
    def raiser(seen: Any) -> aigw.Verdict:
        if "raise" in seen.text:
            raise RuntimeError(f"boom at the {stage} stage")
        return aigw.allow()

    @aigw.guardrail(name="sleepy", stages=stage, timeout=0.2)
    async def sleepy(seen: Any) -> aigw.Verdict:
        if "sleep" in seen.text:
            await asyncio.sleep(5)
        return aigw.allow()

    def lenient_check(seen: Any) -> aigw.Verdict:
        if "lenient" in seen.text:
            raise ValueError("ignored")
        return aigw.allow()

    async def lenient_async_check(seen: Any) -> aigw.Verdict:
        return lenient_check(seen)

    lenient = aigw.guardrail(name="lenient", stages=[stage], on_error="allow", priority=1)(
        lenient_async_check if lenient_async else lenient_check
    )

    gw = guarded(raiser, sleepy, lenient)
    with caplog.at_level("ERROR", logger="aigw.guardrails"):
        boom = how.send(gw, "please raise")
        assert boom.status_code == 503
        err = boom.json()["error"]
        assert err["code"] == "guardrail_error"
        assert "raiser" in err["message"] and f"boom at the {stage} stage" in err["message"]
        t0 = time.monotonic()
        slow = how.send(gw, "please sleep")
        assert slow.status_code == 503 and "timed out" in slow.json()["error"]["message"]
        assert time.monotonic() - t0 < 2
        lenient_answer = how.send(gw, "lenient please")
        assert lenient_answer.status_code == 200
        assert not how.echoes or answer_text(lenient_answer) == "lenient please"
    assert any("raiser" in r.getMessage() and r.exc_info for r in caplog.records)
    stats = gw.stats()["guardrails"]
    assert stats["raiser"]["errors"] == 1 and stats["raiser"]["blocks"] == 1
    assert stats["sleepy"]["timeouts"] == 1 and stats["sleepy"]["errors"] == 1
    assert stats["lenient"]["errors"] >= 1
    assert not how.per_request or stats["lenient"]["errors"] == 1
    fine = how.send(gw, "all fine here")  # nothing is broken afterwards
    assert fine.status_code == 200
    assert not how.echoes or answer_text(fine) == "all fine here"


def test_a_check_that_returns_no_verdict_fails_closed(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    @aigw.guardrail(name="wrong_type", priority=2)
    def wrong_type(request: aigw.Request) -> Any:
        return "yes" if "wrong" in request.text else aigw.allow()

    gw = guarded(wrong_type)
    wrong = chat(gw, "wrong answer")
    assert wrong.status_code == 503 and "not an aigw.Verdict" in wrong.json()["error"]["message"]
    assert gw.stats()["guardrails"]["wrong_type"]["errors"] == 1
    assert chat(gw).status_code == 200


# -------------------------------------------------------------------------- edits, clients, records


def test_rewrite_and_redact_reach_the_provider(guarded: Callable[..., aigw.Gateway]) -> None:
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
        gw = guarded(redact_keys, add_system, config=config)
        r = chat(gw, "my key is sk-abc123 ok")
        assert r.status_code == 200
        sent = upstream.last.json()
    assert seen == ["my key is [KEY] ok"]
    assert sent["messages"] == [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "my key is [KEY] ok"},
    ]
    assert sent["model"] == "mock-gpt"


def test_a_client_that_leaves_while_its_request_is_parked(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    release = threading.Event()

    @aigw.guardrail(timeout=10)
    def waits(request: aigw.Request) -> aigw.Verdict:
        release.wait(5)
        return aigw.allow()

    gw = guarded(waits)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gw.url + "/v1/chat/completions", json=CHAT, timeout=0.3)
    release.set()  # the verdict arrives for a request that is gone: dropped quietly
    time.sleep(0.1)
    # In flight: only this /health request itself.
    assert httpx.get(gw.url + "/health", timeout=5).json()["requests_in_flight"] == 1
    assert chat(gw).status_code == 200


def test_an_object_with_an_async_call_is_an_async_check(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    class Checker:
        def __init__(self) -> None:
            self.tasks: list[asyncio.Task[Any] | None] = []

        async def __call__(self, request: aigw.Request) -> aigw.Verdict:
            self.tasks.append(asyncio.current_task())
            return aigw.block("no") if "forbidden" in request.text else aigw.allow()

    checker = Checker()
    gw = guarded(aigw.guardrail(name="obj")(checker))
    assert chat(gw).status_code == 200
    assert chat(gw, "forbidden").status_code == 400
    # Like an async def check that does not wait: answered on its first step, without a task
    # (a sync check's result would have been awaited in one).
    assert checker.tasks == [None, None]


def test_guardrail_results_and_cost_reach_the_request_record(
    guarded: Callable[..., aigw.Gateway],
) -> None:
    @aigw.guardrail(name="checker")
    async def checker(request: aigw.Request) -> aigw.Verdict:
        return aigw.block("nope") if "nope" in request.text else aigw.allow()

    config = mock_config()
    config["pricing"] = {"mock-gpt": {"input": 1.0, "output": 2.0}}
    gw = guarded(checker, config=config)
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
    make_gateway: Callable[..., aigw.Gateway],
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
    gw = make_gateway(config)

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


# ---------------------------------------------------------------------------------------- selection


def test_python_guardrails_selected_per_request_by_header(
    guarded: Callable[..., aigw.Gateway], sdk: Callable[[aigw.Gateway], openai.OpenAI]
) -> None:
    config = mock_config()
    config["guardrails"] = [
        {
            "name": "nofoo",
            "kind": "python",
            "hook": "guardrail_hooks:NoWord",
            "options": {"word": "foo"},
            "request_selectable": True,
        },
        {"name": "nobar", "kind": "python", "hook": "guardrail_hooks:no_bar"},
    ]
    gw = guarded(config=config)
    client = sdk(gw)
    assert ask(client, "foo bar").choices  # neither is selected by the route
    with pytest.raises(openai.BadRequestError) as info:
        ask(client, "foo", extra_headers={"x-aigw-guardrails": "nofoo"})
    assert info.value.response.headers["x-aigw-guardrail"] == "nofoo"
    assert ask(client, "fine", extra_headers={"x-aigw-guardrails": "nofoo"}).choices
    with pytest.raises(openai.BadRequestError) as info:
        ask(client, "x", extra_headers={"x-aigw-guardrails": "nobar"})  # not selectable
    assert info.value.code == "guardrail_not_selectable"
    assert gw.stats()["guardrails"]["nofoo"]["runs"] == 2
    assert gw.stats()["guardrails"]["nobar"]["runs"] == 0


def test_a_python_guardrails_block_config_fills_what_its_verdict_leaves_out(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    config = mock_config()
    entry = {"kind": "python", "default": True}
    config["guardrails"] = [
        {  # aigw.block("no bar"): a message only
            **entry, "name": "nobar", "hook": "guardrail_hooks:no_bar",
            "block": {"status": 451, "type": "policy_error", "code": "no_bar_here"},
        },
        {  # aigw.block(): nothing at all
            **entry, "name": "nobaz", "hook": "guardrail_hooks:no_baz",
            "block": {"status": 409, "message": "configured message"},
        },
        {  # aigw.block("...", status=422, code="no_forbidden")
            **entry, "name": "noforbidden", "hook": "guardrail_hooks:NoForbidden",
            "block": {"status": 451, "message": "configured", "code": "configured"},
        },
    ]  # fmt: skip
    gw = make_gateway(config)

    def error(text: str) -> tuple[int, dict[str, Any], str]:
        r = chat(gw, text)
        return r.status_code, r.json()["error"], r.headers["x-aigw-guardrail"]

    assert error("bar") == (
        451, {"message": "no bar", "type": "policy_error", "code": "no_bar_here", "param": None}, "nobar"
    )  # fmt: skip
    assert error("baz") == (
        409, {"message": "configured message", "type": "invalid_request_error", "code": "content_blocked",
              "param": None}, "nobaz",
    )  # fmt: skip
    status, body, _ = error("forbidden")  # the verdict's own fields win
    assert (status, body["message"], body["code"]) == (422, "forbidden words are not allowed", "no_forbidden")
