"""The gateway's Bedrock Converse API (/model/{modelId}/converse and /converse-stream), called
by botocore's own bedrock-runtime client, SigV4-signed with credentials the gateway ignores:
against a kind: mock route, against `aigw mock` (a mock-mode gateway), through an OpenAI
upstream (the body it gets is checked) and through a kind: bedrock upstream (fake_bedrock.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import botocore.session
import httpx
import openai
import pytest
from _util import STOCK_ANSWER, mock_route
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError
from fake_bedrock import KEY_ID, REGION, SECRET, make_handler
from upstreams import (
    WEATHER_TOOL,
    RecordingUpstream,
    mock_upstream_gateway,
    openai_handler,
    openai_provider,
    recording_upstream,
)

import aigw

TOOL_CONFIG = {
    "tools": [
        {
            "toolSpec": {
                "name": "get_weather",
                "description": "The weather in a city",
                "inputSchema": {"json": WEATHER_TOOL["function"]["parameters"]},
            }
        }
    ]
}
# A Bedrock model id: botocore sends its ':' percent-encoded in the path.
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"


@contextlib.contextmanager
def bedrock(gw: aigw.Gateway) -> Iterator[Any]:
    """botocore's bedrock-runtime client for the gateway; one attempt per call."""
    client = botocore.session.get_session().create_client(
        "bedrock-runtime",
        endpoint_url=gw.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        aws_session_token="session-token-of-the-client",
        config=Config(retries={"total_max_attempts": 1}),
    )
    try:
        yield client
    finally:
        client.close()


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def stream_events(client: Any, **request: Any) -> list[dict[str, Any]]:
    stream = client.converse_stream(**request)["stream"]
    try:
        return list(stream)
    finally:
        stream.close()  # a stream that raised is not read to its end: release its connection


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [next(iter(e)) for e in events]


@pytest.fixture(scope="module")
def kind_mock() -> Iterator[aigw.Gateway]:
    config = {
        "server": {"workers": 1},
        "providers": {"m": {"kind": "mock"}, "busy": {"kind": "mock", "status": 429}},
        "routes": [
            mock_route(MODEL_ID, "m"),
            mock_route("busy", "busy"),
            {**mock_route("lenient", "m"), "drop_params": ["additionalModelRequestFields"]},
            mock_route("cut", "m"),
        ],
    }
    with aigw.Gateway(config) as gw:
        yield gw


@pytest.fixture(scope="module")
def aigw_mock() -> Iterator[aigw.Gateway]:
    with mock_upstream_gateway() as gw:
        yield gw


@pytest.fixture(params=["kind_mock", "aigw_mock"])
def mock(request: pytest.FixtureRequest) -> aigw.Gateway:
    return request.getfixturevalue(request.param)


def test_converse_answers_in_bedrocks_shape(mock: aigw.Gateway) -> None:
    with bedrock(mock) as c:
        out = c.converse(
            modelId=MODEL_ID,
            system=[{"text": "be brief"}],
            messages=user("hi"),
            inferenceConfig={"maxTokens": 100, "temperature": 0.1},
        )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["output"]["message"] == {"role": "assistant", "content": [{"text": STOCK_ANSWER}]}
    assert out["stopReason"] == "end_turn"
    assert out["usage"]["outputTokens"] == 8 and out["usage"]["inputTokens"] > 0


