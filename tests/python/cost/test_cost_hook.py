"""The custom cost hook (`cost: {hook: ...}`, `aigw.Gateway(cost_hook=fn)`): its cost is what the
client sees in x-aigw-cost-usd and the stream's cost comment, what the request log records and
what gw.usage() adds up; None keeps the table's cost; errors and timeouts fall back and are
counted. Also: tokens and cost of failed and aborted requests.

The mock provider reports usage; `mock-gpt` is priced by the config (MOCK_PRICE), so the table's
cost of an answer is the price-table arithmetic of the usage in its body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from _util import mock_route
from upstreams import (  # noqa: F401  (fixtures: pytest finds them by their names)
    Recorded,
    RecordingUpstream,
    Reply,
    gateway_config,
    openai_provider,
    upstream_fixture,
)

import aigw
from aigw.config import ConfigError, load_config
from aigw.cost import Price, Usage

MOCK_PRICE = {"input": 3.0, "output": 15.0, "cached_input": 0.3}
COMMENT_RE = re.compile(r"^: aigw_cost_usd (\S+)$", re.MULTILINE)
STREAM_USAGE = {"stream": True, "stream_options": {"include_usage": True}}


def config(cost: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "server": {"workers": 1},
        "providers": {"mock": {"kind": "mock"}},
        "routes": [mock_route("mock-gpt"), mock_route("*")],
        "pricing": {"mock-gpt": MOCK_PRICE},
        **extra,
    }
    if cost is not None:
        doc["cost"] = cost
    return doc


def table_cost(usage: dict[str, Any]) -> float:
    return (
        usage["prompt_tokens"] * MOCK_PRICE["input"]
        + usage["completion_tokens"] * MOCK_PRICE["output"]
    ) / 1e6


def chat(model: str = "mock-gpt", content: str = "What does a gateway do?", **extra: Any) -> Any:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def record(gw: aigw.Gateway, request_id: str) -> dict[str, Any]:
    # A client that left: the gateway sees it a moment later, and writes the record then.
    deadline = time.monotonic() + 5
    while True:
        assert gw.flush_logs()
        found = gw.logs(request_id=request_id)
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert len(found) == 1, found
    return found[0]


def stream_usage(text: str) -> dict[str, Any]:
    """The usage object of a stream's usage chunk."""
    for line in text.splitlines():
        if line.startswith("data: {"):
            usage = json.loads(line[6:]).get("usage")
            if usage:
                return dict(usage)
    raise AssertionError(f"no usage chunk in {text!r}")


def stream_text(gw: aigw.Gateway, body: dict[str, Any], **headers: str) -> tuple[str, str]:
    with httpx.stream(
        "POST", gw.url + "/v1/chat/completions", json=body, headers=headers, timeout=10
    ) as resp:
        assert resp.status_code == 200
        return resp.read().decode(), resp.headers["x-aigw-request-id"]


class Seen:
    """A sync hook that returns a fixed cost and keeps what it saw."""

    def __init__(self, cost: float | None) -> None:
        self.cost = cost
        self.contexts: list[aigw.CostContext] = []
        self.threads: set[str] = set()

    def __call__(self, ctx: aigw.CostContext) -> float | None:
        self.contexts.append(ctx)
        self.threads.add(threading.current_thread().name)
        return self.cost


# --------------------------------------------------------------------------- the hook's cost


def test_the_hooks_cost_is_in_the_header_the_record_and_the_usage_book(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    hook = Seen(0.042)
    gw = make_gateway(config(), cost_hook=hook)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-client-secret", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="mock-gpt",
        messages=[{"role": "user", "content": "hi"}],
        metadata={"customer": "acme"},
        extra_headers={"x-team": "ml"},
    )
    answer = raw.parse()
    assert raw.headers["x-aigw-cost-usd"] == "0.042"
    rec = record(gw, raw.headers["x-aigw-request-id"])
    assert rec["cost_usd"] == pytest.approx(0.042)
    assert rec["prompt_tokens"] == answer.usage.prompt_tokens  # type: ignore[union-attr]
    total = gw.usage()["total"]
    assert total["requests"] == 1 and total["cost_usd"] == pytest.approx(0.042)
    assert total["unpriced_requests"] == 0
    assert gw.usage(model="mock-gpt")["total"]["cost_usd"] == pytest.approx(0.042)

    [ctx] = hook.contexts
    usage = answer.usage.model_dump()  # type: ignore[union-attr]
    assert ctx.request_id == raw.headers["x-aigw-request-id"]
    assert ctx.provider == "mock" and ctx.model == "mock-gpt" and ctx.requested_model == "mock-gpt"
    assert ctx.route == "mock-gpt" and ctx.endpoint == "chat.completions"
    assert ctx.stream is False and ctx.partial is False and ctx.status == 200
    assert ctx.usage == Usage(usage["prompt_tokens"], usage["completion_tokens"], None)
    assert ctx.price == Price(3.0, 15.0, 0.3)
    assert ctx.table_cost_usd == pytest.approx(table_cost(usage), rel=1e-9)
    assert ctx.headers["x-team"] == "ml"
    assert "authorization" not in ctx.headers
    assert "sk-client-secret" not in json.dumps(dict(ctx.headers))
    assert ctx.metadata == {"customer": "acme"}
    # It ran on the hook thread's pool, never on a data-plane thread.
    assert all(t.startswith("aigw-guardrail") for t in hook.threads), hook.threads
    stats = gw.stats()["cost_hook"]
    assert stats["calls"] == 1 and stats["errors"] == 0 and stats["timeouts"] == 0
    assert stats["backstop_timeouts"] == 0


