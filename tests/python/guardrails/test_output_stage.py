"""Python guardrails at the output stage (docs/guardrails-python.md): whole non-streamed answers
blocked, rewritten and redacted before they reach the client, what the record shows, failures,
and checks cancelled when their request ends. Real gateways, the official openai SDK. Built-in
guardrails at the output stage are in test_builtin_guardrails.py; failures at every stage are
in test_python_guardrails.py."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
from _util import mock_config

import aigw


def ask(client: openai.OpenAI, content: str = "hello", **extra: Any) -> Any:
    return client.chat.completions.create(
        model="mock-gpt", messages=[{"role": "user", "content": content}], **extra
    )


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
    guarded: Callable[..., aigw.Gateway],
    sdk: Callable[[aigw.Gateway], openai.OpenAI],
) -> None:
    guard = AnswerGuard()
    gw = guarded(guard)
    client = sdk(gw)
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


def test_output_stage_results_reach_the_record(
    guarded: Callable[..., aigw.Gateway], sdk: Callable[[aigw.Gateway], openai.OpenAI]
) -> None:
    gw = guarded(AnswerGuard())
    client = sdk(gw)
    raw = client.chat.completions.with_raw_response.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"x-mock-response": "REWRITE"},
    )
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=raw.headers["x-aigw-request-id"])
    assert [(g["stage"], g["verdict"]) for g in rec["guardrails"]] == [
        ("input", "allow"),
        ("output", "rewrite"),
    ]


def test_output_guardrails_do_not_apply_to_streams(
    guarded: Callable[..., aigw.Gateway], sdk: Callable[[aigw.Gateway], openai.OpenAI]
) -> None:
    guard = AnswerGuard()
    gw = guarded(guard)
    client = sdk(gw)
    stream = answer(client, "BLOCKME", stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "BLOCKME"
    assert guard.outputs == [] and guard.inputs == 1


def test_a_rewrite_of_request_fields_is_an_error_at_the_output_stage(
    guarded: Callable[..., aigw.Gateway], sdk: Callable[[aigw.Gateway], openai.OpenAI]
) -> None:
    @aigw.guardrail(name="lenient", stages=["output"], on_error="allow")
    async def lenient(response: aigw.Response) -> aigw.Verdict:
        return aigw.rewrite(prompt="not for answers")  # an error: on_error lets the answer out

    gw = guarded(lenient)
    client = sdk(gw)
    assert answer(client, "fine").choices[0].message.content == "fine"
    assert gw.stats()["guardrails"]["lenient"]["errors"] == 1


def test_output_guardrails_from_the_config(
    guarded: Callable[..., aigw.Gateway], sdk: Callable[[aigw.Gateway], openai.OpenAI]
) -> None:
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
    gw = guarded(config=config)
    client = sdk(gw)
    assert ask(client, "quux").choices  # the request may say it ...
    with pytest.raises(openai.BadRequestError):
        answer(client, "quux")  # ... the answer may not


def test_a_request_that_ends_while_its_answer_is_checked_cancels_the_check(
    guarded: Callable[..., aigw.Gateway],
    sdk: Callable[[aigw.Gateway], openai.OpenAI],
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
    gw = guarded(slow_output, config=config)
    client = sdk(gw)
    t0 = time.monotonic()
    with pytest.raises(openai.APIStatusError) as info:
        ask(client)
    assert info.value.status_code == 504 and time.monotonic() - t0 < 2
    assert cancelled.wait(2)  # the request ended: its check in Python was cancelled
