"""Built-in guardrails (docs/guardrails.md) at the input and output stages, over real sockets:
the mock provider (x-mock-response sets the completion text), a recording upstream that shows
what a provider received, and one that also serves a moderation endpoint. The stream stage is
in test_stream_stage.py, the during stage in test_during_stage.py."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import _util
import httpx
import pytest
from _util import wait_until
from guardrail_hooks import NoForbidden
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
from aigw.config import load_config

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


# ----------------------------------------------------------------------------------- every endpoint


@dataclass(frozen=True)
class Blocker:
    """A guardrail that blocks a prompt, and the error the client must get for it."""

    prompt: str
    status: int
    code: str
    says: str  # in the error message
    hides: str | None = None  # never in the error message


BLOCKERS = {
    # The message names the rule, not the text.
    "phrases": Blocker(BANNED, 400, "content_blocked", says="'banned'", hides="doomsday"),
    "python": Blocker("so forbidden", 422, "no_forbidden", says="forbidden words are not allowed"),
}


@pytest.fixture(scope="module")
def blocking(gw: aigw.Gateway) -> Iterator[dict[str, aigw.Gateway]]:
    """A gateway per kind of Blocker: the built-in phrase list of `gw`, and a Python guardrail."""
    with aigw.Gateway(_util.mock_config(), guardrails=[NoForbidden()]) as python:
        yield {"phrases": gw, "python": python}


ENDPOINT_BODIES: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("/v1/chat/completions", lambda text: {"messages": [{"role": "user", "content": text}]}),
    (
        "/v1/chat/completions",
        lambda text: {"messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]},
    ),
    ("/v1/completions", lambda text: {"prompt": text}),
    ("/v1/completions", lambda text: {"prompt": ["fine", text]}),
    ("/v1/embeddings", lambda text: {"input": text}),
    ("/v1/embeddings", lambda text: {"input": ["fine", text]}),
]


@pytest.mark.parametrize("kind", sorted(BLOCKERS))
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("path", "body"), ENDPOINT_BODIES)
def test_the_same_banned_prompt_is_blocked_on_every_endpoint(
    blocking: dict[str, aigw.Gateway],
    kind: str,
    path: str,
    body: Callable[[str], dict[str, Any]],
    stream: bool,
) -> None:
    blocker = BLOCKERS[kind]
    payload = {"model": "m", **body(blocker.prompt)}
    if stream and not path.endswith("embeddings"):
        payload["stream"] = True
    r = post(blocking[kind], path, payload)
    assert r.status_code == blocker.status, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    assert err["code"] == blocker.code
    assert blocker.says in err["message"]
    assert blocker.hides is None or blocker.hides not in err["message"]


def test_a_clean_prompt_passes(gw: aigw.Gateway) -> None:
    r = post(
        gw, "/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    ("path", "body", "text_of"),
    [
        (
            "/v1/chat/completions",
            {"messages": [{"role": "user", "content": "x"}]},
            lambda choice: choice["message"]["content"],
        ),
        ("/v1/completions", {"prompt": "x"}, lambda choice: choice["text"]),
    ],
    ids=["chat", "completions"],
)
def test_output_redaction_rewrites_the_held_answer(
    gw: aigw.Gateway, path: str, body: dict[str, Any], text_of: Callable[[Any], str]
) -> None:
    text = f"Here is the key {SECRET} and mail bob@example.com."
    r = post(gw, path, {"model": "m", **body}, **{"x-mock-response": text})
    assert r.status_code == 200, r.text
    got = text_of(r.json()["choices"][0])
    assert got == "Here is the key [REDACTED:secret] and mail [REDACTED:email]."
    assert int(r.headers["content-length"]) == len(r.content)


# ----------------------------------------------------------------------- input, selection, counters


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
    assert core["routes"][2]["guardrails"] is None  # the default ones
    assert load_config(None).to_core_dict()["guardrails"] == []


# --------------------------------------------------------------------------------------- moderation


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
