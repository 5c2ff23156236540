"""The `during` guardrail stage (docs/guardrails.md): the moderation guardrail checks the request
beside the upstream call, through the official openai SDK against a real gateway, with a
recording upstream that serves both the moderation endpoint and the chat answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from upstreams import (
    Recorded,
    RecordingUpstream,
    Reply,
    gateway_config,
    openai_handler,
    openai_provider,
)

import aigw

MOD_DELAY = 0.3  # seconds the moderation endpoint takes for inputs that say "slow-mod"
UP_DELAY = 0.3  # seconds the chat answer takes for inputs that say "slow-up"


def _texts(req: Recorded) -> str:
    return req.body.decode(errors="replace")


async def _handler(req: Recorded, reply: Reply) -> None:
    if req.path.endswith("/moderations"):
        body = req.json()
        inputs = " ".join(body["input"])
        if "slow-mod" in inputs:
            await asyncio.sleep(MOD_DELAY)
        flagged = "attack" in inputs
        await reply.json(
            {
                "id": "modr-1",
                "model": body["model"],
                "results": [{"flagged": flagged, "categories": {"violence": flagged}}],
            }
        )
        return
    if "hang-up" in _texts(req):
        await reply.hang(limit=10)
        return
    if "slow-up" in _texts(req):
        await asyncio.sleep(UP_DELAY)
    await openai_handler(req, reply)


@pytest.fixture
def upstream() -> Iterator[RecordingUpstream]:
    up = RecordingUpstream(_handler).start()
    try:
        yield up
    finally:
        up.stop()
    assert not up.errors


def during_config(up: RecordingUpstream, **guardrail: Any) -> dict[str, Any]:
    return gateway_config(
        {"up": openai_provider(up.origin)},
        guardrails=[
            {
                "name": "mod",
                "kind": "moderation",
                "provider": "up",
                "stage": "during",
                "default": True,
                **guardrail,
            }
        ],
    )


def client(gw: aigw.Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0, timeout=10)


def ask(c: openai.OpenAI, text: str) -> Any:
    return c.chat.completions.with_raw_response.create(
        model="gpt-x", messages=[{"role": "user", "content": text}]
    )


def chat_calls(up: RecordingUpstream) -> list[Recorded]:
    return [q for q in up.requests if q.path.endswith("/chat/completions")]


def test_an_allowed_request_gets_its_answer_sync_and_streamed(
    upstream: RecordingUpstream, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    gw = make_gateway(during_config(upstream))
    with client(gw) as c:
        raw = ask(c, "hello slow-mod")
        answer = raw.parse()
        assert answer.choices[0].message.content == "hello from upstream"
        stream = c.chat.completions.create(
            model="gpt-x",
            messages=[{"role": "user", "content": "hello slow-mod"}],
            stream=True,
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == "hello"
    mods = [q for q in upstream.requests if q.path.endswith("/moderations")]
    assert [q.json()["input"] for q in mods] == [["hello slow-mod"], ["hello slow-mod"]]
    assert len(chat_calls(upstream)) == 2
    stats = gw.stats()["guardrails"]["mod"]
    assert stats["stages"] == ["during"]
    assert stats["runs"] == 2 and stats["blocks"] == 0 and stats["upstream_cancels"] == 0
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=raw.headers["x-aigw-request-id"])
    assert [(g["name"], g["stage"], g["verdict"]) for g in rec["guardrails"]] == [
        ("mod", "during", "allow")
    ]


def test_a_block_cancels_the_upstream_call_and_answers_the_error(
    upstream: RecordingUpstream, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    gw = make_gateway(during_config(upstream))
    with client(gw) as c:
        with pytest.raises(openai.BadRequestError) as err:
            ask(c, "plan an attack hang-up slow-mod")
    assert err.value.status_code == 400
    assert err.value.response.headers["x-aigw-guardrail"] == "mod"
    assert err.value.body["message"] == (  # type: ignore[index]
        "the request was blocked by guardrail 'mod': flagged by moderation (violence)"
    )
    assert err.value.body["code"] == "content_blocked"  # type: ignore[index]
    # The upstream got the request beside the check, then saw its connection closed.
    (call,) = chat_calls(upstream)
    assert upstream.wait_for(lambda: upstream.conns[call.conn_id].closed is not None)
    stats = gw.stats()["guardrails"]["mod"]
    assert stats["blocks"] == 1 and stats["upstream_cancels"] == 1
    assert gw.flush_logs()
    (rec,) = gw.logs(request_id=err.value.response.headers["x-aigw-request-id"])
    assert rec["status"] == 400
    assert [(g["stage"], g["verdict"]) for g in rec["guardrails"]] == [("during", "block")]


def test_a_blocked_stream_sends_no_event(
    upstream: RecordingUpstream, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    gw = make_gateway(during_config(upstream))
    with client(gw) as c, pytest.raises(openai.BadRequestError) as err:
        # The upstream streams its answer at once; the check flags it later: the held
        # stream is dropped and the client gets a plain error instead.
        c.chat.completions.create(
            model="gpt-x",
            messages=[{"role": "user", "content": "an attack slow-mod"}],
            stream=True,
        )
    assert err.value.response.headers["content-type"] == "application/json"
    assert "flagged by moderation" in err.value.message
    assert len(chat_calls(upstream)) == 1
    stats = gw.stats()["guardrails"]["mod"]
    assert stats["blocks"] == 1 and stats["upstream_cancels"] == 0  # it had already answered


def test_the_check_runs_beside_the_upstream_call(
    upstream: RecordingUpstream, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    gw = make_gateway(during_config(upstream))
    with client(gw) as c:
        ask(c, "warm up")  # connections and the SDK's first-use costs out of the way
        t0 = time.monotonic()
        ask(c, "slow-mod and slow-up")
        took = time.monotonic() - t0
    assert took >= max(MOD_DELAY, UP_DELAY) * 0.9
    assert took < MOD_DELAY + UP_DELAY - 0.05, f"took {took:.3f} s: one after the other"


def test_a_failed_check_follows_on_error(
    upstream: RecordingUpstream, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    # The moderation call times out (fail closed by default; `allow` lets the answer out).
    gw = make_gateway(during_config(upstream, timeout=0.1))
    with client(gw) as c, pytest.raises(openai.BadRequestError) as err:
        ask(c, "slow-mod")
    assert "the moderation call timed out" in err.value.message
    gw2 = make_gateway(during_config(upstream, timeout=0.1, on_error="allow"))
    with client(gw2) as c:
        assert ask(c, "slow-mod").parse().choices[0].message.content == "hello from upstream"
    assert gw.stats()["guardrails"]["mod"]["timeouts"] == 1
    assert gw2.stats()["guardrails"]["mod"]["timeouts"] == 1


class SlowPolicy(aigw.Guardrail):
    """A Python guardrail at the during stage: takes MOD_DELAY, blocks "attack"."""

    stages = ("during",)

    def __init__(self) -> None:
        super().__init__(name="policy")
        self.seen: list[str] = []
        self.cancelled = 0

    async def check(self, request: aigw.Request) -> aigw.Verdict:
        self.seen.append(request.text)
        try:
            await asyncio.sleep(MOD_DELAY)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if "attack" in request.text:
            return aigw.block("not that", status=403, code="policy")
        if "rewrite" in request.text:
            return aigw.rewrite(text="something else")
        return aigw.allow()


def test_a_python_guardrail_runs_beside_the_upstream_call(
    upstream: RecordingUpstream, make_gateway: Callable[..., aigw.Gateway]
) -> None:
    policy = SlowPolicy()
    gw = make_gateway(gateway_config({"up": openai_provider(upstream.origin)}), guardrails=[policy])
    with client(gw) as c:
        t0 = time.monotonic()
        answer = ask(c, "hello slow-up").parse()
        took = time.monotonic() - t0
        assert answer.choices[0].message.content == "hello from upstream"
        # Beside, not after: about the longer of the two (0.3 s), not their sum (0.6 s).
        assert took < MOD_DELAY + UP_DELAY - 0.1, took

        with pytest.raises(openai.PermissionDeniedError) as err:
            ask(c, "plan an attack hang-up")
        assert err.value.response.headers["x-aigw-guardrail"] == "policy"
        assert err.value.body["code"] == "policy"  # type: ignore[index]

        # A during check cannot change the request: a rewrite fails closed.
        with pytest.raises(openai.InternalServerError) as failed:
            ask(c, "please rewrite this")
        assert failed.value.status_code == 503
        assert "only allow or block" in failed.value.body["message"]  # type: ignore[index]
    assert policy.seen == ["hello slow-up", "plan an attack hang-up", "please rewrite this"]
    stats = gw.stats()["guardrails"]["policy"]
    assert stats["kind"] == "python" and stats["stages"] == ["during"]
    assert stats["runs"] == 3 and stats["blocks"] >= 1 and stats["upstream_cancels"] >= 1
