"""kind: gemini behind the OpenAI API: the official ``openai`` SDK through aigw to a fake Gemini
upstream (tests/python/providers/fake_gemini.py) that checks the URL, key header and body
Google's API expects; and the Anthropic SDK to the same route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from _util import mock_route
from fake_gemini import handler as gemini_handler
from upstreams import WEATHER_TOOL, RecordingUpstream, recording_upstream

import aigw


@pytest.fixture(scope="module")
def gemini_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(gemini_handler) as up:
        yield up


@pytest.fixture(scope="module")
def gw(gemini_up: RecordingUpstream) -> Iterator[aigw.Gateway]:
    config = {
        "server": {"workers": 1},
        "providers": {
            "google": {
                "kind": "gemini",
                "base_url": gemini_up.origin + "/v1beta",
                "api_key": "AIza-gemini-key-0123",
            },
        },
        "routes": [
            {**mock_route("gem", "google"), "model": "gemini-2.5-flash"},
            {**mock_route("gem-embed", "google"), "model": "text-embedding-004"},
        ],
    }
    with aigw.Gateway(config) as g:
        yield g


@pytest.fixture()
def client(gw: aigw.Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gw.url + "/v1", api_key="client-key", max_retries=0) as c:
        yield c


def chat(c: openai.OpenAI, text: str = "Say hello", **kw: Any) -> Any:
    return c.chat.completions.create(
        model="gem", messages=[{"role": "user", "content": text}], **kw
    )


def test_the_upstream_gets_generate_content_with_the_key_header(
    client: openai.OpenAI, gemini_up: RecordingUpstream
) -> None:
    out = client.chat.completions.create(
        model="gem",
        max_tokens=50,
        temperature=0.2,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
    )
    sent = gemini_up.requests[-1]
    assert sent.method == "POST" and sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.header("x-goog-api-key") == "AIza-gemini-key-0123"
    assert sent.header("authorization") is None
    body = sent.json()
    assert body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Say hello"}]}]
    assert body["generationConfig"] == {"maxOutputTokens": 50, "temperature": 0.2}
    assert (
        out.choices[0].message.content == "Hello from Gemini"
        and out.choices[0].finish_reason == "stop"
    )
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (11, 4)
    assert out.usage.prompt_tokens_details.cached_tokens == 2


def test_a_stream_uses_alt_sse_and_is_transcoded(
    client: openai.OpenAI, gemini_up: RecordingUpstream
) -> None:
    chunks = list(chat(client, stream=True, stream_options={"include_usage": True}))
    assert (
        gemini_up.requests[-1].target
        == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == "Hello from Gemini"
    )
    assert [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


def test_tool_calls_translate_both_ways(
    client: openai.OpenAI, gemini_up: RecordingUpstream
) -> None:
    out = chat(client, "TOOL weather", tools=[WEATHER_TOOL], tool_choice="required")
    sent = gemini_up.requests[-1].json()
    assert sent["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"
    assert sent["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"
    call = out.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and call.function.arguments == '{"city":"Paris"}'
    assert out.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (429, openai.RateLimitError),
        (503, openai.InternalServerError),
    ],
)
def test_google_errors_become_openai_errors(
    client: openai.OpenAI, status: int, error: type[Exception]
) -> None:
    with pytest.raises(error) as e:
        chat(client, f"FAIL {status}")
    assert f"fake failure {status}" in str(e.value)


def test_embeddings_go_to_batch_embed_contents(
    client: openai.OpenAI, gemini_up: RecordingUpstream
) -> None:
    out = client.embeddings.create(model="gem-embed", input=["a", "bcd"], dimensions=3)
    sent = gemini_up.requests[-1]
    assert sent.path == "/v1beta/models/text-embedding-004:batchEmbedContents"
    assert sent.json()["requests"][1] == {
        "model": "models/text-embedding-004",
        "content": {"parts": [{"text": "bcd"}]},
        "outputDimensionality": 3,
    }
    assert [d.embedding for d in out.data] == [[0.5, -0.25, 1.0], [0.5, -0.25, 3.0]]


def test_a_field_gemini_cannot_express_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as e:
        chat(client, logit_bias={"1": 5})
    assert "logit_bias" in str(e.value) and "drop_params" in str(e.value)


def test_the_anthropic_sdk_reaches_gemini_too(gw: aigw.Gateway) -> None:
    with anthropic.Anthropic(base_url=gw.url, api_key="k", max_retries=0) as c:
        msg = c.messages.create(
            model="gem", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
        assert msg.content[0].text == "Hello from Gemini" and msg.stop_reason == "end_turn"
        with c.messages.stream(
            model="gem", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        ) as s:
            assert "".join(s.text_stream) == "Hello from Gemini"
