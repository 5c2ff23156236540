"""The mock speaks every client API aigw serves: `aigw mock` (a mock-mode gateway) answers
OpenAI, Anthropic Messages and Gemini requests in each API's own shape, streaming or not, tool
calls included, so a provider of each kind can be tested offline against it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from _util import STOCK_ANSWER
from upstreams import WEATHER_TOOL, mock_upstream_gateway

import aigw

GEMINI_TOOL = {
    "functionDeclarations": [
        {"name": "get_weather", "parameters": WEATHER_TOOL["function"]["parameters"]}
    ]
}


@pytest.fixture(scope="module")
def mock() -> Iterator[aigw.Gateway]:
    with mock_upstream_gateway() as gw:
        yield gw


def gemini(
    mock: aigw.Gateway, method: str, body: dict[str, Any], model: str = "gemini-2.5-flash"
) -> httpx.Response:
    query = "?alt=sse" if method == "streamGenerateContent" else ""
    return httpx.post(
        f"{mock.url}/v1beta/models/{model}:{method}{query}",
        json=body,
        headers={"x-goog-api-key": "k"},
    )


def test_gemini_generate_content(mock: aigw.Gateway) -> None:
    r = gemini(mock, "generateContent", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == STOCK_ANSWER
    assert answer["candidates"][0]["finishReason"] == "STOP"
    assert answer["usageMetadata"]["candidatesTokenCount"] > 0


def test_gemini_stream_and_tool_call(mock: aigw.Gateway) -> None:
    r = gemini(
        mock, "streamGenerateContent", {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    )
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    text = "".join(
        p.get("text", "")
        for e in events
        for c in e.get("candidates", [])
        for p in c["content"]["parts"]
    )
    assert text == STOCK_ANSWER
    tool = gemini(
        mock,
        "generateContent",
        {"contents": [{"role": "user", "parts": [{"text": "weather?"}]}], "tools": [GEMINI_TOOL]},
    )
    call = tool.json()["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call == {"name": "get_weather", "args": {"city": "mock"}}


def test_gemini_errors_have_googles_shape(mock: aigw.Gateway) -> None:
    r = httpx.post(
        f"{mock.url}/v1beta/models/m:generateContent",
        content=b"{bad",
        headers={"x-mock-status": "429"},
    )
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r2 = httpx.post(f"{mock.url}/v1beta/models/m:streamGenerateContent", json={"contents": []})
    assert r2.status_code == 400 and "alt=sse" in r2.json()["error"]["message"]
    limited = httpx.post(
        f"{mock.url}/v1beta/models/m:generateContent",
        headers={"x-mock-status": "429"},
        json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
    )
    assert limited.status_code == 429 and limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_a_gemini_provider_against_the_mock(mock: aigw.Gateway) -> None:
    config = {
        "providers": {
            "g": {"kind": "gemini", "base_url": mock.url + "/v1beta", "api_key": "AIza-x"}
        },
        "routes": [{"name": "gem", "provider": "g", "model": "gemini-2.5-flash"}],
    }
    with (
        aigw.Gateway(config) as gw,
        openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0) as c,
    ):
        out = c.chat.completions.create(model="gem", messages=[{"role": "user", "content": "hi"}])
        assert out.choices[0].message.content == STOCK_ANSWER
        chunks = list(
            c.chat.completions.create(
                model="gem", stream=True, messages=[{"role": "user", "content": "hi"}]
            )
        )
        assert (
            "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            == STOCK_ANSWER
        )
        tool = c.chat.completions.create(
            model="gem", tools=[WEATHER_TOOL], messages=[{"role": "user", "content": "w"}]
        )
        assert tool.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_an_anthropic_provider_against_the_mock(mock: aigw.Gateway) -> None:
    config = {
        "providers": {"a": {"kind": "anthropic", "base_url": mock.url, "api_key": "sk-ant-x"}},
        "routes": [{"name": "claude", "provider": "a", "model": "claude-x"}],
    }
    with aigw.Gateway(config) as gw:
        with openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0) as c:
            out = c.chat.completions.create(
                model="claude", messages=[{"role": "user", "content": "hi"}]
            )
            assert out.choices[0].message.content == STOCK_ANSWER
        with anthropic.Anthropic(base_url=gw.url, api_key="k", max_retries=0) as a:
            msg = a.messages.create(
                model="claude", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
            )
            assert msg.content[0].text == STOCK_ANSWER
