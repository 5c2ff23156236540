"""Bedrock credentials from a hook (aigw.credentials, aigw._credential_refresh): the official
``openai`` SDK through aigw to the fake Bedrock runtime (fake_bedrock.py), which checks each
SigV4 signature with botocore against the keys it accepts at that moment. The hook's answers
are pushed into the data plane before the gateway serves and renewed before they expire; a
failing hook is logged and the old keys work until they expire."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from _util import mock_route
from fake_bedrock import KEY_ID, REGION, SECRET, TOKEN, make_handler
from upstreams import RecordingUpstream, recording_upstream

import aigw
import aigw.credentials
from aigw.credentials import AwsCredentials

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
OLD = ("AKIDOLD0000000000001", "old-secret-0123456789", "old-session-token-0123456789")
NEW = ("AKIDNEW0000000000002", "new-secret-0123456789", "new-session-token-0123456789")


class Keys:
    """The keys the fake accepts and the ones the hook hands out, changed by the test."""

    def __init__(self) -> None:
        self.accepted = OLD
        self.issued = OLD
        self.lifetime = 2.0
        self.fail = False
        self.calls: list[float] = []
        self.expiries: list[float] = []

    def hook(self) -> AwsCredentials:
        self.calls.append(time.time())
        if self.fail:
            raise RuntimeError("the STS endpoint is unreachable")
        expires = time.time() + self.lifetime
        self.expiries.append(expires)
        return AwsCredentials(*self.issued, expires_at=expires)


@pytest.fixture()
def keys() -> Keys:
    return Keys()


@pytest.fixture()
def bedrock_up(keys: Keys) -> Iterator[RecordingUpstream]:
    with recording_upstream(make_handler(keys=lambda: keys.accepted)) as up:
        yield up


def config(up: RecordingUpstream, hook: Any) -> dict[str, Any]:
    return {
        "server": {"workers": 1},
        "providers": {
            "aws": {
                "kind": "bedrock",
                "region": REGION,
                "base_url": up.origin,
                "credentials_hook": hook,
            },
        },
        "routes": [{**mock_route("br", "aws"), "model": MODEL}],
    }


def chat(gw: aigw.Gateway) -> str:
    with openai.OpenAI(base_url=gw.url + "/v1", api_key="k", max_retries=0) as c:
        r = c.chat.completions.create(model="br", messages=[{"role": "user", "content": "hi"}])
    return r.choices[0].message.content or ""


def test_rotated_keys_are_used_after_the_hook_renews_them_before_expiry(
    keys: Keys, bedrock_up: RecordingUpstream
) -> None:
    with aigw.Gateway(config(bedrock_up, keys.hook)) as gw:
        refresher = gw._refreshers[0]
        assert "Hello from Bedrock" in chat(gw)
        assert bedrock_up.requests[-1].header("x-amz-security-token") == OLD[2]
        keys.issued = NEW
        # The hook is asked again halfway through the 2 s lifetime, before the old keys expire.
        assert refresher.wait_until(lambda r: r.pushes >= 2, timeout=10)
        assert keys.calls[1] < keys.expiries[0]
        keys.accepted = NEW  # from now on the fake refuses the old keys
        assert "Hello from Bedrock" in chat(gw)
        assert bedrock_up.requests[-1].header("x-amz-security-token") == NEW[2]


def test_a_failing_hook_is_logged_and_the_old_keys_work_until_they_expire(
    keys: Keys, bedrock_up: RecordingUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    keys.lifetime = 2.5
    caplog.set_level(logging.WARNING, logger="aigw.credentials")
    with aigw.Gateway(config(bedrock_up, keys.hook)) as gw:
        refresher = gw._refreshers[0]
        keys.fail = True
        assert refresher.wait_until(lambda r: r.failures >= 1, timeout=10)
        assert time.time() < keys.expiries[0]
        assert "Hello from Bedrock" in chat(gw)  # still the old keys
        [record] = [r for r in caplog.records if r.name == "aigw.credentials"][:1]
        message = record.getMessage()
        assert "'aws'" in message and "the STS endpoint is unreachable" in message
        assert OLD[1] not in caplog.text and OLD[2] not in caplog.text
        # Once they expire, requests fail clearly (and retriably: a fallback would be tried).
        threading.Event().wait(max(0.0, keys.expiries[0] - time.time()) + 0.05)
        with pytest.raises(openai.APIStatusError) as e:
            chat(gw)
        assert e.value.status_code == 502
        assert "expired and the credentials hook has not renewed them" in str(e.value)
        assert OLD[1] not in str(e.value)


def test_the_first_credentials_come_before_serving_and_a_failing_first_call_fails_start(
    bedrock_up: RecordingUpstream,
) -> None:
    def broken() -> AwsCredentials:
        raise PermissionError("no role to assume")

    gw = aigw.Gateway(config(bedrock_up, broken))
    with pytest.raises(RuntimeError, match="'aws': the credentials hook failed: PermissionError"):
        gw.start()
    assert not gw.running


def test_an_import_path_hook_and_credentials_without_expiry(bedrock_up: RecordingUpstream) -> None:
    # fake_bedrock's own keys (KEY_ID, SECRET, TOKEN) from tests/python/credentials_hooks.py.
    up_keys = (KEY_ID, SECRET, TOKEN)
    with recording_upstream(make_handler(keys=lambda: up_keys)) as up:
        with aigw.Gateway(config(up, "credentials_hooks:fake_bedrock_keys")) as gw:
            assert "Hello from Bedrock" in chat(gw)
            # No expiry: the hook is not asked again; the thread waits for stop().
            assert gw._refreshers[0].pushes == 1
    with pytest.raises(ValueError, match="credentials_hook.*cannot load it"):
        aigw.Gateway(config(bedrock_up, "credentials_hooks:nothing_here"))


def test_hook_and_keys_together_are_a_config_error(bedrock_up: RecordingUpstream) -> None:
    cfg = config(bedrock_up, "credentials_hooks:fake_bedrock_keys")
    cfg["providers"]["aws"]["aws_access_key_id"] = KEY_ID
    with pytest.raises(aigw.ConfigError, match="either credentials_hook or the aws_"):
        aigw.load_config(cfg)


def test_the_push_binding_names_unknown_providers_and_kinds_without_credentials(
    keys: Keys, bedrock_up: RecordingUpstream
) -> None:
    cfg = config(bedrock_up, keys.hook)
    cfg["providers"]["m"] = {"kind": "mock"}
    with aigw.Gateway(cfg) as gw:
        server = gw._server
        assert server is not None
        with pytest.raises(ValueError, match="no provider named 'nope'"):
            server.set_provider_credentials("nope", "{}")
        with pytest.raises(ValueError, match=r"provider 'm' \(kind mock\) takes no credentials"):
            server.set_provider_credentials("m", "{}")
        secret = "do-not-echo-this-secret"
        with pytest.raises(ValueError) as e:
            server.set_provider_credentials("aws", '{"access_key_id": 1, "x": "' + secret)
        assert secret not in str(e.value)
        with pytest.raises(ValueError, match="takes {access_key_id, secret_access_key"):
            server.set_provider_credentials("aws", json.dumps({"secret_access_key": secret}))
        assert "Hello from Bedrock" in chat(gw)  # refused pushes change nothing


def test_botocore_credentials_reads_botocore_s_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-session-token")
    monkeypatch.setattr(aigw.credentials, "_botocore_session", None)
    found = aigw.credentials.botocore_credentials()
    assert (found.access_key_id, found.secret_access_key, found.session_token) == (
        "AKIDFROMENV",
        "env-secret-value",
        "env-session-token",
    )
    assert found.expires_at is None  # environment keys do not expire
    assert "env-secret-value" not in repr(found)
