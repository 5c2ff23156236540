"""kind: bedrock behind the OpenAI API: the official ``openai`` SDK through aigw to a fake Bedrock
runtime (tests/python/providers/fake_bedrock.py) that verifies each request's SigV4 signature
with botocore's signer and answers Converse JSON and ConverseStream event-stream frames."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from _util import mock_route
from fake_bedrock import KEY_ID, REGION, SECRET, TOKEN, make_handler
from upstreams import RecordingUpstream, recording_upstream

import aigw

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


@pytest.fixture(scope="module")
def bedrock_up() -> Iterator[RecordingUpstream]:
    with recording_upstream(make_handler(TOKEN)) as up:
        yield up


@pytest.fixture(scope="module")
def gw(bedrock_up: RecordingUpstream) -> Iterator[aigw.Gateway]:
    config = {
        "server": {"workers": 1},
        "providers": {
            "aws": {
                "kind": "bedrock",
                "region": REGION,
                "base_url": bedrock_up.origin,
                "aws_access_key_id": KEY_ID,
                "aws_secret_access_key": SECRET,
                "aws_session_token": TOKEN,
            },
        },
        "routes": [{**mock_route("br", "aws"), "model": MODEL}],
    }
    with aigw.Gateway(config) as g:
        yield g


@pytest.fixture()
def client(gw: aigw.Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gw.url + "/v1", api_key="client-key", max_retries=0) as c:
        yield c


def chat(c: openai.OpenAI, text: str = "Say hello", **kw: Any) -> Any:
    return c.chat.completions.create(model="br", messages=[{"role": "user", "content": text}], **kw)


def test_a_signed_converse_request_and_its_answer(
    client: openai.OpenAI, bedrock_up: RecordingUpstream
) -> None:
    out = client.chat.completions.create(
        model="br",
        max_tokens=40,
        temperature=0.1,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
    )
    sent = bedrock_up.requests[-1]
    # The model id's ':' is encoded once on the wire (and twice in what is signed).
    assert sent.path == "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    assert sent.header("x-amz-security-token") == TOKEN
    assert SECRET not in sent.raw_head.decode()
    assert sent.json() == {
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Say hello"}]}],
        "inferenceConfig": {"maxTokens": 40, "temperature": 0.1},
    }
    assert out.choices[0].message.content == f"Hello from Bedrock {MODEL}"
    assert out.choices[0].finish_reason == "stop"
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (10, 3)


def test_a_converse_stream_is_decoded_frame_by_frame(
    client: openai.OpenAI, bedrock_up: RecordingUpstream
) -> None:
    chunks = list(chat(client, stream=True, stream_options={"include_usage": True}))
    assert bedrock_up.requests[-1].path.endswith("/converse-stream")
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        == "Hello from Bedrock"
    )
    assert [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ] == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3


def test_tool_calls_whole_and_streamed(
    client: openai.OpenAI, bedrock_up: RecordingUpstream
) -> None:
    out = chat(client, "TOOL weather", tools=[WEATHER_TOOL])
    sent = bedrock_up.requests[-1].json()
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    call = out.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "tooluse_1",
        "get_weather",
        '{"city":"Paris"}',
    )
    chunks = list(chat(client, "TOOL weather", tools=[WEATHER_TOOL], stream=True))
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].function.name == "get_weather"
    assert "".join(tc.function.arguments or "" for tc in calls) == '{"city": "Paris"}'


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (429, openai.RateLimitError),
        (503, openai.InternalServerError),
    ],
)
def test_aws_errors_become_openai_errors(
    client: openai.OpenAI, status: int, error: type[Exception]
) -> None:
    with pytest.raises(error) as e:
        chat(client, f"FAIL {status}")
    assert f"fake failure {status}" in str(e.value)


def test_an_exception_inside_the_stream_ends_it_with_an_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIError) as e:
        list(chat(client, "THROTTLE", stream=True))
    assert "slow down" in str(e.value)


def test_a_wrong_secret_is_refused_by_the_signature_check(bedrock_up: RecordingUpstream) -> None:
    config = {
        "providers": {
            "aws": {
                "kind": "bedrock",
                "region": REGION,
                "base_url": bedrock_up.origin,
                "aws_access_key_id": KEY_ID,
                "aws_secret_access_key": "not-the-secret",
                "aws_session_token": TOKEN,
            }
        },
        "routes": [{**mock_route("br", "aws"), "model": MODEL}],
    }
    with (
        aigw.Gateway(config) as g,
        openai.OpenAI(base_url=g.url + "/v1", api_key="k", max_retries=0) as c,
    ):
        with pytest.raises(openai.PermissionDeniedError) as e:
            chat(c)
    assert "botocore" in str(e.value)  # the fake's own check caught it


def test_credentials_come_from_the_environment_when_config_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    cfg = aigw.load_config(
        {
            "providers": {"aws": {"kind": "bedrock", "region": "eu-west-3"}},
            "routes": [{"name": "x", "provider": "aws"}],
        },
        env={},
    )
    core = cfg.to_core_dict()["providers"][0]
    assert core["base_url"] == "https://bedrock-runtime.eu-west-3.amazonaws.com"
    assert (
        core["aws_access_key_id"],
        core["aws_secret_access_key"],
        core["aws_session_token"],
    ) == ("AKIDENV", "env-secret", "")


def test_the_anthropic_sdk_reaches_bedrock_too(gw: aigw.Gateway) -> None:
    with anthropic.Anthropic(base_url=gw.url, api_key="k", max_retries=0) as c:
        msg = c.messages.create(
            model="br", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
        assert msg.content[0].text == f"Hello from Bedrock {MODEL}"
        with c.messages.stream(
            model="br", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        ) as s:
            assert "".join(s.text_stream) == "Hello from Bedrock"