def test_converse_stream_is_event_stream_frames(mock: aigw.Gateway) -> None:
    with bedrock(mock) as c:
        response = c.converse_stream(modelId=MODEL_ID, messages=user("hi"))
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        assert headers["content-type"] == "application/vnd.amazon.eventstream"
        events = list(response["stream"])
    assert kinds(events)[0] == "messageStart" and kinds(events)[-3:] == [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert streamed_text(events) == STOCK_ANSWER
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 8


def test_tool_calls_whole_and_streamed(mock: aigw.Gateway) -> None:
    with bedrock(mock) as c:
        out = c.converse(modelId=MODEL_ID, messages=user("weather?"), toolConfig=TOOL_CONFIG)
        use = out["output"]["message"]["content"][0]["toolUse"]
        assert (use["name"], use["input"]) == ("get_weather", {"city": "mock"})
        assert out["stopReason"] == "tool_use"
        events = stream_events(
            c, modelId=MODEL_ID, messages=user("weather?"), toolConfig=TOOL_CONFIG
        )
        start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
        assert start["start"]["toolUse"]["name"] == "get_weather"
        args = "".join(
            e["contentBlockDelta"]["delta"]["toolUse"]["input"]
            for e in events
            if "contentBlockDelta" in e
        )
        assert args == '{"city":"mock"}'
        assert events[-2]["messageStop"]["stopReason"] == "tool_use"
        # The tool's result goes back as a toolResult block: the mock answers with text.
        after = c.converse(
            modelId=MODEL_ID,
            toolConfig=TOOL_CONFIG,
            messages=[
                *user("weather?"),
                out["output"]["message"],
                {
                    "role": "user",
                    "content": [
                        {
                            "toolResult": {
                                "toolUseId": use["toolUseId"],
                                "content": [{"json": {"temp": 21}}],
                            }
                        }
                    ],
                },
            ],
        )
        assert after["output"]["message"]["content"][0]["text"] == STOCK_ANSWER


def test_errors_have_bedrocks_shape(kind_mock: aigw.Gateway) -> None:
    with bedrock(kind_mock) as c:
        with pytest.raises(ClientError) as limited:
            c.converse(modelId="busy", messages=user("hi"))
        assert limited.value.response["Error"]["Code"] == "ThrottlingException"
        assert limited.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        with pytest.raises(ClientError) as unknown:
            c.converse(modelId="nope/../x", messages=user("hi"))
        assert unknown.value.response["Error"]["Code"] == "ValidationException"
        with pytest.raises(ClientError) as refused:
            c.converse(
                modelId=MODEL_ID,
                messages=user("hi"),
                additionalModelRequestFields={"top_k": 5},
            )
        error = refused.value.response["Error"]
        assert error["Code"] == "ValidationException"
        assert '"additionalModelRequestFields" to the route\'s drop_params' in error["Message"]
        out = c.converse(
            modelId="lenient", messages=user("hi"), additionalModelRequestFields={"top_k": 5}
        )
        assert out["output"]["message"]["content"][0]["text"] == STOCK_ANSWER


def test_an_unknown_model_is_resource_not_found() -> None:
    config = {
        "server": {"workers": 1},
        "providers": {"m": {"kind": "mock"}},
        "routes": [mock_route("only-this", "m")],
    }
    with aigw.Gateway(config) as gw, bedrock(gw) as c:
        with pytest.raises(ClientError) as e:
            c.converse(modelId=MODEL_ID, messages=user("hi"))
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert MODEL_ID in e.value.response["Error"]["Message"]


def test_a_stream_cut_after_it_began_ends_with_an_exception_frame(
    kind_mock: aigw.Gateway,
) -> None:
    with bedrock(kind_mock) as c:
        c.meta.events.register(
            "before-sign.bedrock-runtime.ConverseStream",
            lambda request, **_: request.headers.add_header("x-mock-reset-after", "3"),
        )
        stream = c.converse_stream(modelId="cut", messages=user("hi"))["stream"]
        got: list[dict[str, Any]] = []
        with pytest.raises(EventStreamError) as e:
            for event in stream:
                got.append(event)
        stream.close()
    assert kinds(got)[0] == "messageStart"
    assert e.value.response["Error"]["Code"] == "modelStreamErrorException"


# -------------------------------------------------------------------- an OpenAI upstream


@pytest.fixture(scope="module")
def openai_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(openai_handler) as up:
        yield up


def test_an_openai_upstream_gets_openai_bodies(openai_up: RecordingUpstream) -> None:
    config = {
        "server": {"workers": 1},
        "providers": {"o": openai_provider(openai_up.origin + "/v1")},
        "routes": [{**mock_route(MODEL_ID, "o"), "model": "gpt-4o"}],
    }
    with aigw.Gateway(config) as gw, bedrock(gw) as c:
        out = c.converse(
            modelId=MODEL_ID,
            system=[{"text": "be brief"}],
            messages=user("hi"),
            inferenceConfig={"maxTokens": 50, "stopSequences": ["END"]},
            toolConfig={**TOOL_CONFIG, "toolChoice": {"any": {}}},
        )
        sent = openai_up.last
        assert sent.path == "/v1/chat/completions"
        assert sent.json() == {
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "hi"},
            ],
            "max_tokens": 50,
            "stop": ["END"],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "The weather in a city",
                        "parameters": WEATHER_TOOL["function"]["parameters"],
                    },
                }
            ],
            "tool_choice": "required",
        }
        # The client's SigV4 signature and session token stay at the gateway.
        assert sent.header("authorization") == "Bearer sk-provider-key"
        assert not [n for n in sent.names() if n.startswith(("x-amz-", "amz-sdk-"))]
        assert b"session-token-of-the-client" not in sent.raw_head
        assert out["output"]["message"]["content"] == [{"text": "hello from upstream"}]
        events = stream_events(c, modelId=MODEL_ID, messages=user("hi"))
        assert openai_up.last.json()["stream_options"] == {"include_usage": True}
        assert streamed_text(events) == "hello"
        assert events[-1]["metadata"]["usage"]["inputTokens"] > 0


