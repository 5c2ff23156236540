"""Guardrails on the Anthropic Messages API: the same checks as for OpenAI requests, their
verdicts answered in Anthropic's shape, and a route to an Anthropic provider that has answer
guardrails translated both ways (the guardrails read OpenAI's shape) instead of relayed as is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from _util import mock_route
from fake_anthropic import handler as anthropic_handler
from upstreams import RecordingUpstream, recording_upstream

import aigw


@pytest.fixture(scope="module")
def anthropic_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(anthropic_handler) as up:
        yield up


@pytest.fixture(scope="module")
def gw(anthropic_up: RecordingUpstream) -> Iterator[aigw.Gateway]:
    config = {
        "server": {"workers": 1},
        "providers": {
            "mock": {"kind": "mock"},
            "claude": {
                "kind": "anthropic",
                "base_url": anthropic_up.origin,
                "api_key": "sk-ant-key-000000",
            },
        },
        "guardrails": [
            {
                "name": "banned",
                "kind": "phrases",
                "phrases": ["launch codes"],
                "stage": ["input"],
                "default": True,
            },
            {
                "name": "no-anthropic",
                "kind": "phrases",
                "phrases": ["Anthropic"],
                "stage": ["output", "stream"],
                "action": "redact",
            },
            {
                "name": "no-mock",
                "kind": "phrases",
                "phrases": ["mock answer"],
                "stage": ["stream"],
                "action": "block",
            },
        ],
        "routes": [
            mock_route("plain"),
            {**mock_route("guarded-stream"), "guardrails": ["banned", "no-mock"]},
            {
                **mock_route("claude", "claude"),
                "model": "claude-sonnet-4-5",
                "guardrails": ["banned", "no-anthropic"],
            },
        ],
    }
    with aigw.Gateway(config) as g:
        yield g


def ask(gw: aigw.Gateway, model: str, text: str, **kw: Any) -> Any:
    with anthropic.Anthropic(base_url=gw.url, api_key="k", max_retries=0) as c:
        return c.messages.create(
            model=model, max_tokens=100, messages=[{"role": "user", "content": text}], **kw
        )


def test_an_input_block_is_an_anthropic_error(gw: aigw.Gateway) -> None:
    r = httpx.post(
        gw.url + "/v1/messages",
        json={
            "model": "plain",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "the launch codes"}],
        },
    )
    assert r.status_code == 400
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "invalid_request_error"
    assert r.headers["x-aigw-guardrail"] == "banned"


def test_an_output_guardrail_redacts_an_anthropic_providers_answer(
    gw: aigw.Gateway, anthropic_up: RecordingUpstream
) -> None:
    msg = ask(gw, "claude", "hello")
    assert "Anthropic" not in msg.content[0].text and msg.content[0].text.startswith("Hello from ")
    # The answer went through the OpenAI shape for the guardrail and back: a message again.
    assert msg.type == "message" and msg.usage.output_tokens == 5


def test_a_streamed_answer_is_redacted_event_by_event(gw: aigw.Gateway) -> None:
    with (
        anthropic.Anthropic(base_url=gw.url, api_key="k", max_retries=0) as c,
        c.messages.stream(
            model="claude", max_tokens=100, messages=[{"role": "user", "content": "hello"}]
        ) as s,
    ):
        text = "".join(s.text_stream)
    assert text.startswith("Hello from ") and "Anthropic" not in text


def test_a_stream_block_is_an_anthropic_error(gw: aigw.Gateway) -> None:
    body = {
        "model": "guarded-stream",
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    headers = {"x-mock-chunks": "4", "x-mock-response": "so this is a mock answer, friend"}
    r = httpx.post(gw.url + "/v1/messages", json=body, headers=headers)
    # Blocked before any text went out: the whole answer is the error.
    assert r.json() == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "the response was blocked by guardrail 'no-mock': matched a blocked phrase",
        },
    }
    # Blocked after text went out: the stream ends with an error event, no message_stop.
    headers["x-mock-response"] = "a long harmless opening sentence before the mock answer"
    headers["x-mock-chunks"] = "12"
    headers["x-mock-chunk-delay-ms"] = "20"  # text goes out before the phrase is whole
    with httpx.stream("POST", gw.url + "/v1/messages", json=body, headers=headers) as s:
        events = [line[7:] for line in s.iter_lines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "error", events
    assert "message_stop" not in events