def test_a_stream_ends_with_the_hooks_cost(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(config(), cost_hook=Seen(1.5))
    text, request_id = stream_text(gw, chat(**STREAM_USAGE))
    assert COMMENT_RE.findall(text) == ["1.5"]
    # Just before [DONE], which waits for it: the SDKs stop reading at [DONE].
    assert text.rstrip().endswith(": aigw_cost_usd 1.5\n\ndata: [DONE]")
    assert record(gw, request_id)["cost_usd"] == pytest.approx(1.5)
    # The SDK skips the comment and sees the whole stream.
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="mock-gpt",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage is not None
    assert gw.usage()["total"]["cost_usd"] == pytest.approx(3.0)


def test_none_keeps_the_tables_cost(make_gateway: Callable[..., aigw.Gateway]) -> None:
    hook = Seen(None)
    gw = make_gateway(config(), cost_hook=hook)
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat())
    expected = table_cost(resp.json()["usage"])
    assert float(resp.headers["x-aigw-cost-usd"]) == pytest.approx(expected, rel=1e-6)
    assert record(gw, resp.headers["x-aigw-request-id"])["cost_usd"] == pytest.approx(expected)
    # An unpriced model stays unpriced with None, but the hook may price it.
    unpriced = httpx.post(gw.url + "/v1/chat/completions", json=chat("no-price"))
    assert "x-aigw-cost-usd" not in unpriced.headers
    assert hook.contexts[-1].price is None and hook.contexts[-1].table_cost_usd is None
    assert gw.usage(model="no-price")["total"]["unpriced_requests"] == 1


def test_an_async_hook(make_gateway: Callable[..., aigw.Gateway]) -> None:
    seen: list[str] = []

    async def priced(ctx: aigw.CostContext) -> float:
        await asyncio.sleep(0.05)
        seen.append(threading.current_thread().name)
        return 0.25 if ctx.stream else 0.5

    gw = make_gateway(config(), cost_hook=priced)
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat())
    assert resp.headers["x-aigw-cost-usd"] == "0.5"
    text, _ = stream_text(gw, chat(**STREAM_USAGE))
    assert COMMENT_RE.findall(text) == ["0.25"]
    assert seen == ["aigw-hooks", "aigw-hooks"]
    assert gw.usage()["total"]["cost_usd"] == pytest.approx(0.75)


def test_a_hook_from_the_config_by_import_path(
    make_gateway: Callable[..., aigw.Gateway], write_config: Callable[..., Path]
) -> None:
    path = write_config(config({"hook": "cost_hooks:per_request_fee", "timeout": 2}))
    gw = make_gateway(str(path))
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat())
    expected = table_cost(resp.json()["usage"]) + 0.01
    assert float(resp.headers["x-aigw-cost-usd"]) == pytest.approx(expected, rel=1e-6)
    # An async callable object works too.
    gw2 = make_gateway(config({"hook": "cost_hooks:contract"}))
    resp = httpx.post(gw2.url + "/v1/chat/completions", json=chat())
    usage = resp.json()["usage"]
    tokens = usage["prompt_tokens"] + usage["completion_tokens"]
    assert float(resp.headers["x-aigw-cost-usd"]) == pytest.approx(tokens * 2e-6, rel=1e-6)


def test_the_argument_replaces_the_configs_hook(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(config({"hook": "cost_hooks:per_request_fee"}), cost_hook=Seen(7.0))
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat())
    assert resp.headers["x-aigw-cost-usd"] == "7"


# --------------------------------------------------------------------------- failures


