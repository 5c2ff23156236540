"""kind: anthropic behind the OpenAI API: the official ``openai`` SDK through aigw to a fake
Anthropic upstream (tests/python/providers/fake_anthropic.py) that checks the wire format the
Messages API expects (path, x-api-key, anthropic-version, a Messages body), and kind: azure's
deployment URLs and api-key header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from _util import mock_route
from fake_anthropic import handler as anthropic_handler
from upstreams import WEATHER_TOOL, RecordingUpstream, openai_handler, recording_upstream

import aigw


@pytest.fixture(scope="module")
def anthropic_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(anthropic_handler) as up:
        yield up


@pytest.fixture(scope="module")
def azure_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(openai_handler) as up:
        yield up


@pytest.fixture(scope="module")
def gw(anthropic_up: RecordingUpstream, azure_up: RecordingUpstream) -> Iterator[aigw.Gateway]:
    config = {
        "server": {"workers": 1},
        "providers": {
            "claude": {
                "kind": "anthropic",
                "base_url": anthropic_up.origin,
                "api_key": "sk-ant-upstream-key-1",
                "default_max_tokens": 321,
            },
            "az": {
                "kind": "azure",
                "base_url": azure_up.origin,
                "api_key": "azure-key-0123456789",
                "api_version": "2024-10-21",
            },
        },
        "routes": [
            {**mock_route("claude", "claude"), "model": "claude-sonnet-4-5"},
            {
                **mock_route("claude-lenient", "claude"),
                "model": "claude-sonnet-4-5",
                "drop_params": ["seed", "logprobs"],
            },
            {**mock_route("az-gpt", "az"), "model": "my-gpt4o-deployment"},
        ],
    }
    with aigw.Gateway(config) as g:
        yield g


@pytest.fixture()
def client(gw: aigw.Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gw.url + "/v1", api_key="client-key", max_retries=0) as c:
        yield c


def chat(c: openai.OpenAI, model: str = "claude", text: str = "Say hello", **kw: Any) -> Any:
    return c.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], **kw
    )


def test_the_upstream_gets_a_messages_request_with_anthropics_headers(
    client: openai.OpenAI, anthropic_up: RecordingUpstream
) -> None:
    out = client.chat.completions.create(
        model="claude",
        temperature=0.5,
        stop=["END"],
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
    )
    sent = anthropic_up.requests[-1]
    assert sent.method == "POST" and sent.path == "/v1/messages"
    assert sent.header("x-api-key") == "sk-ant-upstream-key-1"
    assert sent.header("anthropic-version") == "2023-06-01"
    assert sent.header("authorization") is None  # the client's key never goes upstream
    assert sent.json() == {
        "model": "claude-sonnet-4-5",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Say hello"}],
        "max_tokens": 321,  # the provider's default_max_tokens: the request set none
        "temperature": 0.5,
        "stop_sequences": ["END"],
    }
    assert out.object == "chat.completion"
    assert out.choices[0].message.content == "Hello from Anthropic"
    assert out.choices[0].finish_reason == "stop"
    assert out.usage.prompt_tokens == 17 and out.usage.completion_tokens == 5
    assert out.usage.prompt_tokens_details.cached_tokens == 3


def test_a_stream_is_transcoded_to_chat_completion_chunks(client: openai.OpenAI) -> None:
    stream = chat(client, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from Anthropic"
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5


def test_tool_calls_translate_both_ways(
    client: openai.OpenAI, anthropic_up: RecordingUpstream
) -> None:
    out = chat(client, text="TOOL weather", tools=[WEATHER_TOOL], tool_choice="required")
    sent = anthropic_up.requests[-1].json()
    assert sent["tools"] == [
        {
            "name": "get_weather",
            "description": "The weather in a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"],
        }
    ]
    assert sent["tool_choice"] == {"type": "any"}
    call = out.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "toolu_01",
        "get_weather",
        '{"city":"Paris"}',
    )
    assert out.choices[0].finish_reason == "tool_calls"


def test_streamed_tool_calls_arrive_as_tool_call_deltas(client: openai.OpenAI) -> None:
    chunks = list(chat(client, text="TOOL weather", tools=[WEATHER_TOOL], stream=True))
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].id == "toolu_01" and calls[0].function.name == "get_weather"
    assert "".join(tc.function.arguments or "" for tc in calls) == '{"city": "Paris"}'


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (400, openai.BadRequestError, 400),
        (429, openai.RateLimitError, 429),
        (529, openai.InternalServerError, 503),
    ],
)
def test_anthropic_errors_become_openai_errors(
    client: openai.OpenAI, status: int, error: type[Exception], code: int
) -> None:
    with pytest.raises(error) as e:
        chat(client, text=f"FAIL {status}")
    assert e.value.status_code == code  # type: ignore[attr-defined]
    assert f"fake failure {status}" in str(e.value)


def test_a_field_anthropic_cannot_express_is_refused_unless_dropped(
    client: openai.OpenAI, anthropic_up: RecordingUpstream
) -> None:
    before = len(anthropic_up.requests)
    with pytest.raises(openai.BadRequestError) as e:
        chat(client, seed=7)
    assert "'seed'" in str(e.value) and "drop_params" in str(e.value)
    assert len(anthropic_up.requests) == before  # refused before anything was sent
    out = chat(client, "claude-lenient", seed=7, logprobs=False)
    assert out.choices[0].message.content
    assert "seed" not in anthropic_up.requests[-1].json()


def test_embeddings_are_refused_clearly_by_an_anthropic_provider(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        client.embeddings.create(model="claude", input="x")
    assert "has no embeddings endpoint" in str(e.value)


def test_azure_deployment_url_api_version_and_key(
    client: openai.OpenAI, azure_up: RecordingUpstream
) -> None:
    out = chat(client, "az-gpt")
    assert out.choices[0].message.content == "hello from upstream"
    sent = azure_up.requests[-1]
    assert sent.path == "/openai/deployments/my-gpt4o-deployment/chat/completions"
    assert sent.query == "api-version=2024-10-21"
    assert sent.header("api-key") == "azure-key-0123456789"
    assert sent.header("authorization") is None
    client.embeddings.create(model="az-gpt", input="x")
    assert azure_up.requests[-1].path == "/openai/deployments/my-gpt4o-deployment/embeddings"


def test_the_anthropic_key_is_masked_if_the_upstream_echoes_it(
    gw: aigw.Gateway, anthropic_up: RecordingUpstream
) -> None:
    async def echo(req: Any, reply: Any) -> None:
        await reply.json(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "bad key " + (req.header("x-api-key") or ""),
                },
            },
            400,
        )

    anthropic_up.handler = echo
    try:
        with pytest.raises(openai.BadRequestError) as e:
            with openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0) as c:
                chat(c)
        assert "sk-ant-upstream-key-1" not in str(e.value.body)
    finally:
        anthropic_up.handler = anthropic_handler
