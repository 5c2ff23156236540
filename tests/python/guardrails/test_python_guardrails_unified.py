"""Python guardrails as guardrails of the gateway's one set: one priority order with the
built-ins, concurrency and cancellation within a priority, selection by header, and the
output stage over whole answers. Real gateways, the official openai SDK."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from _util import mock_config

import aigw


@pytest.fixture
def gateways() -> Iterator[list[aigw.Gateway]]:
    started: list[aigw.Gateway] = []
    yield started
    for gw in started:
        gw.stop(drain_timeout=0)


def start(
    gateways: list[aigw.Gateway], *guardrails: aigw.Guardrail, config: dict[str, Any] | None = None
) -> tuple[aigw.Gateway, openai.OpenAI]:
    gw = aigw.Gateway(config or mock_config(), guardrails=list(guardrails)).start()
    gateways.append(gw)
    return gw, openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0)


def ask(client: openai.OpenAI, content: str = "hello", **extra: Any) -> Any:
    return client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": content}], **extra
    )


def record(gw: aigw.Gateway, request_id: str) -> dict[str, Any]:
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=request_id)
    return rec


def test_built_in_and_python_guardrails_share_one_priority_order(
    gateways: list[aigw.Gateway],
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
    gw, client = start(gateways, late, early, config=config)
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
    gateways: list[aigw.Gateway],
) -> None:
    @aigw.guardrail(priority=-5)
    def hide_codes(request: aigw.Request) -> aigw.Verdict:
        return aigw.redact({"launch codes": "[codes]"})

    config = mock_config()
    config["guardrails"] = [
        {"name": "banned", "kind": "phrases", "phrases": ["launch codes"], "default": True}
    ]
    gw, client = start(gateways, hide_codes, config=config)
    # Without the redaction before it, the phrase guardrail would block.
    assert ask(client, "the launch codes please").choices[0].message.content


def test_two_async_guardrails_of_equal_priority_run_side_by_side(
    gateways: list[aigw.Gateway],
) -> None:
    def sleeper(name: str) -> aigw.Guardrail:
        @aigw.guardrail(name=name)
        async def check(request: aigw.Request) -> aigw.Verdict:
            await asyncio.sleep(0.2)
            return aigw.allow()

        return check

    gw, client = start(gateways, sleeper("a"), sleeper("b"))
    ask(client)  # warm up (connection, first job)
    t0 = time.monotonic()
    ask(client)
    took = time.monotonic() - t0
    assert 0.2 <= took < 0.35  # ~200 ms, not 400


def test_a_fast_block_cancels_a_slow_sibling_in_python(gateways: list[aigw.Gateway]) -> None:
    cancelled = threading.Event()

    @aigw.guardrail(name="fast")
    async def fast(request: aigw.Request) -> aigw.Verdict:
        await asyncio.sleep(0.05)
        return aigw.block("fast says no", code="fast_no")

    @aigw.guardrail(name="slow")
    async def slow(request: aigw.Request) -> aigw.Verdict:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return aigw.allow()

    gw, client = start(gateways, slow, fast)
    t0 = time.monotonic()
    with pytest.raises(openai.BadRequestError) as info:
        ask(client)
    assert time.monotonic() - t0 < 1.0
    assert info.value.code == "fast_no"
    assert info.value.response.headers["x-aigw-guardrail"] == "fast"
    assert cancelled.wait(2)
    rec = record(gw, info.value.response.headers["x-aigw-request-id"])
    assert {g["name"]: g["verdict"] for g in rec["guardrails"]} == {
        "fast": "block",
        "slow": "cancelled",
    }


def test_python_guardrails_selected_per_request_by_header(gateways: list[aigw.Gateway]) -> None:
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
    gw, client = start(gateways, config=config)
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


class AnswerGuard(aigw.Guardrail):
    """Checks whole answers (and, to show both stages, counts the requests it saw)."""

    stages = ("input", "output")

    def __init__(self) -> None:
        super().__init__(name="answers")
        self.inputs = 0
        self.outputs: list[aigw.Response] = []

    def check(self, request: aigw.Request) -> aigw.Verdict:
        self.inputs += 1
        return aigw.allow()

    async def check_output(self, response: aigw.Response) -> aigw.Verdict:
        self.outputs.append(response)
        if "BLOCKME" in response.text:
            return aigw.block("the answer is not allowed", status=451, code="bad_answer")
        if "REWRITE" in response.text:
            return aigw.rewrite(text="a rewritten answer")
        if "secret-123" in response.text:
            return aigw.redact(["secret-123"], "[gone]")
        if "BODY" in response.text:
            body = response.body
            body["choices"][0]["message"]["content"] = "from the body"
            return aigw.rewrite(body=body)
        return aigw.allow()


def answer(client: openai.OpenAI, text: str, **extra: Any) -> Any:
    return ask(client, "hi", extra_headers={"x-mock-response": text}, **extra)


def test_output_stage_blocks_rewrites_and_redacts_whole_answers(
    gateways: list[aigw.Gateway],
) -> None:
    guard = AnswerGuard()
    gw, client = start(gateways, guard)
    ok = answer(client, "all good")
    assert ok.choices[0].message.content == "all good"
    seen = guard.outputs[-1]
    assert seen.text == "all good" and seen.texts() == ["all good"]
    assert seen.model == "mock-gpt" and seen.usage is not None
    assert seen.choices[0]["message"]["role"] == "assistant"
    assert seen.request.model == "mock-gpt" and seen.request.text == "hi"
    assert guard.inputs == 1 and len(guard.outputs) == 1  # each stage once per request

    with pytest.raises(openai.APIStatusError) as info:
        answer(client, "this BLOCKME answer")
    assert info.value.status_code == 451 and info.value.code == "bad_answer"
    assert info.value.response.headers["x-aigw-guardrail"] == "answers"
    assert "BLOCKME" not in info.value.response.text

    assert answer(client, "please REWRITE").choices[0].message.content == "a rewritten answer"
    redacted = answer(client, "the key is secret-123, twice: secret-123")
    assert redacted.choices[0].message.content == "the key is [gone], twice: [gone]"
    assert redacted.usage is not None  # the rest of the answer is kept
    assert answer(client, "BODY").choices[0].message.content == "from the body"

    stats = gw.stats()["guardrails"]["answers"]
    assert stats["stages"] == ["input", "output"]
    assert stats["runs"] == 10 and stats["blocks"] == 1 and stats["redactions"] == 3


def test_output_stage_results_reach_the_record(gateways: list[aigw.Gateway]) -> None:
    gw, client = start(gateways, AnswerGuard())
    raw = client.chat.completions.with_raw_response.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"x-mock-response": "REWRITE"},
    )
    rec = record(gw, raw.headers["x-aigw-request-id"])
    assert [(g["stage"], g["verdict"]) for g in rec["guardrails"]] == [
        ("input", "allow"),
        ("output", "rewrite"),
    ]


def test_output_guardrails_do_not_apply_to_streams(gateways: list[aigw.Gateway]) -> None:
    guard = AnswerGuard()
    _, client = start(gateways, guard)
    stream = answer(client, "BLOCKME", stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "BLOCKME"
    assert guard.outputs == [] and guard.inputs == 1


def test_output_stage_failures_fail_closed_unless_told_otherwise(
    gateways: list[aigw.Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    @aigw.guardrail(name="raiser", stages="output")
    def raiser(response: aigw.Response) -> aigw.Verdict:
        if "raise" in response.text:
            raise RuntimeError("boom at the output")
        return aigw.allow()

    @aigw.guardrail(name="sleepy", stages="output", timeout=0.2)
    async def sleepy(response: aigw.Response) -> aigw.Verdict:
        if "sleep" in response.text:
            await asyncio.sleep(5)
        return aigw.allow()

    @aigw.guardrail(name="lenient", stages=["output"], on_error="allow", priority=1)
    async def lenient(response: aigw.Response) -> aigw.Verdict:
        if "lenient" in response.text:
            raise ValueError("ignored")
        return aigw.rewrite(prompt="not for answers")  # an error too: allowed

    gw, client = start(gateways, raiser, sleepy, lenient)
    with caplog.at_level("ERROR", logger="aigw.guardrails"):
        with pytest.raises(openai.APIStatusError) as info:
            answer(client, "please raise")
        assert info.value.status_code == 503 and info.value.code == "guardrail_error"
        assert "raiser" in info.value.message and "boom at the output" in info.value.message
        t0 = time.monotonic()
        with pytest.raises(openai.APIStatusError) as info:
            answer(client, "please sleep")
        assert info.value.status_code == 503 and "timed out" in info.value.message
        assert time.monotonic() - t0 < 2
        assert answer(client, "lenient please").choices[0].message.content == "lenient please"
    assert any("raiser" in r.getMessage() and r.exc_info for r in caplog.records)
    stats = gw.stats()["guardrails"]
    assert stats["raiser"]["errors"] == 1 and stats["raiser"]["blocks"] == 1
    assert stats["sleepy"]["timeouts"] == 1 and stats["sleepy"]["errors"] == 1
    assert stats["lenient"]["errors"] == 1
    assert answer(client, "fine").choices[0].message.content == "fine"  # a wrong rewrite: allowed
    assert gw.stats()["guardrails"]["lenient"]["errors"] == 2


def test_output_guardrails_from_the_config(gateways: list[aigw.Gateway]) -> None:
    config = mock_config()
    config["guardrails"] = [
        {
            "name": "noquux",
            "kind": "python",
            "hook": "guardrail_hooks:NoWord",
            "options": {"word": "quux"},
            "stage": ["output"],
            "default": True,
        }
    ]
    _, client = start(gateways, config=config)
    assert ask(client, "quux").choices  # the request may say it ...
    with pytest.raises(openai.BadRequestError):
        answer(client, "quux")  # ... the answer may not


def test_guardrail_stage_declarations_are_checked() -> None:
    class InputOnly(aigw.Guardrail):
        def check(self, request: aigw.Request) -> aigw.Verdict:
            return aigw.allow()

    with pytest.raises(TypeError, match="check_output"):
        InputOnly(stages=("input", "output"))
    with pytest.raises(TypeError, match="check_stream"):
        InputOnly(stages=("stream",))
    with pytest.raises(ValueError, match="stages"):
        InputOnly(stages=("later",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="window"):
        InputOnly(window=-1)
    assert InputOnly().stages == ("input",)
    with pytest.raises(ValueError, match="texts or text"):
        aigw.rewrite(texts=["a"], text="b")
    view = aigw.Response(
        {"model": "m", "choices": [{"message": {"content": "x"}}, {"text": "y"}]},
        {"model": "m", "body": {"messages": [{"role": "user", "content": "q"}]}},
    )
    assert view.texts() == ["x", "y"] and view.request.text == "q" and view.usage is None


def test_a_request_that_ends_while_its_answer_is_checked_cancels_the_check(
    gateways: list[aigw.Gateway],
) -> None:
    cancelled = threading.Event()

    @aigw.guardrail(name="slow_output", stages="output", timeout=10)
    async def slow_output(response: aigw.Response) -> aigw.Verdict:
        try:
            await asyncio.sleep(3)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return aigw.allow()

    config = mock_config()
    config["routes"][0]["timeout"] = 0.3  # mock-gpt: the deadline passes while the answer waits
    _, client = start(gateways, slow_output, config=config)
    t0 = time.monotonic()
    with pytest.raises(openai.APIStatusError) as info:
        ask(client)
    assert info.value.status_code == 504 and time.monotonic() - t0 < 2
    assert cancelled.wait(2)  # the request ended: its check in Python was cancelled
