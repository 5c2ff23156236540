"""Built-in guardrails (docs/guardrails.md) over real sockets: the mock provider (x-mock-response
sets the completion text, x-mock-chunks splits it evenly into stream chunks) and a recording
upstream that shows what a provider received."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from _util import wait_until
from upstreams import (  # noqa: F401  (fixtures: pytest finds them by their names)
    Recorded,
    RecordingUpstream,
    Reply,
    gateway_config,
    openai_handler,
    openai_provider,
    upstream_fixture,
)

import aigw
from aigw.config import ConfigError, load_config

SECRET = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
BANNED = "how do I build a doomsday device"

GUARDRAILS: list[dict[str, Any]] = [
    {"name": "banned", "kind": "phrases", "phrases": ["doomsday device"], "default": True},
    {
        "name": "secrets-out",
        "kind": "regex",
        "stage": ["output", "stream"],
        "action": "redact",
        "presets": ["secrets", "email"],
        "default": True,
    },
    {
        "name": "pii-in",
        "kind": "regex",
        "action": "redact",
        "presets": ["email", "card"],
        "priority": -1,
        "default": True,
    },
    {
        "name": "strict",
        "kind": "phrases",
        "phrases": ["forbidden"],
        "request_selectable": True,
        "block": {"status": 422, "message": "no forbidden words here", "code": "strict_block"},
    },
    {"name": "hidden", "kind": "phrases", "phrases": ["secret-sauce"]},
    {"name": "small", "kind": "limits", "max_messages": 2},
]


def mock_config(**extra: Any) -> dict[str, Any]:
    return {
        "server": {"workers": 1},
        "providers": {"mock": {"kind": "mock"}},
        "routes": [
            {"name": "open", "provider": "mock", "guardrails": []},
            {"name": "limited", "provider": "mock", "guardrails": ["small", "hidden"]},
            {"name": "*", "provider": "mock"},
        ],
        "guardrails": GUARDRAILS,
        **extra,
    }


@pytest.fixture(scope="module")
def gw() -> Iterator[aigw.Gateway]:
    with aigw.Gateway(mock_config()) as g:
        yield g


def post(gw: aigw.Gateway, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(gw.url + path, json=body, headers=headers, timeout=10)


def stream_text(r: httpx.Response, key: str = "content") -> tuple[str, list[dict[str, Any]]]:
    """The text of a streamed answer (delta.content or text) and its events (without [DONE])."""
    text, events = "", []
    for line in r.text.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        events.append(ev)
        for ch in ev.get("choices", []):
            piece = ch.get("delta", {}).get("content") if key == "content" else ch.get("text")
            text += piece or ""
    return text, events


ENDPOINT_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": BANNED}]}),
    (
        "/v1/chat/completions",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": BANNED}]}]},
    ),
    ("/v1/completions", {"prompt": BANNED}),
    ("/v1/completions", {"prompt": ["fine", BANNED]}),
    ("/v1/embeddings", {"input": BANNED}),
    ("/v1/embeddings", {"input": ["fine", BANNED]}),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("path", "body"), ENDPOINT_BODIES)
def test_the_same_banned_prompt_is_blocked_on_every_endpoint(
    gw: aigw.Gateway, path: str, body: dict[str, Any], stream: bool
) -> None:
    payload = {"model": "m", **body}
    if stream and not path.endswith("embeddings"):
        payload["stream"] = True
    r = post(gw, path, payload)
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["code"] == "content_blocked"
    assert "'banned'" in err["message"]
    assert "doomsday" not in err["message"]  # the message names the rule, not the text


def test_a_clean_prompt_passes(gw: aigw.Gateway) -> None:
    r = post(
        gw, "/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"]


def test_output_redaction_rewrites_the_held_answer(gw: aigw.Gateway) -> None:
    text = f"Here is the key {SECRET} and mail bob@example.com."
    for path, key in (("/v1/chat/completions", "chat"), ("/v1/completions", "text")):
        body: dict[str, Any] = {"model": "m"}
        body.update(
            {"messages": [{"role": "user", "content": "x"}]} if key == "chat" else {"prompt": "x"}
        )
        r = post(gw, path, body, **{"x-mock-response": text})
        assert r.status_code == 200, r.text
        choice = r.json()["choices"][0]
        got = choice["message"]["content"] if key == "chat" else choice["text"]
        assert got == "Here is the key [REDACTED:secret] and mail [REDACTED:email]."
        assert int(r.headers["content-length"]) == len(r.content)


@pytest.mark.parametrize("delay", ["0", "1"])
@pytest.mark.parametrize("chunks", [2, 5, 17, 60])
def test_a_stream_guardrail_redacts_a_secret_split_across_chunks(
    gw: aigw.Gateway, chunks: int, delay: str
) -> None:
    text = f"Your key is {SECRET} and that is all there is to say about it."
    r = post(
        gw,
        "/v1/chat/completions",
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        **{"x-mock-response": text, "x-mock-chunks": str(chunks), "x-mock-chunk-delay-ms": delay},
    )
    assert r.status_code == 200, r.text
    assert "text/event-stream" in r.headers["content-type"]
    assert "sk-abc" not in r.text and "ABCD" not in r.text
    got, events = stream_text(r)
    assert got == text.replace(SECRET, "[REDACTED:secret]")
    assert r.text.rstrip().endswith("data: [DONE]")
    assert events[-1]["choices"][0]["finish_reason"] == "stop" or events[-1].get("usage")


def test_a_completions_stream_is_redacted_too(gw: aigw.Gateway) -> None:
    text = f"mail alice@example.org now, key {SECRET}."
    r = post(
        gw,
        "/v1/completions",
        {"model": "m", "stream": True, "prompt": "x"},
        **{"x-mock-response": text, "x-mock-chunks": "9"},
    )
    assert r.status_code == 200, r.text
    got, _ = stream_text(r, key="text")
    assert got == "mail [REDACTED:email] now, key [REDACTED:secret]."


def test_input_redaction_reaches_the_provider(upstream: RecordingUpstream) -> None:
    config = gateway_config(
        {"up": openai_provider(upstream.origin)},
        guardrails=[
            {
                "name": "pii",
                "kind": "regex",
                "action": "redact",
                "presets": ["email", "card"],
                "default": True,
            }
        ],
    )
    with aigw.Gateway(config) as g:
        r = post(
            g,
            "/v1/chat/completions",
            {
                "model": "gpt-x",
                "temperature": 0.5,
                "messages": [
                    {"role": "user", "content": "I am carol@example.com, card 4111 1111 1111 1111"},
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "again carol@example.com"}],
                    },
                ],
            },
        )
        assert r.status_code == 200, r.text
    sent = upstream.last.json()
    assert sent["messages"][0]["content"] == "I am [REDACTED:email], card [REDACTED:card]"
    assert sent["messages"][1]["content"][0]["text"] == "again [REDACTED:email]"
    assert sent["temperature"] == 0.5 and sent["model"] == "gpt-x"
    assert upstream.last.header("content-length") == str(len(upstream.last.body))


def test_an_unchanged_body_goes_upstream_byte_for_byte(upstream: RecordingUpstream) -> None:
    config = gateway_config(
        {"up": openai_provider(upstream.origin)},
        guardrails=[
            {
                "name": "pii",
                "kind": "regex",
                "action": "redact",
                "presets": ["email"],
                "default": True,
            }
        ],
    )
    raw = b'{"model": "gpt-x",  "messages": [{"role": "user", "content": "plain"}], "n": 1.0}'
    with aigw.Gateway(config) as g:
        r = httpx.post(
            g.url + "/v1/chat/completions",
            content=raw,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 200, r.text
    assert upstream.last.body == raw


def test_per_route_selection(gw: aigw.Gateway) -> None:
    # "open" selects no guardrail: the banned prompt passes.
    r = post(
        gw,
        "/v1/chat/completions",
        {"model": "open", "messages": [{"role": "user", "content": BANNED}]},
    )
    assert r.status_code == 200, r.text
    # "limited" selects its own (not the defaults).
    r = post(
        gw,
        "/v1/chat/completions",
        {"model": "limited", "messages": [{"role": "user", "content": BANNED}]},
    )
    assert r.status_code == 200, r.text
    r = post(
        gw,
        "/v1/chat/completions",
        {
            "model": "limited",
            "messages": [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
            ],
        },
    )
    assert r.status_code == 400
    assert "max_messages" in r.json()["error"]["message"]
    r = post(
        gw,
        "/v1/chat/completions",
        {"model": "limited", "messages": [{"role": "user", "content": "the secret-sauce"}]},
    )
    assert r.status_code == 400 and "'hidden'" in r.json()["error"]["message"]


def test_per_request_selection_allowed_and_refused(gw: aigw.Gateway) -> None:
    body = {"model": "open", "messages": [{"role": "user", "content": "a forbidden word"}]}
    assert post(gw, "/v1/chat/completions", body).status_code == 200
    r = post(gw, "/v1/chat/completions", body, **{"x-aigw-guardrails": "strict,"})
    assert r.status_code == 422
    assert r.json()["error"] == {
        "message": "no forbidden words here",
        "type": "invalid_request_error",
        "code": "strict_block",
        "param": None,
    }
    for name in ("hidden", "nope", "strict,hidden"):
        r = post(gw, "/v1/chat/completions", body, **{"x-aigw-guardrails": name})
        assert r.status_code == 400, name
        assert r.json()["error"]["code"] == "guardrail_not_selectable"


def test_counters_in_stats_and_health(make_gateway: Callable[..., aigw.Gateway]) -> None:
    g = make_gateway(mock_config())
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    post(g, "/v1/chat/completions", chat)
    post(
        g, "/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": BANNED}]}
    )
    post(g, "/v1/chat/completions", chat, **{"x-mock-response": f"key {SECRET}"})
    post(
        g,
        "/v1/chat/completions",
        {**chat, "stream": True},
        **{"x-mock-response": f"key {SECRET} and more", "x-mock-chunks": "6"},
    )
    stats = g.stats()["guardrails"]
    assert stats["banned"]["runs"] == 4 and stats["banned"]["blocks"] == 1
    assert stats["secrets-out"]["runs"] == 3  # two held answers and one stream (counted once)
    assert stats["secrets-out"]["redactions"] == 2
    assert stats["secrets-out"]["stages"] == ["output", "stream"]
    assert stats["pii-in"]["runs"] == 4 and stats["pii-in"]["redactions"] == 0
    assert stats["strict"]["runs"] == 0
    for s in stats.values():
        assert s["errors"] == 0 and s["timeouts"] == 0 and s["duration_us"] >= 0
    health = httpx.get(g.url + "/health").json()
    assert health["guardrails"]["banned"]["blocks"] == 1


def test_no_guardrails_configured_reports_an_empty_section(gateway: aigw.Gateway) -> None:
    assert gateway.stats()["guardrails"] == {}
    assert "guardrails" not in httpx.get(gateway.url + "/health").json()


def test_a_stream_blocked_mid_way_ends_with_an_error_event(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    g = make_gateway(
        mock_config(
            routes=[{"name": "*", "provider": "mock"}],
            guardrails=[
                {
                    "name": "nope",
                    "kind": "phrases",
                    "stage": "stream",
                    "phrases": ["launch codes"],
                    "default": True,
                },
            ],
        )
    )
    text = "Sure. " * 30 + "The launch codes are 0000." + " More." * 5
    r = post(
        g,
        "/v1/chat/completions",
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        **{"x-mock-response": text, "x-mock-chunks": "40", "x-mock-chunk-delay-ms": "2"},
    )
    assert r.status_code == 200
    assert "launch" not in r.text
    last = [line for line in r.text.splitlines() if line.startswith("data: ")][-1]
    assert json.loads(last[6:])["error"]["code"] == "content_blocked"
    # Blocked before anything went out: a plain error response.
    r = post(
        g,
        "/v1/chat/completions",
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        **{"x-mock-response": "launch codes", "x-mock-chunks": "2"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "content_blocked"


def test_config_errors_are_reported_with_paths() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            {
                "providers": {"mock": {"kind": "mock"}},
                "routes": [{"name": "a", "provider": "mock", "guardrails": ["banedd", "x"]}],
                "guardrails": [
                    {"name": "baned", "kind": "regex", "patterns": ["ok", "(?<=no)x", "a("]},
                    {"name": "baned", "kind": "phrases", "phrases": ["p"], "presets": ["email"]},
                    {"name": "lim", "kind": "limits", "stage": "output", "max_messages": 1},
                    {"name": "bad", "kind": "regex", "presets": ["ssn"], "stage": "sideways"},
                    {"name": "l2", "kind": "limits"},
                ],
            }
        )
    problems = "\n".join(info.value.problems)
    assert "guardrails[0].patterns[1]: invalid RE2 pattern" in problems
    assert "guardrails[0].patterns[2]: invalid RE2 pattern" in problems
    assert "guardrails[1].name: duplicate guardrail 'baned'" in problems
    assert "guardrails[1].presets: only for kind 'regex'" in problems
    assert "guardrails[2].stage: limits run at the input stage only" in problems
    assert "guardrails[3].presets[0]" in problems
    assert "guardrails[3].stage" in problems
    assert "guardrails[4]: a limits guardrail needs" in problems
    assert "routes[0].guardrails[0]: unknown guardrail 'banedd'" in problems
    assert "did you mean 'baned'?" in problems
    assert "routes[0].guardrails[1]: unknown guardrail 'x'" in problems


def test_unknown_guardrail_keys_get_a_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(
            {
                "providers": {"mock": {"kind": "mock"}},
                "guardrails": [
                    {"name": "g", "kind": "phrases", "phrase": ["x"], "block": {"stauts": 400}}
                ],
            }
        )
    problems = "\n".join(info.value.problems)
    assert "guardrails[0].phrase: unknown key; did you mean 'phrases'?" in problems
    assert "guardrails[0].block.stauts: unknown key; did you mean 'status'?" in problems


def test_a_boolean_timeout_is_a_config_error() -> None:
    # Pydantic's lax mode would read `timeout: true` as 1.0 seconds.
    for kind, keys in (
        ("moderation", {"provider": "mock"}),
        ("python", {"hook": "guardrail_hooks:no_bar"}),
    ):
        with pytest.raises(ConfigError) as info:
            load_config(
                {
                    "providers": {"mock": {"kind": "mock"}},
                    "guardrails": [{"name": "g", "kind": kind, "timeout": True, **keys}],
                }
            )
        problems = "\n".join(info.value.problems)
        assert "guardrails[0].timeout: input should be a valid number, not a boolean" in problems


def test_core_document_for_guardrails() -> None:
    cfg = load_config(mock_config())
    core = cfg.to_core_dict()
    assert [g["name"] for g in core["guardrails"]] == [g["name"] for g in GUARDRAILS]
    assert core["guardrails"][1]["stages"] == ["output", "stream"]
    assert core["guardrails"][0]["block"] == {
        "status": 400,
        "message": None,
        "type": "invalid_request_error",
        "code": "content_blocked",
    }
    assert core["routes"][0]["guardrails"] == []
    assert "guardrails" not in core["routes"][2]
    assert "guardrails" not in load_config(None).to_core_dict()


# --------------------------------------------------------------------------- moderation


def moderation_upstream() -> RecordingUpstream:
    """An OpenAI-like upstream whose /v1/moderations flags any input that says "attack"."""

    async def handler(req: Recorded, reply: Reply) -> None:
        if req.path.endswith("/moderations"):
            body = req.json()
            if any("slow" in t for t in body["input"]):
                await asyncio.sleep(2)
            if any("broken" in t for t in body["input"]):
                await reply.json({"error": {"message": "down"}}, status=500)
                return
            flagged = any("attack" in t for t in body["input"])
            await reply.json(
                {
                    "id": "modr-1",
                    "model": body["model"],
                    "results": [
                        {"flagged": flagged, "categories": {"violence": flagged, "hate": False}}
                    ],
                }
            )
            return
        await openai_handler(req, reply)

    return RecordingUpstream(handler).start()


def test_moderation_blocks_flagged_input_and_passes_the_rest() -> None:
    up = moderation_upstream()
    try:
        config = gateway_config(
            {"up": openai_provider(up.origin)},
            guardrails=[
                {
                    "name": "mod",
                    "kind": "moderation",
                    "provider": "up",
                    "default": True,
                    "model": "omni-test",
                    "timeout": 0.5,
                },
                {
                    "name": "mod-open",
                    "kind": "moderation",
                    "provider": "up",
                    "on_error": "allow",
                    "request_selectable": True,
                    "priority": 5,
                },
            ],
        )
        with aigw.Gateway(config) as g:
            chat = {"model": "gpt-x", "messages": [{"role": "user", "content": "plan an attack"}]}
            r = post(g, "/v1/chat/completions", chat)
            assert r.status_code == 400, r.text
            assert r.json()["error"]["message"] == (
                "the request was blocked by guardrail 'mod': flagged by moderation (violence)"
            )
            mod_calls = [q for q in up.requests if q.path.endswith("/moderations")]
            assert mod_calls[-1].json() == {"model": "omni-test", "input": ["plan an attack"]}
            assert mod_calls[-1].header("authorization") == "Bearer sk-provider-key"
            assert not [q for q in up.requests if q.path.endswith("/chat/completions")]

            r = post(g, "/v1/embeddings", {"model": "gpt-x", "input": ["hello", "there"]})
            assert r.status_code == 200, r.text
            r = post(
                g,
                "/v1/chat/completions",
                {**chat, "messages": [{"role": "user", "content": "a slow question"}]},
            )
            assert r.status_code == 400  # timed out: fail closed
            r = post(
                g,
                "/v1/chat/completions",
                {**chat, "messages": [{"role": "user", "content": "broken"}]},
            )
            assert r.status_code == 400
            stats = g.stats()["guardrails"]["mod"]
            assert stats["runs"] == 4 and stats["blocks"] == 3
            assert stats["errors"] == 2 and stats["timeouts"] == 1
    finally:
        up.stop()
    assert not up.errors


def test_moderation_at_the_output_stage_checks_whole_answers() -> None:
    up = moderation_upstream()
    try:
        config = gateway_config(
            {"mock": {"kind": "mock"}, "up": openai_provider(up.origin)},
            guardrails=[
                {
                    "name": "mod-out",
                    "kind": "moderation",
                    "provider": "up",
                    "stage": ["output"],
                    "default": True,
                }
            ],
        )
        with aigw.Gateway(config) as g:
            chat = {"model": "m", "messages": [{"role": "user", "content": "an attack plan?"}]}
            ok = post(g, "/v1/chat/completions", chat, **{"x-mock-response": "no, sorry"})
            assert ok.status_code == 200  # the request may say it: only answers are checked
            bad = post(g, "/v1/chat/completions", chat, **{"x-mock-response": "the attack: ..."})
            assert bad.status_code == 400 and bad.headers["x-aigw-guardrail"] == "mod-out"
            assert bad.json()["error"]["message"] == (
                "the response was blocked by guardrail 'mod-out': flagged by moderation (violence)"
            )
            inputs = [q.json()["input"] for q in up.requests if q.path.endswith("/moderations")]
            assert inputs == [["no, sorry"], ["the attack: ..."]]
            streamed = post(
                g, "/v1/chat/completions", {**chat, "stream": True}, **{"x-mock-response": "attack"}
            )
            assert streamed.status_code == 200  # not on streams
            assert g.stats()["guardrails"]["mod-out"]["runs"] == 2
    finally:
        up.stop()
    assert not up.errors


@pytest.mark.parametrize(("on_error", "status"), [("block", 400), ("allow", 200)])
def test_moderation_errors_follow_on_error(
    make_gateway: Callable[..., aigw.Gateway], on_error: str, status: int
) -> None:
    # The mock provider has no moderation endpoint (404), and answers at once: the check
    # completes before the stage would park.
    g = make_gateway(
        mock_config(
            routes=[{"name": "*", "provider": "mock"}],
            guardrails=[
                {
                    "name": "mod",
                    "kind": "moderation",
                    "provider": "mock",
                    "on_error": on_error,
                    "default": True,
                },
                {
                    "name": "ban",
                    "kind": "phrases",
                    "phrases": ["zzz"],
                    "priority": 1,
                    "default": True,
                },
            ],
        )
    )
    r = post(
        g, "/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert r.status_code == status, r.text
    if status == 400:
        assert r.json()["error"]["message"] == (
            "the request was blocked by guardrail 'mod': the moderation endpoint answered 404"
        )
    stats = g.stats()["guardrails"]
    assert stats["mod"]["errors"] == 1
    assert stats["ban"]["runs"] == (1 if on_error == "allow" else 0)  # a block stops the stage


def test_the_selection_header_is_refused_when_no_guardrail_exists(gateway: aigw.Gateway) -> None:
    r = post(
        gateway,
        "/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        **{"x-aigw-guardrails": "anything"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "guardrail_not_selectable"


def test_a_client_that_leaves_during_moderation_cancels_the_check() -> None:
    up = moderation_upstream()
    try:
        config = gateway_config(
            {"up": openai_provider(up.origin)},
            guardrails=[
                {
                    "name": "mod",
                    "kind": "moderation",
                    "provider": "up",
                    "default": True,
                    "timeout": 5,
                },
            ],
        )
        with aigw.Gateway(config) as g:
            body = json.dumps(
                {"model": "gpt-x", "messages": [{"role": "user", "content": "a slow one"}]}
            ).encode()
            head = (
                f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
                f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
            ).encode()
            with socket.create_connection((g.host, g.port)) as s:
                s.sendall(head + body)
                assert up.wait_for(
                    lambda: any(q.path.endswith("/moderations") for q in up.requests)
                )
            wait_until(lambda: g.stats()["requests_in_flight"] == 0, what="request ended")
            r = post(
                g,
                "/v1/chat/completions",
                {"model": "gpt-x", "messages": [{"role": "user", "content": "fine"}]},
            )
            assert r.status_code == 200, r.text
            assert not [
                q
                for q in up.requests
                if "slow" in q.body.decode() and q.path.endswith("/chat/completions")
            ]
    finally:
        up.stop()


def test_a_retried_stream_does_not_carry_the_failed_attempts_held_text(
    make_gateway: Callable[..., aigw.Gateway],
) -> None:
    # The first target drops the stream after 3 events; everything it sent was still held
    # in the window (so the head was too), and the retry on the second target starts afresh.
    g = make_gateway(
        {
            "server": {"workers": 1},
            "providers": {"bad": {"kind": "mock", "reset_after": 3}, "good": {"kind": "mock"}},
            "routes": [
                {
                    "name": "*",
                    "strategy": "fallback",
                    "targets": [{"provider": "bad"}, {"provider": "good"}],
                    "retry": {"attempts": 2, "backoff": 0.001},
                    "circuit_breaker": {"enabled": False},
                }
            ],
            "guardrails": [
                {
                    "name": "keys",
                    "kind": "regex",
                    "stage": "stream",
                    "action": "redact",
                    "presets": ["secrets"],
                    "window": 200,
                    "default": True,
                },
            ],
        }
    )
    text = "one two three four five six seven eight"
    r = post(
        g,
        "/v1/chat/completions",
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        **{"x-mock-response": text, "x-mock-chunks": "8"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-aigw-attempts"] == "2"
    got, _ = stream_text(r)
    assert got == text
