"""The official openai SDK (sync and async) against aigw: in process and as `aigw serve`.

Every test that takes ``client``/``aclient`` runs twice: against an in-process
``aigw.Gateway`` and against ``aigw serve`` in a subprocess, both with the same config file.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from _util import STOCK_ANSWER, AigwProcess, free_port, mock_config, mock_route

import aigw

# No "*" model: unknown models must be a 404 here.
SDK_CONFIG: dict[str, Any] = {
    "server": {"workers": 2},
    "providers": {
        "mock": {"kind": "mock"},
        "second": {
            "kind": "mock",
            "response": "from the second provider",
            "chunks": 3,
            "embedding_dimensions": 4,
        },
    },
    "routes": [
        mock_route("mock-gpt"),
        mock_route("mock-embedding"),
        {**mock_route("gpt-4o-mini", "second"), "model": "upstream-mini"},
        mock_route("openai/gpt-4o", "second"),
    ],
}

MESSAGES: list[Any] = [{"role": "user", "content": "Say hello"}]


@pytest.fixture(scope="module", params=["in-process", "aigw-serve"])
def base_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "in-process":
        with aigw.Gateway(SDK_CONFIG) as gw:
            yield gw.url + "/v1"
        return
    path = tmp_path_factory.mktemp("sdk") / "aigw.yaml"
    path.write_text(yaml.safe_dump(SDK_CONFIG), encoding="utf-8")
    proc = AigwProcess(["serve", "--config", str(path), "--port", str(free_port())])
    try:
        url = proc.wait_ready()
        yield url + "/v1"
    finally:
        proc.close()


@pytest.fixture
def client(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0, timeout=10) as c:
        yield c


@pytest.fixture
async def aclient(base_url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=base_url, api_key="sk-test", max_retries=0, timeout=10
    ) as c:
        yield c


# --------------------------------------------------------------------------- chat


def test_chat_completion_sync(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="mock-gpt", messages=MESSAGES)
    assert raw.status_code == 200
    assert raw.headers["x-aigw-request-id"].startswith("req_")
    assert raw.headers["x-aigw-provider"] == "mock"
    assert raw.headers["x-aigw-model"] == "mock-gpt"
    resp = raw.parse()
    assert resp.object == "chat.completion"
    assert resp.id.startswith("chatcmpl-")
    assert resp.model == "mock-gpt"
    assert len(resp.choices) == 1
    choice = resp.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == STOCK_ANSWER
    assert choice.finish_reason == "stop"
    assert resp.usage is not None
    assert resp.usage.completion_tokens == 8
    assert resp.usage.prompt_tokens > 0
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens


def test_chat_routes_to_the_configured_provider_and_upstream_model(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.headers["x-aigw-provider"] == "second"
    assert raw.headers["x-aigw-model"] == "upstream-mini"
    resp = raw.parse()
    assert resp.model == "upstream-mini"
    assert resp.choices[0].message.content == "from the second provider"


def test_request_ids_are_unique(client: openai.OpenAI) -> None:
    ids = {
        client.chat.completions.with_raw_response.create(
            model="mock-gpt", messages=MESSAGES
        ).headers["x-aigw-request-id"]
        for _ in range(20)
    }
    assert len(ids) == 20


def test_chat_mock_knobs_from_headers(client: openai.OpenAI) -> None:
    resp = client.chat.completions.create(
        model="mock-gpt",
        messages=MESSAGES,
        n=3,
        extra_headers={"x-mock-response": "forty-two"},
    )
    assert [c.index for c in resp.choices] == [0, 1, 2]
    assert {c.message.content for c in resp.choices} == {"forty-two"}

    short = client.chat.completions.create(model="mock-gpt", messages=MESSAGES, max_tokens=3)
    assert short.choices[0].finish_reason == "length"
    assert short.choices[0].message.content == "Hello! This is "
    assert short.usage is not None and short.usage.completion_tokens == 3


def test_chat_latency_knob_delays_the_answer(client: openai.OpenAI) -> None:
    t0 = time.monotonic()
    client.chat.completions.create(
        model="mock-gpt", messages=MESSAGES, extra_headers={"x-mock-latency-ms": "200"}
    )
    assert time.monotonic() - t0 >= 0.19


async def test_chat_completion_async(aclient: openai.AsyncOpenAI) -> None:
    resp = await aclient.chat.completions.create(model="mock-gpt", messages=MESSAGES)
    assert resp.choices[0].message.content == STOCK_ANSWER

    # Concurrent requests, each with its own knobs, each get their own answer.
    async def ask(i: int) -> str | None:
        r = await aclient.chat.completions.create(
            model="mock-gpt",
            messages=MESSAGES,
            extra_headers={"x-mock-response": f"answer {i}", "x-mock-latency-ms": str(50 - i)},
        )
        return r.choices[0].message.content

    t0 = time.monotonic()
    answers = await asyncio.gather(*(ask(i) for i in range(25)))
    assert answers == [f"answer {i}" for i in range(25)]
    # 25 requests of up to 50 ms each ran concurrently, not one after another (1.2 s).
    assert time.monotonic() - t0 < 1.0


# --------------------------------------------------------------------------- streaming


def test_chat_stream_sync(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="mock-gpt", messages=MESSAGES, stream=True, extra_headers={"x-mock-chunks": "5"}
    )
    with stream:
        chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    contents = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert contents == ["Hello! ", "This ", "is ", "a ", "mock"]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)  # no usage chunk unless asked for


def test_chat_stream_include_usage_sync(client: openai.OpenAI) -> None:
    with client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    ) as stream:
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "from the second provider"
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.completion_tokens == 3
    assert last.usage.total_tokens == last.usage.prompt_tokens + 3
    assert all(c.usage is None for c in chunks[:-1])


async def test_chat_stream_async_arrives_incrementally(aclient: openai.AsyncOpenAI) -> None:
    stream = await aclient.chat.completions.create(
        model="mock-gpt",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-mock-chunks": "4", "x-mock-chunk-delay-ms": "60"},
    )
    arrivals: list[tuple[float, Any]] = []
    async with stream:
        async for chunk in stream:
            arrivals.append((time.monotonic(), chunk))
    chunks = [c for _, c in arrivals]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello! This is a"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4
    first_content = next(t for t, c in arrivals if c.choices and c.choices[0].delta.content)
    # Three 60 ms gaps between content chunks: the first one was relayed, not buffered.
    assert arrivals[-1][0] - first_content >= 0.15


def test_stream_interrupted_mid_way_raises_an_api_error(client: openai.OpenAI) -> None:
    got: list[str] = []
    with pytest.raises(openai.APIError) as info:
        with client.chat.completions.create(
            model="mock-gpt",
            messages=MESSAGES,
            stream=True,
            extra_headers={"x-mock-reset-after": "3"},
        ) as stream:
            for chunk in stream:
                got.append(chunk.choices[0].delta.content or "")
    assert got == ["", "Hello! ", "This "]
    assert "mid-stream" in info.value.message


def test_stream_error_before_the_first_byte_is_a_status_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(
            model="mock-gpt", messages=MESSAGES, stream=True, extra_headers={"x-mock-status": "429"}
        )


# --------------------------------------------------------------------------- completions


def test_legacy_completions(client: openai.OpenAI) -> None:
    resp = client.completions.create(model="mock-gpt", prompt="Say hello")
    assert resp.object == "text_completion"
    assert resp.id.startswith("cmpl-")
    assert resp.choices[0].text == STOCK_ANSWER
    assert resp.usage is not None and resp.usage.completion_tokens == 8

    with client.completions.create(
        model="mock-gpt", prompt=["a", "b"], stream=True, extra_headers={"x-mock-chunks": "2"}
    ) as stream:
        chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks) == "Hello! This"
    assert chunks[-1].choices[0].finish_reason == "stop"


# --------------------------------------------------------------------------- embeddings


def _norm(vec: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vec))


def test_embeddings_float(client: openai.OpenAI) -> None:
    resp = client.embeddings.create(
        model="mock-embedding", input=["alpha", "beta", "alpha"], encoding_format="float"
    )
    assert resp.object == "list"
    assert resp.model == "mock-embedding"
    assert [d.index for d in resp.data] == [0, 1, 2]
    vecs = [d.embedding for d in resp.data]
    assert all(len(v) == 8 for v in vecs)
    assert all(abs(_norm(v) - 1.0) < 1e-5 for v in vecs)
    assert vecs[0] == vecs[2]  # deterministic per input
    assert vecs[0] != vecs[1]
    assert resp.usage.prompt_tokens == resp.usage.total_tokens > 0

    sized = client.embeddings.create(
        model="mock-embedding", input="alpha", dimensions=16, encoding_format="float"
    )
    assert len(sized.data[0].embedding) == 16

    other = client.embeddings.create(model="gpt-4o-mini", input="x", encoding_format="float")
    assert len(other.data[0].embedding) == 4  # the second provider's configured size


def test_embeddings_default_base64_path(base_url: str) -> None:
    """The SDK asks for base64 by default and decodes it; the vectors equal the float ones."""
    sent: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    with (
        httpx.Client(event_hooks={"request": [record]}) as http,
        openai.OpenAI(base_url=base_url, api_key="k", max_retries=0, http_client=http) as c,
    ):
        b64 = c.embeddings.create(model="mock-embedding", input=["alpha", "beta"])
        flt = c.embeddings.create(
            model="mock-embedding", input=["alpha", "beta"], encoding_format="float"
        )
    assert sent[0]["encoding_format"] == "base64"
    assert sent[1]["encoding_format"] == "float"
    assert len(b64.data) == 2
    for d_b64, d_flt in zip(b64.data, flt.data, strict=True):
        assert isinstance(d_b64.embedding, list) and len(d_b64.embedding) == 8
        assert d_b64.embedding == pytest.approx(d_flt.embedding, rel=1e-6, abs=1e-7)


async def test_embeddings_async(aclient: openai.AsyncOpenAI) -> None:
    resp = await aclient.embeddings.create(model="mock-embedding", input="hello")
    assert len(resp.data) == 1 and len(resp.data[0].embedding) == 8


# --------------------------------------------------------------------------- models


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    models = client.models.list()
    assert [m.id for m in models] == ["mock-gpt", "mock-embedding", "gpt-4o-mini", "openai/gpt-4o"]
    assert all(m.object == "model" for m in models)
    m = client.models.retrieve("gpt-4o-mini")
    assert m.id == "gpt-4o-mini"
    assert m.owned_by == "second"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("no-such-model")
    assert info.value.code == "model_not_found"


def test_model_ids_with_a_slash(client: openai.OpenAI) -> None:
    """The SDK percent-encodes path parameters: /v1/models/openai%2Fgpt-4o."""
    m = client.models.retrieve("openai/gpt-4o")
    assert m.id == "openai/gpt-4o"
    assert m.owned_by == "second"
    resp = client.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)
    assert resp.model == "openai/gpt-4o"
    assert resp.choices[0].message.content == "from the second provider"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("openai/gpt-5")
    assert "'openai/gpt-5'" in info.value.message


async def test_models_list_async(aclient: openai.AsyncOpenAI) -> None:
    ids = [m.id async for m in aclient.models.list()]
    assert ids == ["mock-gpt", "mock-embedding", "gpt-4o-mini", "openai/gpt-4o"]


# --------------------------------------------------------------------------- errors


def test_unknown_model_is_not_found(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gpt-unknown", messages=MESSAGES)
    err = info.value
    assert err.status_code == 404
    assert err.code == "model_not_found"
    assert err.type == "invalid_request_error"
    assert "gpt-unknown" in err.message
    assert err.response.headers["x-aigw-request-id"].startswith("req_")

    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="gpt-unknown", input="x")


@pytest.mark.parametrize(
    ("kwargs", "code", "param"),
    [
        ({"messages": []}, "empty_array", "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "invalid_value", "messages[0].role"),
        ({"messages": [{"content": "x"}]}, "missing_required_parameter", "messages[0].role"),
        ({"messages": MESSAGES, "n": 0}, "invalid_value", None),
        ({"messages": MESSAGES, "extra_body": {"stream": "yes"}}, "invalid_type", "stream"),
        (
            {"messages": MESSAGES, "extra_headers": {"x-mock-chunks": "x"}},
            "invalid_mock_knob",
            None,
        ),
        ({"messages": MESSAGES, "extra_headers": {"x-mock-bogus": "1"}}, "invalid_mock_knob", None),
    ],
    ids=[
        "empty-messages",
        "bad-role",
        "missing-role",
        "n-zero",
        "stream-type",
        "bad-knob",
        "unknown-knob",
    ],
)
def test_bad_fields_are_bad_request(
    client: openai.OpenAI, kwargs: dict[str, Any], code: str, param: str | None
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="mock-gpt", **kwargs)
    assert info.value.status_code == 400
    assert info.value.code == code
    assert info.value.param == param


def test_bad_embedding_input_is_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="mock-embedding", input=[], encoding_format="float")
    assert info.value.code == "invalid_value"


def test_rate_limit_maps_to_rate_limit_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="mock-gpt",
            messages=MESSAGES,
            extra_headers={"x-mock-status": "429", "x-mock-retry-after": "7"},
        )
    err = info.value
    assert err.status_code == 429
    assert err.code == "rate_limit_exceeded"
    assert err.type == "rate_limit_error"
    assert err.response.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("headers", "status", "type_"),
    [
        ({"x-mock-status": "500"}, 500, "server_error"),
        ({"x-mock-error-rate": "1"}, 500, "server_error"),
        ({"x-mock-status": "503"}, 503, "service_unavailable_error"),
        ({"x-mock-reset-after": "0"}, 502, "upstream_error"),
    ],
    ids=["status-500", "error-rate-1", "status-503", "upstream-reset"],
)
def test_server_errors_map_to_internal_server_error(
    client: openai.OpenAI, headers: dict[str, str], status: int, type_: str
) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="mock-gpt", messages=MESSAGES, extra_headers=headers)
    assert info.value.status_code == status
    assert info.value.type == type_


async def test_errors_async(aclient: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        await aclient.chat.completions.create(
            model="mock-gpt", messages=MESSAGES, extra_headers={"x-mock-status": "429"}
        )
    with pytest.raises(openai.InternalServerError):
        await aclient.chat.completions.create(
            model="mock-gpt", messages=MESSAGES, extra_headers={"x-mock-status": "500"}
        )
    with pytest.raises(openai.NotFoundError):
        await aclient.chat.completions.create(model="nope", messages=MESSAGES)


def test_error_rate_zero_point_five_mixes_outcomes(client: openai.OpenAI) -> None:
    outcomes = set()
    for _ in range(60):
        try:
            client.chat.completions.create(
                model="mock-gpt", messages=MESSAGES, extra_headers={"x-mock-error-rate": "0.5"}
            )
            outcomes.add(200)
        except openai.InternalServerError:
            outcomes.add(500)
    assert outcomes == {200, 500}  # chance of a false failure: 2 * 0.5**60


# --------------------------------------------------------------------------- other setups


def _openai(gw_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw_url + "/v1", api_key="k", max_retries=0, timeout=10)


def test_default_config_routes_every_model_to_the_mock(gateway: aigw.Gateway) -> None:
    with _openai(gateway.url) as c:
        raw = c.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
        assert raw.headers["x-aigw-provider"] == "mock"
        assert raw.parse().model == "gpt-4o"
        assert raw.parse().choices[0].message.content == STOCK_ANSWER
        # The wildcard is not a listed model.
        assert [m.id for m in c.models.list()] == ["mock-gpt", "mock-embedding"]


def test_aigw_serve_without_config_routes_every_model(serve: Callable[..., AigwProcess]) -> None:
    proc = serve()
    assert "config: <default>" in proc.stderr
    with _openai(proc.url or "") as c:
        resp = c.chat.completions.create(model="claude-whatever", messages=MESSAGES)
    assert resp.choices[0].message.content == STOCK_ANSWER


def test_two_gateways_at_once_answer_independently(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    def cfg(word: str) -> dict[str, Any]:
        doc = mock_config(wildcard=False, response=word)
        doc["routes"] = [mock_route(f"{word}-model")]
        return doc

    a = make_gateway(cfg("alpha"))
    b = make_gateway(cfg("beta"), workers=2)
    assert a.port != b.port
    with _openai(a.url) as ca, _openai(b.url) as cb:
        ra = ca.chat.completions.create(model="alpha-model", messages=MESSAGES)
        rb = cb.chat.completions.create(model="beta-model", messages=MESSAGES)
        assert ra.choices[0].message.content == "alpha"
        assert rb.choices[0].message.content == "beta"
        assert [m.id for m in ca.models.list()] == ["alpha-model"]
        assert [m.id for m in cb.models.list()] == ["beta-model"]
        with pytest.raises(openai.NotFoundError):
            ca.chat.completions.create(model="beta-model", messages=MESSAGES)
        with pytest.raises(openai.NotFoundError):
            cb.chat.completions.create(model="alpha-model", messages=MESSAGES)

        a.stop()
        with pytest.raises(openai.APIConnectionError):
            ca.chat.completions.create(model="alpha-model", messages=MESSAGES)
        rb = cb.chat.completions.create(model="beta-model", messages=MESSAGES)
        assert rb.choices[0].message.content == "beta"
    assert b.stats()["requests"] >= 4


def test_config_file_path_in_process(write_config: Callable[..., Path]) -> None:
    path = write_config(mock_config(wildcard=False, response="from a file"))
    with aigw.Gateway(path) as gw, _openai(gw.url) as c:
        resp = c.chat.completions.create(model="mock-gpt", messages=MESSAGES)
        assert resp.choices[0].message.content == "from a file"
        assert str(path) in repr(gw)
