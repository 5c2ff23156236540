"""The Anthropic Messages API served by aigw (/v1/messages, /v1/messages/count_tokens), checked
with the official ``anthropic`` SDK (sync, async, streaming, tools, errors) against routes whose
provider is the mock, an OpenAI-compatible upstream and an Anthropic upstream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from _util import STOCK_ANSWER, mock_route
from fake_anthropic import handler as anthropic_handler
from upstreams import RecordingUpstream, openai_handler, recording_upstream

import aigw

TOOLS: list[Any] = [
    {
        "name": "get_weather",
        "description": "The weather in a city",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
]


@pytest.fixture(scope="module")
def openai_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(openai_handler) as up:
        yield up


@pytest.fixture(scope="module")
def anthropic_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(anthropic_handler) as up:
        yield up


@pytest.fixture(scope="module")
def gw(openai_up: RecordingUpstream, anthropic_up: RecordingUpstream) -> Iterator[aigw.Gateway]:
    config = {
        "server": {"workers": 2},
        "providers": {
            "mock": {"kind": "mock"},
            "oai": {
                "kind": "openai",
                "base_url": openai_up.origin + "/v1",
                "api_key": "sk-openai-upstream-key",
            },
            "claude": {
                "kind": "anthropic",
                "base_url": anthropic_up.origin,
                "api_key": "sk-ant-upstream-key",
            },
        },
        "routes": [
            mock_route("mock-model"),
            {**mock_route("gpt-route", "oai"), "model": "gpt-4o"},
            {**mock_route("claude-route", "claude"), "model": "claude-sonnet-4-5"},
            {
                "name": "claude-then-gpt",
                "strategy": "fallback",
                "retry": {"attempts": 2},
                "circuit_breaker": {"enabled": False},
                "targets": [
                    {"provider": "claude", "model": "claude-sonnet-4-5"},
                    {"provider": "oai", "model": "gpt-4o"},
                ],
            },
        ],
    }
    with aigw.Gateway(config) as g:
        yield g


_open: list[anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def client(gw: aigw.Gateway, **kw: Any) -> anthropic.Anthropic:
    c = anthropic.Anthropic(base_url=gw.url, api_key="client-key", max_retries=0, **kw)
    _open.append(c)
    return c


def ask(c: anthropic.Anthropic, model: str, text: str = "Say hello", **kw: Any) -> Any:
    return c.messages.create(
        model=model, max_tokens=100, messages=[{"role": "user", "content": text}], **kw
    )


# --------------------------------------------------------------------------- every provider kind


@pytest.mark.parametrize("model", ["mock-model", "gpt-route", "claude-route"])
def test_a_message_comes_back_in_anthropics_shape_whichever_provider_answers(
    gw: aigw.Gateway, model: str
) -> None:
    msg = ask(client(gw), model)
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content[0].type == "text" and msg.content[0].text
    assert msg.stop_reason == "end_turn"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0


@pytest.mark.parametrize("model", ["mock-model", "gpt-route", "claude-route"])
def test_a_stream_is_anthropics_event_sequence_whichever_provider_answers(
    gw: aigw.Gateway, model: str
) -> None:
    c = client(gw)
    with c.messages.stream(
        model=model, max_tokens=100, messages=[{"role": "user", "content": "Say hello"}]
    ) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text and final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_the_mock_streams_the_stock_answer_as_anthropic_events(gw: aigw.Gateway) -> None:
    with httpx.stream(
        "POST",
        gw.url + "/v1/messages",
        json={
            "model": "mock-model",
            "max_tokens": 50,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers={"x-api-key": "k"},
    ) as r:
        assert r.status_code == 200
        events = [line[7:] for line in r.iter_lines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert "content_block_delta" in events and "message_delta" in events
    msg = ask(client(gw), "mock-model")
    assert msg.content[0].text == STOCK_ANSWER


def test_async_client_works_unchanged(gw: aigw.Gateway) -> None:
    async def run() -> Any:
        async with anthropic.AsyncAnthropic(base_url=gw.url, api_key="k", max_retries=0) as c:
            msg = await c.messages.create(
                model="gpt-route", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
            )
            chunks = []
            stream = await c.messages.create(
                model="claude-route",
                max_tokens=50,
                stream=True,
                messages=[{"role": "user", "content": "hi"}],
            )
            async for event in stream:
                chunks.append(event.type)
            return msg, chunks

    msg, chunks = asyncio.run(run())
    assert msg.content[0].text
    assert chunks[0] == "message_start" and chunks[-1] == "message_stop"


def test_authorization_bearer_works_as_well_as_x_api_key(gw: aigw.Gateway) -> None:
    with anthropic.Anthropic(base_url=gw.url, auth_token="client-token", max_retries=0) as c:
        assert ask(c, "mock-model").content[0].text


# --------------------------------------------------------------------------- tools


@pytest.mark.parametrize("model", ["mock-model", "gpt-route"])
def test_tools_round_trip_through_a_translated_provider(
    gw: aigw.Gateway, model: str, openai_up: RecordingUpstream
) -> None:
    c = client(gw)
    msg = c.messages.create(
        model=model,
        max_tokens=100,
        tools=TOOLS,
        tool_choice={"type": "auto"},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    if model == "gpt-route":
        sent = openai_up.requests[-1].json()
        assert sent["tools"][0]["function"]["name"] == "get_weather"
        assert sent["tools"][0]["function"]["parameters"]["required"] == ["city"]
        assert sent["tool_choice"] == "auto"
        return  # the fake OpenAI upstream answers text
    assert msg.stop_reason == "tool_use"
    call = next(b for b in msg.content if b.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "mock"}
    # The tool result goes back; the mock then answers text.
    follow = c.messages.create(
        model=model,
        max_tokens=100,
        tools=TOOLS,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [b.model_dump() for b in msg.content]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}],
            },
        ],
    )
    assert follow.stop_reason == "end_turn" and follow.content[0].text


def test_streamed_tool_calls_arrive_as_input_json_deltas(gw: aigw.Gateway) -> None:
    c = client(gw)
    with c.messages.stream(
        model="mock-model",
        max_tokens=100,
        tools=TOOLS,
        messages=[{"role": "user", "content": "Weather?"}],
    ) as s:
        final = s.get_final_message()
    call = next(b for b in final.content if b.type == "tool_use")
    assert call.input == {"city": "mock"} and final.stop_reason == "tool_use"


def test_an_anthropic_upstreams_tool_use_passes_untouched(gw: aigw.Gateway) -> None:
    msg = ask(client(gw), "claude-route", "TOOL please", tools=TOOLS)
    call = next(b for b in msg.content if b.type == "tool_use")
    assert (call.id, call.name, call.input) == ("toolu_01", "get_weather", {"city": "Paris"})


# ------------------------------------------------------------------ same API: no translation


def test_same_api_routes_forward_the_clients_bytes(
    gw: aigw.Gateway, anthropic_up: RecordingUpstream
) -> None:
    body = {
        "model": "claude-route",
        "max_tokens": 77,
        "messages": [{"role": "user", "content": "hi"}],
        "top_k": 5,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "metadata": {"user_id": "u1"},
    }
    r = httpx.post(
        gw.url + "/v1/messages",
        json=body,
        headers={
            "x-api-key": "client-key",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "b1",
        },
    )
    assert r.status_code == 200, r.text
    sent = anthropic_up.requests[-1]
    assert sent.json() == {**body, "model": "claude-sonnet-4-5"}  # fields OpenAI lacks survive
    assert (
        sent.header("x-api-key") == "sk-ant-upstream-key"
    )  # the provider's key, never the client's
    assert (
        sent.header("anthropic-version") == "2023-06-01" and sent.header("anthropic-beta") == "b1"
    )
    assert r.json()["id"] == "msg_fake01" and r.json()["usage"]["cache_read_input_tokens"] == 3


def test_a_field_openai_cannot_express_is_refused_for_an_openai_provider(gw: aigw.Gateway) -> None:
    with pytest.raises(anthropic.BadRequestError) as err:
        ask(client(gw), "gpt-route", extra_body={"top_k": 5})
    assert "top_k" in str(err.value) and "drop_params" in str(err.value)
    assert err.value.body["type"] == "error"


# --------------------------------------------------------------------------- errors


def test_errors_have_anthropics_shape_and_statuses(gw: aigw.Gateway) -> None:
    c = client(gw)
    with pytest.raises(anthropic.NotFoundError) as nf:
        ask(c, "no-such-model")
    assert nf.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: no-such-model"},
    }
    missing = httpx.post(
        gw.url + "/v1/messages",
        json={"model": "mock-model", "messages": [{"role": "user", "content": "x"}]},
    )
    assert missing.status_code == 400
    assert missing.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
    }
    r = httpx.post(
        gw.url + "/v1/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["type"] == "error"


@pytest.mark.parametrize(
    ("status", "error"), [(429, anthropic.RateLimitError), (500, anthropic.InternalServerError)]
)
def test_provider_errors_map_to_anthropic_errors(
    gw: aigw.Gateway, status: int, error: type[Exception]
) -> None:
    with pytest.raises(error) as e:
        ask(client(gw, default_headers={"x-mock-status": str(status)}), "mock-model")
    assert e.value.body["type"] == "error"  # type: ignore[attr-defined]


def test_an_overloaded_anthropic_upstream_falls_back_to_openai(
    gw: aigw.Gateway, openai_up: RecordingUpstream
) -> None:
    before = len(openai_up.requests)
    msg = ask(client(gw), "claude-then-gpt", "FAIL 529")
    assert msg.content[0].text == "hello from upstream"
    assert len(openai_up.requests) == before + 1
    assert openai_up.requests[-1].json()["messages"] == [{"role": "user", "content": "FAIL 529"}]


# --------------------------------------------------------------------------- count_tokens


@pytest.mark.parametrize(
    ("model", "exact"), [("claude-route", True), ("gpt-route", False), ("mock-model", False)]
)
def test_count_tokens_answers_for_every_provider(gw: aigw.Gateway, model: str, exact: bool) -> None:
    r = httpx.post(
        gw.url + "/v1/messages/count_tokens",
        json={
            "model": model,
            "messages": [{"role": "user", "content": "count these words please"}],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["input_tokens"] == 42 if exact else r.json()["input_tokens"] > 0
    assert (r.headers.get("x-aigw-token-count") == "estimate") is not exact
    counted = client(gw).messages.count_tokens(
        model=model, messages=[{"role": "user", "content": "hi"}]
    )
    assert counted.input_tokens > 0


def test_the_request_log_and_cost_see_an_anthropic_request_like_any_other(gw: aigw.Gateway) -> None:
    raw = client(gw).messages.with_raw_response.create(
        model="claude-route", max_tokens=50, messages=[{"role": "user", "content": "logged"}]
    )
    request_id = raw.headers["x-aigw-request-id"]
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=request_id)
    assert rec["status"] == 200 and rec["model"] == "claude-route"
    assert rec["endpoint"] == "chat.completions" and rec["provider"] == "claude"
    # The fake's usage: 12 input + 3 cache read + 2 cache write prompt tokens, 5 output.
    assert (rec["prompt_tokens"], rec["completion_tokens"]) == (17, 5)
