"""Cost and usage: the shipped price table, `pricing:` overrides, x-aigw-cost-usd, the SSE cost
comment of streams, and the usage book behind gw.usage() and GET /v1/usage.

Every cost is checked against the price-table arithmetic for the usage the answer itself
reports: ((prompt - cached) * input + cached * cached_input + completion * output) / 1e6.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from _util import mock_route
from upstreams import (  # noqa: F401  (fixtures: pytest finds them by their names)
    Recorded,
    RecordingUpstream,
    Reply,
    chat_body,
    gateway_config,
    mock_upstream_fixture,
    openai_provider,
    upstream_fixture,
)

import aigw
from aigw.config import ConfigError, load_config
from aigw.cost import shipped_prices, shipped_prices_info

MOCK_PRICE = {"input": 3.0, "output": 15.0, "cached_input": 0.3}
COMMENT_RE = re.compile(r"^: aigw_cost_usd (\S+)$", re.MULTILINE)


def cost_of(usage: dict[str, Any], price: dict[str, float]) -> float:
    prompt = usage.get("prompt_tokens", 0)
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    completion = usage.get("completion_tokens", 0)
    cached_price = price.get("cached_input", price["input"])
    return (
        (prompt - cached) * price["input"] + cached * cached_price + completion * price["output"]
    ) / 1e6


def chat(model: str, content: str = "What does a gateway do?", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def mock_config(
    pricing: dict[str, Any] | None = None, routes: list[str] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "server": {"workers": 1},
        "providers": {"mock": {"kind": "mock"}},
        "routes": [mock_route(name) for name in (routes or ["mock-gpt", "*"])],
    }
    if pricing is not None:
        doc["pricing"] = pricing
    return doc


def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def header_cost(resp: httpx.Response) -> float:
    value = resp.headers["x-aigw-cost-usd"]
    assert re.fullmatch(r"\d+(\.\d+)?", value), f"not a plain decimal: {value!r}"
    return float(value)


# --------------------------------------------------------------------------- the shipped table


def test_shipped_table_prices_current_models_of_each_provider() -> None:
    prices = shipped_prices()
    for model in (
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "claude-3-5-haiku",
        "claude-3-7-sonnet",
        "claude-sonnet-4",
        "claude-opus-4",
        "gemini-2.0-flash",
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "mistral-large",
        "mistral-small",
        "deepseek-chat",
        "deepseek-reasoner",
    ):
        assert model in prices, model
        price = prices[model]
        assert set(price) == {"input", "output", "cached_input"}
        assert price["input"] >= price["cached_input"] >= 0
    assert prices["gpt-4o"] == {"input": 2.5, "output": 10.0, "cached_input": 1.25}
    info = shipped_prices_info()
    datetime.date.fromisoformat(info["updated"])
    assert "per million" in info["source"] or "per 1M" in info["source"]


def test_core_document_gets_the_merged_table() -> None:
    cfg = load_config(mock_config({"gpt-4o": {"input": 1, "output": 2}, "my-*": {"input": 0.5}}))
    table = cfg.to_core_dict()["pricing"]
    assert table["gpt-4o"] == {"input": 1.0, "output": 2.0, "cached_input": 1.0}
    assert table["my-*"] == {"input": 0.5, "output": 0.0, "cached_input": 0.5}
    assert table["claude-sonnet-4"] == shipped_prices()["claude-sonnet-4"]


# --------------------------------------------------------------------------- config validation


def test_pricing_problems_are_reported_with_their_paths() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(
            mock_config(
                {
                    "gpt-4o": {"input": -1, "outptu": 2},
                    "a*b*": {"input": 1},
                    "m": {"input": True},
                    "n": "cheap",
                    "o": {"output": 1},
                    "p": {"input": float("inf")},
                }
            )
        )
    problems = err.value.problems
    text = "\n".join(problems)
    assert "pricing.gpt-4o.input: input should be greater than or equal to 0" in text
    assert "pricing.gpt-4o.outptu: unknown key; did you mean 'output'?" in text
    assert "pricing.a*b*: 'a*b*' has more than one '*'" in text
    assert "pricing.m.input: input should be a valid number, not a boolean" in text
    assert "pricing.n: expected a mapping, got a string" in text
    assert "pricing.o.input: field required" in text.lower()
    assert any(p.startswith("pricing.p.input:") for p in problems)
    assert len(problems) == 7, problems


def test_pricing_may_be_empty_or_null() -> None:
    assert load_config(mock_config({})).pricing == {}
    doc = mock_config()
    doc["pricing"] = None
    assert load_config(doc).pricing == {}


# --------------------------------------------------------------------------- the mock provider


def test_header_is_the_price_table_math_for_the_usage_in_the_body(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(mock_config({"mock-gpt": MOCK_PRICE}))
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat("mock-gpt"))
    assert resp.status_code == 200
    usage = resp.json()["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert header_cost(resp) == pytest.approx(cost_of(usage, MOCK_PRICE), rel=1e-9)
    # A longer prompt costs more, by exactly the price of its extra tokens.
    long = httpx.post(gw.url + "/v1/chat/completions", json=chat("mock-gpt", "word " * 200))
    extra = long.json()["usage"]["prompt_tokens"] - usage["prompt_tokens"]
    assert extra > 0
    assert header_cost(long) - header_cost(resp) == pytest.approx(extra * 3.0 / 1e6, rel=1e-6)


def test_embeddings_are_priced_by_their_input_tokens(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(mock_config())
    resp = httpx.post(
        gw.url + "/v1/embeddings",
        json={"model": "text-embedding-3-small", "input": ["one two three", "four"]},
    )
    assert resp.status_code == 200
    usage = resp.json()["usage"]
    assert header_cost(resp) == pytest.approx(usage["prompt_tokens"] * 0.02 / 1e6, rel=1e-9)


def test_config_price_beats_the_shipped_price(make_gateway: Callable[..., aigw.Gateway]) -> None:
    shipped = shipped_prices()["gpt-4o"]
    mine = {"input": 1.0, "output": 2.0}
    plain = make_gateway(mock_config())
    overridden = make_gateway(mock_config({"gpt-4o": mine}))
    a = httpx.post(plain.url + "/v1/chat/completions", json=chat("gpt-4o"))
    b = httpx.post(overridden.url + "/v1/chat/completions", json=chat("gpt-4o"))
    assert a.json()["usage"] == b.json()["usage"]
    usage = a.json()["usage"]
    assert header_cost(a) == pytest.approx(cost_of(usage, shipped), rel=1e-9)
    assert header_cost(b) == pytest.approx(cost_of(usage, mine), rel=1e-9)
    assert header_cost(a) != header_cost(b)


def test_pattern_prices_and_dated_model_names(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(mock_config({"acme-*": {"input": 4, "output": 8}}))
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat("acme-large"))
    assert header_cost(resp) == pytest.approx(
        cost_of(resp.json()["usage"], {"input": 4, "output": 8})
    )
    dated = httpx.post(gw.url + "/v1/chat/completions", json=chat("claude-3-5-haiku-20241022"))
    price = shipped_prices()["claude-3-5-haiku"]
    assert header_cost(dated) == pytest.approx(cost_of(dated.json()["usage"], price), rel=1e-9)


def test_unknown_model_has_no_cost(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(mock_config())
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat("mock-gpt"))
    assert resp.status_code == 200
    assert "x-aigw-cost-usd" not in resp.headers
    usage = gw.usage()
    assert usage["by_model"]["mock-gpt"]["requests"] == 1
    assert usage["by_model"]["mock-gpt"]["unpriced_requests"] == 1
    assert usage["by_model"]["mock-gpt"]["cost_usd"] == 0
    with httpx.stream(
        "POST", gw.url + "/v1/chat/completions", json=chat("mock-gpt", stream=True)
    ) as stream:
        text = stream.read().decode()
    assert "aigw_cost_usd" not in text


def test_errors_have_no_cost_and_no_usage(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(mock_config({"mock-gpt": MOCK_PRICE}))
    resp = httpx.post(
        gw.url + "/v1/chat/completions", json=chat("mock-gpt"), headers={"x-mock-status": "429"}
    )
    assert resp.status_code == 429
    assert "x-aigw-cost-usd" not in resp.headers
    assert gw.usage()["total"]["requests"] == 0


# --------------------------------------------------------------------------- streams


def stream_text(url: str, body: dict[str, Any]) -> str:
    with httpx.stream("POST", url + "/v1/chat/completions", json=body) as resp:
        assert resp.status_code == 200
        assert "x-aigw-cost-usd" not in resp.headers  # the head left before usage was known
        return resp.read().decode()


def usage_event(text: str) -> dict[str, Any]:
    events = [
        json.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data: {") and '"usage":{' in line
    ]
    assert len(events) == 1, text
    usage: dict[str, Any] = events[0]["usage"]
    return usage


def test_stream_ends_with_a_cost_comment_the_usage_book_counts(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(mock_config({"mock-gpt": MOCK_PRICE}))
    text = stream_text(
        gw.url, chat("mock-gpt", stream=True, stream_options={"include_usage": True})
    )
    comments = COMMENT_RE.findall(text)
    assert len(comments) == 1, text
    assert re.fullmatch(r"\d+(\.\d+)?", comments[0])
    # The comment is the stream's last event, after [DONE].
    assert text.rstrip("\n").endswith(f": aigw_cost_usd {comments[0]}")
    expected = cost_of(usage_event(text), MOCK_PRICE)
    assert float(comments[0]) == pytest.approx(expected, rel=1e-9)
    book = gw.usage()["by_model"]["mock-gpt"]
    assert book["requests"] == 1
    assert book["cost_usd"] == pytest.approx(expected, rel=1e-9)


def test_sdk_streams_skip_the_comment(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(mock_config({"mock-gpt": MOCK_PRICE}))
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="mock-gpt",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].usage is not None
    total = gw.usage()["total"]
    assert total["cost_usd"] == pytest.approx(cost_of(chunks[-1].usage.model_dump(), MOCK_PRICE))


# --------------------------------------------------------------------------- upstreams


def test_cost_through_an_upstream_uses_the_model_that_answered(
    make_gateway: Callable[..., aigw.Gateway], mock_upstream: aigw.Gateway
) -> None:
    gw = make_gateway(
        gateway_config(
            {"up": openai_provider(mock_upstream.url + "/v1")},
            [
                {"name": "fast", "provider": "up", "model": "gpt-4o-mini-2024-07-18"},
                {"name": "*", "provider": "up"},
            ],
        )
    )
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat("fast"))
    assert resp.status_code == 200
    assert resp.headers["x-aigw-model"] == "gpt-4o-mini-2024-07-18"
    price = shipped_prices()["gpt-4o-mini"]
    assert header_cost(resp) == pytest.approx(cost_of(resp.json()["usage"], price), rel=1e-9)
    # The mock upstream plays a provider: it adds no cost of its own.
    assert mock_upstream.usage()["total"]["requests"] >= 1
    text = stream_text(gw.url, chat("fast", stream=True, stream_options={"include_usage": True}))
    comments = COMMENT_RE.findall(text)
    assert len(comments) == 1, text
    assert float(comments[0]) == pytest.approx(cost_of(usage_event(text), price), rel=1e-9)
    usage = gw.usage()
    assert usage["by_model"]["gpt-4o-mini-2024-07-18"]["requests"] == 2
    assert usage["by_provider"]["up"]["requests"] == 2
    assert "fast" not in usage["by_model"]


def test_cached_prompt_tokens_are_priced_at_the_cached_price(
    make_gateway: Callable[..., aigw.Gateway], upstream: RecordingUpstream
) -> None:
    usage = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920},
    }

    async def handler(req: Recorded, reply: Reply) -> None:
        await reply.json({**chat_body("gpt-4o-2024-08-06"), "usage": usage})

    upstream.handler = handler
    gw = make_gateway(
        gateway_config(
            {"up": openai_provider(upstream.origin + "/v1")},
            [{"name": "gpt-4o", "provider": "up", "model": "gpt-4o-2024-08-06"}],
        )
    )
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat("gpt-4o"))
    price = shipped_prices()["gpt-4o"]
    # (86 * 2.5 + 1920 * 1.25 + 300 * 10) / 1e6
    assert header_cost(resp) == pytest.approx(0.005615, rel=1e-9)
    assert header_cost(resp) == pytest.approx(cost_of(usage, price), rel=1e-9)
    book = gw.usage()["total"]
    assert book["cached_tokens"] == 1920
    assert book["prompt_tokens"] == 2006


# --------------------------------------------------------------------------- the usage book


def test_usage_totals_by_model_provider_and_day(make_gateway: Callable[..., aigw.Gateway]) -> None:
    cheap = {"input": 0.5, "output": 1.0}
    gw = make_gateway(
        {
            "server": {"workers": 2},
            "providers": {"a": {"kind": "mock"}, "b": {"kind": "mock"}},
            "routes": [mock_route("mock-gpt", "a"), mock_route("cheap", "b"), mock_route("*", "a")],
            "pricing": {"mock-gpt": MOCK_PRICE, "cheap": cheap},
        }
    )
    costs: dict[str, float] = {"mock-gpt": 0.0, "cheap": 0.0}
    tokens: dict[str, int] = {"mock-gpt": 0, "cheap": 0}
    with httpx.Client(base_url=gw.url) as client:
        for model, n in (("mock-gpt", 3), ("cheap", 2)):
            for i in range(n):
                resp = client.post("/v1/chat/completions", json=chat(model, "x " * (i + 1)))
                costs[model] += header_cost(resp)
                tokens[model] += resp.json()["usage"]["prompt_tokens"]
        client.post("/v1/chat/completions", json=chat("unpriced"))
        served = client.get("/v1/usage")
    usage = gw.usage()
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.json() == usage
    assert set(usage) == {"total", "by_model", "by_provider", "by_day", "rows"}
    assert usage["by_model"]["mock-gpt"]["requests"] == 3
    assert usage["by_model"]["mock-gpt"]["prompt_tokens"] == tokens["mock-gpt"]
    assert usage["by_model"]["mock-gpt"]["cost_usd"] == pytest.approx(costs["mock-gpt"], rel=1e-6)
    assert usage["by_model"]["cheap"]["cost_usd"] == pytest.approx(costs["cheap"], rel=1e-6)
    assert usage["by_model"]["unpriced"]["unpriced_requests"] == 1
    assert usage["by_provider"]["a"]["requests"] == 4
    assert usage["by_provider"]["b"]["requests"] == 2
    assert list(usage["by_day"]) == [today()]
    assert usage["by_day"][today()] == usage["total"]
    assert usage["total"]["requests"] == 6
    assert usage["total"]["cost_usd"] == pytest.approx(sum(costs.values()), rel=1e-6)
    assert {(r["provider"], r["model"]) for r in usage["rows"]} == {
        ("a", "mock-gpt"),
        ("a", "unpriced"),
        ("b", "cheap"),
    }
    # stats() keeps its token counters.
    assert gw.stats()["usage"]["prompt_tokens"] == usage["total"]["prompt_tokens"]

    # Filters, from Python and over HTTP.
    only_b = gw.usage(provider="b")
    assert only_b["total"]["requests"] == 2 and list(only_b["by_model"]) == ["cheap"]
    assert httpx.get(gw.url + "/v1/usage", params={"provider": "b"}).json() == only_b
    assert gw.usage(model="mock-gpt")["total"]["requests"] == 3
    assert gw.usage(day=datetime.datetime.now(datetime.timezone.utc).date()) == usage
    assert gw.usage(day="2001-01-01")["total"]["requests"] == 0


def test_usage_route_is_read_only_and_checks_its_query(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(mock_config())
    post = httpx.post(gw.url + "/v1/usage", json={})
    assert post.status_code == 405
    assert post.headers["allow"] == "GET, HEAD"
    bad = httpx.get(gw.url + "/v1/usage?dya=2026-01-01")
    assert bad.status_code == 400
    assert "dya" in bad.json()["error"]["message"]
    empty = httpx.get(gw.url + "/v1/usage").json()
    assert empty["total"]["requests"] == 0 and empty["rows"] == []


def test_usage_of_a_gateway_that_never_started() -> None:
    gw = aigw.Gateway(mock_config())
    usage = gw.usage()
    assert usage["total"]["requests"] == 0
    assert usage["by_model"] == {}