def test_a_raising_hook_falls_back_to_the_table_and_is_logged(
    make_gateway: Callable[..., aigw.Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(ctx: aigw.CostContext) -> float:
        raise RuntimeError("billing service down")

    gw = make_gateway(config(), cost_hook=broken)
    with caplog.at_level(logging.ERROR, logger="aigw.cost"):
        resp = httpx.post(gw.url + "/v1/chat/completions", json=chat())
        text, _ = stream_text(gw, chat(**STREAM_USAGE))
    assert resp.status_code == 200
    expected = table_cost(resp.json()["usage"])
    assert float(resp.headers["x-aigw-cost-usd"]) == pytest.approx(expected, rel=1e-6)
    assert len(COMMENT_RE.findall(text)) == 1
    failures = [r for r in caplog.records if r.name == "aigw.cost"]
    assert len(failures) == 2
    assert failures[0].exc_info is not None and "billing service down" in caplog.text
    stats = gw.stats()["cost_hook"]
    assert stats["calls"] == 2 and stats["errors"] == 2 and stats["timeouts"] == 0


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "0.1", True])
def test_a_hook_returning_a_non_cost_falls_back(
    make_gateway: Callable[..., aigw.Gateway], bad: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gw = make_gateway(config(), cost_hook=lambda ctx: bad)
    with caplog.at_level(logging.ERROR, logger="aigw.cost"):
        resp = httpx.post(gw.url + "/v1/chat/completions", json=chat())
    expected = table_cost(resp.json()["usage"])
    assert float(resp.headers["x-aigw-cost-usd"]) == pytest.approx(expected, rel=1e-6)
    assert gw.stats()["cost_hook"]["errors"] == 1


def test_a_slow_hook_times_out_to_the_table_without_holding_the_answer(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    async def slow(ctx: aigw.CostContext) -> float:
        await asyncio.sleep(5)
        return 99.0

    gw = make_gateway(config({"timeout": 0.2}), cost_hook=slow)
    t0 = time.monotonic()
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat(), timeout=10)
    took = time.monotonic() - t0
    assert resp.status_code == 200
    assert 0.15 < took < 3.0  # its 0.2 s timeout, not the 5 s sleep
    expected = table_cost(resp.json()["usage"])
    assert float(resp.headers["x-aigw-cost-usd"]) == pytest.approx(expected, rel=1e-6)
    stats = gw.stats()["cost_hook"]
    assert stats["timeouts"] == 1 and stats["errors"] == 0


def test_on_error_null_leaves_the_answer_unpriced(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    def broken(ctx: aigw.CostContext) -> float:
        raise ValueError("no")

    gw = make_gateway(config({"on_error": "null"}), cost_hook=broken)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(logging.getLogger("aigw.cost"), "disabled", True)
        resp = httpx.post(gw.url + "/v1/chat/completions", json=chat())
    assert resp.status_code == 200 and "x-aigw-cost-usd" not in resp.headers
    assert record(gw, resp.headers["x-aigw-request-id"])["cost_usd"] is None
    assert gw.usage()["total"]["unpriced_requests"] == 1


def test_a_client_that_leaves_while_the_hook_works_cancels_it(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    started = threading.Event()

    async def slow(ctx: aigw.CostContext) -> float:
        started.set()
        await asyncio.sleep(2)
        return 99.0

    gw = make_gateway(config({"timeout": 10}), cost_hook=slow)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gw.url + "/v1/chat/completions", json=chat(), timeout=0.5)
    assert started.is_set()
    deadline = time.monotonic() + 5  # the gateway sees the client leave a moment later
    while not (gw.flush_logs() and gw.logs()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    [rec] = gw.logs()
    assert rec["client_aborted"] is True and rec["status"] is None
    # The table's cost: the hook's answer can no longer reach anyone.
    assert rec["cost_usd"] == pytest.approx(table_cost(rec), rel=1e-6)
    assert gw.usage()["total"]["cost_usd"] == pytest.approx(rec["cost_usd"])


def test_no_hook_no_hook_thread(make_gateway: Callable[..., aigw.Gateway]) -> None:
    gw = make_gateway(config())
    assert gw._hooks is None
    assert "cost_hook" not in gw.stats()


# --------------------------------------------------------------------------- config


def test_cost_section_problems_are_reported_with_their_paths() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(config({"hook": "not a path", "timout": 1, "on_error": "block"}))
    text = "\n".join(err.value.problems)
    assert "cost.hook:" in text
    assert "cost.timout: unknown key; did you mean 'timeout'?" in text
    assert "cost.on_error:" in text
    assert load_config(config({})).cost is not None
    assert load_config(config(None)).cost is None


def test_a_hook_that_cannot_be_loaded_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="cannot load it"):
        aigw.Gateway(config({"hook": "cost_hooks:nope"}))
    with pytest.raises(TypeError, match="callable"):
        aigw.Gateway(config(), cost_hook=0.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- failed and aborted


def test_a_stream_cut_after_its_usage_keeps_tokens_and_cost(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(config())
    # role, 8 pieces, finish, usage, [DONE]: a reset after 11 events cuts just before [DONE].
    text, request_id = stream_text(gw, chat(**STREAM_USAGE), **{"x-mock-reset-after": "11"})
    assert "data: [DONE]" not in text and "failed mid-stream" in text
    usage = stream_usage(text)
    [comment] = COMMENT_RE.findall(text)
    rec = record(gw, request_id)
    assert rec["partial"] is True and rec["error"]["type"] == "upstream_error"
    assert rec["prompt_tokens"] == usage["prompt_tokens"]
    assert rec["completion_tokens"] == usage["completion_tokens"] == 8
    assert rec["cost_usd"] == pytest.approx(table_cost(usage), rel=1e-9)
    assert float(comment) == pytest.approx(rec["cost_usd"], rel=1e-6)
    total = gw.usage()["total"]
    assert total["requests"] == 1 and total["completion_tokens"] == 8


def test_a_stream_cut_before_its_usage_has_unknown_tokens(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(config())
    text, request_id = stream_text(gw, chat(**STREAM_USAGE), **{"x-mock-reset-after": "3"})
    assert "failed mid-stream" in text and not COMMENT_RE.findall(text)
    rec = record(gw, request_id)
    assert rec["partial"] is True
    assert rec["prompt_tokens"] is None and rec["completion_tokens"] is None
    assert rec["cost_usd"] is None
    assert gw.usage()["total"]["requests"] == 0  # nothing known to count


def test_a_stream_cut_after_its_usage_is_priced_by_the_hook(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    hook = Seen(0.3)
    gw = make_gateway(config(), cost_hook=hook)
    text, request_id = stream_text(gw, chat(**STREAM_USAGE), **{"x-mock-reset-after": "11"})
    assert COMMENT_RE.findall(text) == ["0.3"]
    assert hook.contexts[0].partial is True
    assert record(gw, request_id)["cost_usd"] == pytest.approx(0.3)


def test_a_client_abort_after_the_usage_keeps_tokens_and_cost(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(config())
    # Eleven events (through the usage chunk), then the stream stalls; the client leaves.
    with httpx.stream(
        "POST",
        gw.url + "/v1/chat/completions",
        json=chat(**STREAM_USAGE),
        headers={"x-mock-stall-after": "11"},
        timeout=10,
    ) as resp:
        request_id = resp.headers["x-aigw-request-id"]
        seen = ""
        for piece in resp.iter_text():
            seen += piece
            if '"usage":{' in seen:
                break
    rec = record(gw, request_id)
    assert rec["client_aborted"] is True and rec["partial"] is True
    assert rec["completion_tokens"] == 8 and rec["prompt_tokens"] > 0
    usage = {"prompt_tokens": rec["prompt_tokens"], "completion_tokens": 8}
    assert rec["cost_usd"] == pytest.approx(table_cost(usage), rel=1e-9)
    assert gw.usage()["total"]["cost_usd"] == pytest.approx(rec["cost_usd"])


def test_a_client_abort_before_the_usage_has_unknown_tokens(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    gw = make_gateway(config())
    with httpx.stream(
        "POST",
        gw.url + "/v1/chat/completions",
        json=chat(**STREAM_USAGE),
        headers={"x-mock-stall-after": "3"},
        timeout=10,
    ) as resp:
        request_id = resp.headers["x-aigw-request-id"]
        next(resp.iter_bytes())
    rec = record(gw, request_id)
    assert rec["client_aborted"] is True
    assert rec["prompt_tokens"] is None and rec["cost_usd"] is None


def test_a_failed_answer_that_reports_usage_keeps_it(
    make_gateway: Callable[..., aigw.Gateway], upstream: RecordingUpstream
) -> None:
    """An upstream error whose body reports the prompt tokens it consumed: the record, the usage
    book and the header count them, at the table's price."""
    usage = {"prompt_tokens": 1200, "completion_tokens": 0, "total_tokens": 1200}
    error = {"error": {"message": "output blocked", "type": "invalid_request_error"}}

    async def handler(req: Recorded, reply: Reply) -> None:
        await reply.json({**error, "usage": usage}, status=400)

    upstream.handler = handler
    gw = make_gateway(
        gateway_config(
            {"up": openai_provider(upstream.origin + "/v1")},
            [{"name": "gpt-4o", "provider": "up"}],
            pricing={"gpt-4o": {"input": 2.0, "output": 8.0}},
        )
    )
    resp = httpx.post(gw.url + "/v1/chat/completions", json=chat("gpt-4o"))
    assert resp.status_code == 400
    assert float(resp.headers["x-aigw-cost-usd"]) == pytest.approx(1200 * 2.0 / 1e6)
    rec = record(gw, resp.headers["x-aigw-request-id"])
    assert rec["prompt_tokens"] == 1200 and rec["completion_tokens"] == 0
    assert rec["cost_usd"] == pytest.approx(1200 * 2.0 / 1e6)
    assert gw.usage()["total"]["prompt_tokens"] == 1200
