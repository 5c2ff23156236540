"""kind: vertex: the official ``openai`` and ``anthropic`` SDKs through aigw to a fake Vertex AI
(tests/python/providers/fake_vertex.py), Gemini models on publisher google and Claude models on
publisher anthropic, whole and streamed, with tokens from a fake Google token endpoint that
verifies the service account's RS256-signed JWT grant with the ``openssl`` CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from _util import mock_route
from fake_vertex import PROJECT, REGION, FakeGoogle, make_key, service_account
from upstreams import RecordingUpstream, recording_upstream

import aigw
from aigw.credentials import AccessToken

GEMINI = "gemini-2.0-flash-001"
CLAUDE = "claude-sonnet-4@20250514"
BASE = f"/v1/projects/{PROJECT}/locations/{REGION}/publishers"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    return make_key(tmp_path_factory.mktemp("vertex-key"))


def start_fake(key: tuple[str, Path], lifetime: int = 3600) -> Any:
    google = FakeGoogle(key[1], lifetime)
    up = recording_upstream(google.handler)
    return google, up


@pytest.fixture(scope="module")
def fake(key: tuple[str, Path]) -> Iterator[tuple[FakeGoogle, RecordingUpstream]]:
    google, cm = start_fake(key)
    with cm as up:
        google.origin = up.origin
        yield google, up


def vertex_config(
    up: RecordingUpstream, credentials: dict[str, Any], workers: int = 1
) -> dict[str, Any]:
    return {
        "server": {"workers": workers},
        "providers": {
            "vx": {
                "kind": "vertex",
                "project": PROJECT,
                "region": REGION,
                "base_url": up.origin,
                **credentials,
            },
        },
        "routes": [
            {**mock_route("gem", "vx"), "model": GEMINI},
            {**mock_route("claude", "vx"), "model": CLAUDE},
        ],
    }


@pytest.fixture(scope="module")
def sa_file(
    fake: tuple[FakeGoogle, RecordingUpstream], key: tuple[str, Path], tmp_path_factory: Any
) -> Path:
    path = tmp_path_factory.mktemp("sa") / "sa.json"
    path.write_text(json.dumps(service_account(fake[0].token_uri, key[0])))
    return path


@pytest.fixture(scope="module")
def gw(fake: tuple[FakeGoogle, RecordingUpstream], sa_file: Path) -> Iterator[aigw.Gateway]:
    with aigw.Gateway(vertex_config(fake[1], {"service_account": str(sa_file)})) as g:
        yield g


@pytest.fixture()
def client(gw: aigw.Gateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gw.url + "/v1", api_key="client-key", max_retries=0) as c:
        yield c


def chat(c: openai.OpenAI, model: str, text: str = "Say hello", **kw: Any) -> Any:
    return c.chat.completions.create(
        model=model, messages=[{"role": "user", "content": text}], **kw
    )


def test_the_service_account_s_signed_grant_gets_the_token_vertex_sees(
    gw: aigw.Gateway, fake: tuple[FakeGoogle, RecordingUpstream], client: openai.OpenAI
) -> None:
    google, up = fake
    assert google.claims, "the token endpoint accepted no grant"
    r = chat(client, "gem")
    assert r.choices[0].message.content == "Hello from Gemini"
    req = up.requests[-1]
    assert req.path == f"{BASE}/google/models/{GEMINI}:generateContent"
    assert req.header("authorization") == f"Bearer {google.issued[-1]}"
    assert req.json()["contents"][0]["parts"][0]["text"] == "Say hello"
    assert r.usage is not None and r.usage.prompt_tokens == 11


def test_gemini_streams_through_stream_generate_content(
    client: openai.OpenAI, fake: tuple[FakeGoogle, RecordingUpstream]
) -> None:
    chunks = list(chat(client, "gem", stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from Gemini"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 15
    req = fake[1].requests[-1]
    assert req.target == f"{BASE}/google/models/{GEMINI}:streamGenerateContent?alt=sse"


def test_claude_goes_to_raw_predict_with_the_vertex_messages_body(
    client: openai.OpenAI, fake: tuple[FakeGoogle, RecordingUpstream]
) -> None:
    r = chat(client, "claude", max_tokens=64)
    assert r.choices[0].message.content == "Hello from Anthropic"
    assert r.choices[0].finish_reason == "stop"
    req = fake[1].requests[-1]
    assert req.path == f"{BASE}/anthropic/models/{CLAUDE}:rawPredict"
    body = req.json()
    assert "model" not in body and body["anthropic_version"] == "vertex-2023-10-16"
    assert body["max_tokens"] == 64
    assert req.header("authorization") == f"Bearer {fake[0].issued[-1]}"


def test_claude_streams_through_stream_raw_predict(
    client: openai.OpenAI, fake: tuple[FakeGoogle, RecordingUpstream]
) -> None:
    chunks = list(chat(client, "claude", stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from Anthropic"
    assert fake[1].requests[-1].path == f"{BASE}/anthropic/models/{CLAUDE}:streamRawPredict"


def test_the_anthropic_sdk_reaches_claude_on_vertex(
    gw: aigw.Gateway, fake: tuple[FakeGoogle, RecordingUpstream]
) -> None:
    with anthropic.Anthropic(base_url=gw.url, api_key="client-key", max_retries=0) as c:
        m = c.messages.create(
            model="claude", max_tokens=32, messages=[{"role": "user", "content": "Say hello"}]
        )
        assert m.content[0].type == "text" and m.content[0].text == "Hello from Anthropic"
        with c.messages.stream(
            model="claude", max_tokens=32, messages=[{"role": "user", "content": "Say hello"}]
        ) as s:
            assert s.get_final_text() == "Hello from Anthropic"
    req = fake[1].requests[-1]
    assert req.path == f"{BASE}/anthropic/models/{CLAUDE}:streamRawPredict"
    assert req.json()["max_tokens"] == 32


def test_the_token_is_masked_in_answers_and_absent_from_stats(
    gw: aigw.Gateway, client: openai.OpenAI, fake: tuple[FakeGoogle, RecordingUpstream]
) -> None:
    with pytest.raises(openai.AuthenticationError) as e:
        chat(client, "gem", "ECHO")
    token = fake[0].issued[-1]
    assert token not in str(e.value.response.text) and "[REDACTED]" in e.value.response.text
    stats = json.dumps(gw.stats())
    assert token not in stats and "BEGIN PRIVATE KEY" not in stats


def test_tokens_are_renewed_before_they_expire(key: tuple[str, Path], tmp_path: Path) -> None:
    google, cm = start_fake(key, lifetime=2)
    with cm as up:
        google.origin = up.origin
        sa = tmp_path / "sa.json"
        sa.write_text(json.dumps(service_account(google.token_uri, key[0])))
        with (
            aigw.Gateway(vertex_config(up, {"service_account": str(sa)})) as g,
            openai.OpenAI(base_url=g.url + "/v1", api_key="k", max_retries=0) as c,
        ):
            assert g._refreshers[0].wait_until(lambda r: r.pushes >= 2, timeout=10)
            assert len(google.issued) >= 2
            assert chat(c, "gem").choices[0].message.content == "Hello from Gemini"
            assert up.requests[-1].header("authorization") == f"Bearer {google.issued[-1]}"


def test_a_token_hook_and_a_service_account_in_an_environment_variable(
    fake: tuple[FakeGoogle, RecordingUpstream],
    key: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    google, up = fake
    google.issued.append("ya29.from-a-hook-0123456789")

    def hook() -> AccessToken:
        return AccessToken("ya29.from-a-hook-0123456789", expires_at=None)

    with (
        aigw.Gateway(vertex_config(up, {"token_hook": hook})) as g,
        openai.OpenAI(base_url=g.url + "/v1", api_key="k", max_retries=0) as c,
    ):
        assert chat(c, "gem").choices[0].message.content == "Hello from Gemini"
        assert up.requests[-1].header("authorization") == "Bearer ya29.from-a-hook-0123456789"
    monkeypatch.setenv("TEST_VERTEX_SA", json.dumps(service_account(google.token_uri, key[0])))
    with (
        aigw.Gateway(vertex_config(up, {"service_account_env": "TEST_VERTEX_SA"})) as g,
        openai.OpenAI(base_url=g.url + "/v1", api_key="k", max_retries=0) as c,
    ):
        assert chat(c, "claude").choices[0].message.content == "Hello from Anthropic"
        assert up.requests[-1].header("authorization") == f"Bearer {google.issued[-1]}"


def test_a_refused_grant_fails_start_clearly_without_the_key(
    fake: tuple[FakeGoogle, RecordingUpstream], tmp_path: Path
) -> None:
    other, _ = make_key(tmp_path)  # a key the token endpoint does not know
    sa = tmp_path / "sa.json"
    sa.write_text(json.dumps(service_account(fake[0].token_uri, other)))
    gw = aigw.Gateway(vertex_config(fake[1], {"service_account": str(sa)}))
    with pytest.raises(RuntimeError) as e:
        gw.start()
    assert "'vx': the credentials hook failed" in str(e.value)
    assert "answered 400" in str(e.value) and "signature does not verify" in str(e.value)
    assert "PRIVATE KEY" not in str(e.value)


def test_config_defaults_and_errors(sa_file: Path) -> None:
    def core(provider: dict[str, Any]) -> dict[str, Any]:
        cfg = aigw.load_config(
            {"providers": {"vx": provider}, "routes": [{"name": "x", "provider": "vx"}]}
        )
        return cfg.to_core_dict()["providers"][0]

    base = {"kind": "vertex", "project": PROJECT, "service_account": str(sa_file)}
    c = core({**base, "region": "europe-west4"})
    assert c["base_url"] == "https://europe-west4-aiplatform.googleapis.com"
    assert c["anthropic_models"] == ["claude-*"]
    assert "BEGIN" not in json.dumps(c) and str(sa_file) not in json.dumps(c)
    assert core({**base, "region": "global"})["base_url"] == "https://aiplatform.googleapis.com"
    for bad, message in [
        ({**base, "region": "us-east5", "token_hook": "m:f"}, "exactly one of"),
        ({"kind": "vertex", "project": PROJECT, "region": "us-east5"}, "exactly one of"),
        ({**base, "region": "us-east5", "api_key": "x"}, "OAuth2"),
        ({**base, "region": "us east"}, "region"),
        ({**base, "region": "us-east5", "service_account": "/nope.json"}, "file not found"),
    ]:
        with pytest.raises(aigw.ConfigError, match=message):
            core(bad)
