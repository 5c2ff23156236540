"""Credentials hooks at run time: one daemon thread per hooked provider calls the hook, pushes
what it returns into the data plane (``Server.set_provider_credentials``) and calls it again
before that expires. Started and stopped by ``Gateway.start`` / ``stop``.

Why the first value is fetched before the gateway serves, and a failure then fails start():
a provider without credentials would fail every request routed to it, and the usual causes
(a wrong import path, missing permissions, an unreachable token endpoint) are configuration
errors best reported where the other configuration errors are. Later failures are transient
until proven otherwise: the old credentials keep working until they expire, and the hook is
retried with backoff."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from aigw.credentials import AccessToken, AwsCredentials, unix_seconds

log = logging.getLogger("aigw.credentials")

# Ask again this long before the credentials expire (or halfway through a shorter lifetime).
REFRESH_MARGIN_S = 300.0
# After a failed call: wait this long, doubling up to the cap.
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0
# The shortest wait between two calls (credentials that are expired already, clock skew).
MIN_WAIT_S = 1.0

Push = Callable[[str, str], None]  # (provider, credentials JSON)


def aws_payload(value: Any) -> dict[str, Any]:
    """What a bedrock credentials hook returned, as the core takes it."""
    if isinstance(value, Mapping):
        value = AwsCredentials(**value)
    elif not isinstance(value, AwsCredentials) and hasattr(value, "secret_key"):
        # botocore's ReadOnlyCredentials / Credentials
        value = AwsCredentials(value.access_key, value.secret_key, getattr(value, "token", None))
    if not isinstance(value, AwsCredentials):
        raise TypeError(
            f"the hook returned {type(value).__name__}, not aigw.credentials.AwsCredentials"
        )
    if not value.access_key_id or not value.secret_access_key:
        raise ValueError("the hook returned credentials without an access key id or secret")
    return {
        "access_key_id": value.access_key_id,
        "secret_access_key": value.secret_access_key,
        "session_token": value.session_token or None,
        "expires_at": unix_seconds(value.expires_at),
    }


def token_payload(value: Any) -> dict[str, Any]:
    """What a vertex token hook returned, as the core takes it."""
    if isinstance(value, str):
        value = AccessToken(value)
    elif isinstance(value, Mapping):
        value = AccessToken(**value)
    elif not isinstance(value, AccessToken) and isinstance(getattr(value, "token", None), str):
        value = AccessToken(value.token, getattr(value, "expiry", None))  # google-auth's
    if not isinstance(value, AccessToken):
        raise TypeError(
            f"the hook returned {type(value).__name__}, not aigw.credentials.AccessToken"
        )
    if not value.token:
        raise ValueError("the hook returned an empty token")
    return {"token": value.token, "expires_at": unix_seconds(value.expires_at)}


class CredentialRefresher:
    """One provider's hook: ``fetch()`` once before the gateway serves, then ``start(push)``."""

    def __init__(
        self, provider: str, hook: Callable[[], Any], payload: Callable[[Any], dict[str, Any]]
    ) -> None:
        self.provider = provider
        self._hook = hook
        self._payload = payload
        self._current: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0  # calls that failed since the last success
        self.pushes = 0  # credentials pushed into the data plane
        self._changed = threading.Condition()

    def _call(self) -> dict[str, Any]:
        payload = self._payload(self._hook())
        expires = payload.get("expires_at")
        if expires is not None and (not isinstance(expires, (int, float)) or expires <= 0):
            raise ValueError(f"the hook returned an expiry that is no time: {expires!r}")
        return payload

    def fetch(self) -> None:
        """The first credentials; raises RuntimeError (without the credentials) on failure."""
        try:
            self._current = self._call()
        except Exception as exc:
            raise RuntimeError(
                f"provider {self.provider!r}: the credentials hook failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def start(self, push: Push) -> None:
        """Pushes the fetched credentials, then refreshes them on a daemon thread."""
        assert self._current is not None, "fetch() first"
        push(self.provider, json.dumps(self._current))
        self._counted(pushed=True)
        self._stop = threading.Event()  # a Gateway may start again after stop()
        self._thread = threading.Thread(
            target=self._run, args=(push,), name=f"aigw-credentials-{self.provider}", daemon=True
        )
        self._thread.start()

    def _counted(self, *, pushed: bool) -> None:
        with self._changed:
            if pushed:
                self.pushes += 1
                self.failures = 0
            else:
                self.failures += 1
            self._changed.notify_all()

    def wait_until(self, done: Callable[[CredentialRefresher], bool], timeout: float) -> bool:
        """Waits until ``done(self)`` holds after a push or a failure (for tests and tools)."""
        with self._changed:
            return self._changed.wait_for(lambda: done(self), timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _next_wait(self) -> float | None:
        """Seconds until the next call; None: the credentials never expire."""
        assert self._current is not None
        expires = self._current.get("expires_at")
        if expires is None:
            return None
        lifetime = expires - time.time()
        return max(MIN_WAIT_S, lifetime - min(REFRESH_MARGIN_S, lifetime / 2))

    def _run(self, push: Push) -> None:
        wait = self._next_wait()
        retry = RETRY_FIRST_S
        while not self._stop.wait(wait):  # wait None: until stop()
            try:
                payload = self._call()
                push(self.provider, json.dumps(payload))
            except Exception as exc:  # a hook's failure never ends the gateway
                left = self._current.get("expires_at") if self._current else None
                still = (
                    f"the current ones expire in {left - time.time():.0f} s"
                    if left is not None and left > time.time()
                    else "the current ones have expired: requests to it fail"
                )
                # The exception's type and message, never the credentials (the payload is
                # not in scope of the message).
                log.warning(
                    "provider %r: the credentials hook failed (%s: %s); retrying in %.0f s, %s",
                    self.provider,
                    type(exc).__name__,
                    exc,
                    retry,
                    still,
                )
                self._counted(pushed=False)
                wait, retry = retry, min(retry * 2, RETRY_MAX_S)
                continue
            self._current = payload
            self._counted(pushed=True)
            retry = RETRY_FIRST_S
            wait = self._next_wait()


def hooked(obj: Any, *, what: str) -> Callable[[], Any]:
    """A hook as config gives it: a callable, or the ``"module:function"`` path of one."""
    if isinstance(obj, str):
        from aigw._import_path import load_object

        obj = load_object(obj, what=what)
    if not callable(obj):
        raise ValueError(f"{what}: not callable ({type(obj).__name__})")
    hook: Callable[[], Any] = obj
    return hook


def credential_refreshers(providers: Mapping[str, Any]) -> list[CredentialRefresher]:
    """A refresher for each provider of the config whose credentials come from a hook
    (loaded now, so a wrong import path fails when the Gateway is made)."""
    out = []
    for name, p in providers.items():
        if p.kind == "bedrock" and p.credentials_hook is not None:
            hook = hooked(p.credentials_hook, what=f"providers.{name}.credentials_hook")
            out.append(CredentialRefresher(name, hook, aws_payload))
        elif p.kind == "vertex":
            out.append(CredentialRefresher(name, vertex_token_hook(name, p), token_payload))
    return out


def vertex_token_hook(name: str, p: Any) -> Callable[[], Any]:
    """A vertex provider's token source: its token_hook, else its service account's grant."""
    import os

    from aigw.credentials import ServiceAccount

    if p.token_hook is not None:
        return hooked(p.token_hook, what=f"providers.{name}.token_hook")
    where = f"providers.{name}.service_account"
    try:
        if p.service_account is not None:
            return ServiceAccount.from_file(p.service_account)
        text = os.environ.get(p.service_account_env)
        if text is None:
            raise ValueError(f"the environment variable {p.service_account_env} is not set")
        where += "_env"
        return ServiceAccount.from_json(text, where=f"${p.service_account_env}")
    except (OSError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None