# -------------------------------------------------------------------- a Bedrock upstream


def bedrock_route(base_url: str) -> dict[str, Any]:
    """A gateway config whose route "br" goes to a kind: bedrock provider at `base_url`."""
    provider = {
        "kind": "bedrock",
        "region": REGION,
        "base_url": base_url,
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
    }
    return {
        "server": {"workers": 1},
        "providers": {"aws": provider},
        "routes": [{**mock_route("br", "aws"), "model": MODEL_ID}],
    }


def test_a_bedrock_upstream_is_reached_through_the_translation() -> None:
    """Translated both ways (Converse -> OpenAI -> Converse): the upstream gets the client's
    request, signed with the gateway's own credentials."""
    with recording_upstream(make_handler()) as up:
        with aigw.Gateway(bedrock_route(up.origin)) as gw, bedrock(gw) as c:
            request = {
                "system": [{"text": "Be brief."}],
                "messages": user("Say hello"),
                "inferenceConfig": {"maxTokens": 40, "temperature": 0.1},
            }
            out = c.converse(modelId="br", **request)
            sent = up.last
            assert sent.path == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
            assert sent.json() == request
            assert sent.header("x-amz-security-token") is None  # the client's stayed behind
            assert out["output"]["message"]["content"] == [
                {"text": f"Hello from Bedrock {MODEL_ID}"}
            ]
            events = stream_events(c, modelId="br", messages=user("Say hello"))
            assert streamed_text(events) == "Hello from Bedrock"
            with pytest.raises(ClientError) as e:
                c.converse(modelId="br", messages=user("FAIL 429"))
            assert e.value.response["Error"]["Code"] == "ThrottlingException"
            assert e.value.response["Error"]["Message"] == "fake failure 429"
            with pytest.raises(EventStreamError) as thrown:
                stream_events(c, modelId="br", messages=user("THROTTLE"))
            assert thrown.value.response["Error"]["Code"] == "throttlingException"


def test_a_bedrock_provider_against_the_mock(aigw_mock: aigw.Gateway) -> None:
    """kind: bedrock pointed at `aigw mock`: the mock reads the signed Converse request and
    answers Converse JSON and event-stream frames, which the provider decodes for OpenAI."""
    with (
        aigw.Gateway(bedrock_route(aigw_mock.url)) as gw,
        openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0) as c,
    ):
        out = c.chat.completions.create(model="br", messages=[{"role": "user", "content": "hi"}])
        assert out.choices[0].message.content == STOCK_ANSWER
        chunks = list(
            c.chat.completions.create(
                model="br", stream=True, messages=[{"role": "user", "content": "hi"}]
            )
        )
        assert (
            "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            == STOCK_ANSWER
        )
        tool = c.chat.completions.create(
            model="br", tools=[WEATHER_TOOL], messages=[{"role": "user", "content": "w"}]
        )
        call = tool.choices[0].message.tool_calls[0]
        assert (call.function.name, call.function.arguments) == ("get_weather", '{"city":"mock"}')


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "exception"),
    [
        ("POST", "/model/m/invoke", b"{}", 404, "ResourceNotFoundException"),
        ("GET", "/model/m/converse", b"", 405, "ValidationException"),
        ("POST", "/model/%2e%2e/converse", b'{"messages":[]}', 400, "ValidationException"),
        ("POST", "/model/a%zz/converse", b'{"messages":[]}', 400, "ValidationException"),
        ("POST", "/model/m/converse", b"{bad", 400, "ValidationException"),
        ("POST", "/model/m/converse", b'{"messages":[],"messages":[]}', 400, "ValidationException"),
        ("POST", "/model/m/converse", b'{"messages":{}}', 400, "ValidationException"),
    ],
)
def test_bad_requests_get_bedrock_errors(
    aigw_mock: aigw.Gateway, method: str, path: str, body: bytes, status: int, exception: str
) -> None:
    r = httpx.request(method, aigw_mock.url + path, content=body)
    assert r.status_code == status, r.text
    assert r.headers["x-amzn-errortype"] == exception
    assert set(r.json()) == {"message"} and r.json()["message"]
