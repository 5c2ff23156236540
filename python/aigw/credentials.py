"""Credentials that expire, for providers that cannot live on a fixed key: what a credentials
hook returns, and ready-made hooks.

A hook is a function without arguments (or its ``"module:function"`` import path in YAML). The
gateway calls it before it serves, pushes the result into the data plane, and calls it again
before the result expires (5 minutes before, or halfway through a shorter lifetime), on a
thread of its own; a failing call is logged on ``aigw.credentials`` (never with the
credentials) and retried with backoff while the old credentials still work
(docs/providers.md, "Credentials that expire").

- ``kind: bedrock``, ``credentials_hook``: returns :class:`AwsCredentials` (or a mapping with
  its fields). :func:`botocore_credentials` is botocore's own chain: environment, profiles,
  SSO, web identity, container and instance roles.
- ``kind: vertex``, ``token_hook``: returns an :class:`AccessToken` (or the token as a str).
  :class:`ServiceAccount` makes them from a service account's JSON key (OAuth2 JWT bearer
  grant, RS256-signed by the gateway's C++ core).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

__all__ = [
    "AccessToken",
    "AwsCredentials",
    "ServiceAccount",
    "botocore_credentials",
]


def unix_seconds(expiry: float | datetime | None) -> float | None:
    """An expiry as unix seconds (a naive datetime is UTC, as botocore and google-auth use)."""
    if expiry is None or isinstance(expiry, (int, float)):
        return expiry
    if expiry.tzinfo is None:
        return (expiry - datetime(1970, 1, 1)).total_seconds()
    return expiry.timestamp()


@dataclass(frozen=True, repr=False)
class AwsCredentials:
    """AWS credentials for SigV4: the key pair, a session token for temporary ones, and when
    they expire (unix seconds or a datetime; None: they do not)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expires_at: float | datetime | None = None

    def __repr__(self) -> str:  # never the secrets
        shown = self.access_key_id[:4]
        return f"AwsCredentials(access_key_id={shown}..., expires_at={self.expires_at})"


@dataclass(frozen=True, repr=False)
class AccessToken:
    """An OAuth2 access token (sent as ``Authorization: Bearer``) and when it expires."""

    token: str
    expires_at: float | datetime | None = None

    def __repr__(self) -> str:
        return f"AccessToken(expires_at={self.expires_at})"


_botocore_session: Any = None
_botocore_lock = threading.Lock()


def botocore_credentials() -> AwsCredentials:
    """A ``credentials_hook`` for ``kind: bedrock``: the credentials botocore's default chain
    finds. One botocore session is kept, so refreshable credentials (roles, SSO) renew
    themselves the way boto3 renews them. Needs ``botocore`` installed."""
    global _botocore_session
    try:
        import botocore.session
    except ImportError as err:
        raise RuntimeError("botocore_credentials needs botocore: pip install botocore") from err
    with _botocore_lock:
        if _botocore_session is None:
            _botocore_session = botocore.session.get_session()
        found = _botocore_session.get_credentials()
    if found is None:
        raise RuntimeError(
            "botocore found no AWS credentials (environment, shared files, SSO, roles)"
        )
    frozen = found.get_frozen_credentials()  # refreshes first when they are about to expire
    # RefreshableCredentials know their expiry; static ones have none.
    expiry = getattr(found, "_expiry_time", None)
    return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token, expiry)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _check_token_uri(uri: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValueError(f"token_uri must be an https URL (http only on loopback), not {uri!r}")
    return uri


class ServiceAccount:
    """A ``token_hook`` made of a Google service account's JSON key: each call signs a JWT
    (RS256, the key's ``private_key``) and trades it at ``token_uri`` for an access token
    (the OAuth2 JWT bearer grant, TLS verified). The key is never logged or shown."""

    def __init__(self, info: Mapping[str, Any], *, scope: str = CLOUD_PLATFORM_SCOPE) -> None:
        if not isinstance(info, Mapping) or info.get("type") != "service_account":
            raise ValueError('not a service account key (its "type" is not "service_account")')
        missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
        if missing:
            raise ValueError(f"the service account key has no {', '.join(missing)}")
        self.client_email = str(info["client_email"])
        self.token_uri = _check_token_uri(str(info["token_uri"]))
        self.scope = scope
        self._key_id = info.get("private_key_id")
        self._private_key = str(info["private_key"])

    @classmethod
    def from_file(cls, path: str) -> ServiceAccount:
        with open(path, encoding="utf-8") as f:
            try:
                info = json.load(f)
            except ValueError:
                raise ValueError(f"service account file {path!r} is not JSON") from None
        return cls(info)

    @classmethod
    def from_json(cls, text: str, *, where: str) -> ServiceAccount:
        try:
            info = json.loads(text)
        except ValueError:
            raise ValueError(f"the service account in {where} is not JSON") from None
        return cls(info)

    def __repr__(self) -> str:
        return f"ServiceAccount({self.client_email!r})"

    def assertion(self, now: float) -> str:
        """The signed JWT for the grant (valid for an hour, the longest Google accepts)."""
        from aigw import _core

        header = {"alg": "RS256", "typ": "JWT"}
        if self._key_id:
            header["kid"] = str(self._key_id)
        iat = int(now)
        claims = {
            "iss": self.client_email,
            "scope": self.scope,
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat + 3600,
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = _core.sign_rs256(self._private_key, signing_input.encode("ascii"))
        return signing_input + "." + _b64url(signature)

    def __call__(self) -> AccessToken:
        import ssl
        import urllib.error
        import urllib.parse
        import urllib.request

        now = time.time()
        form = urllib.parse.urlencode(
            {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion(now)}
        ).encode()
        request = urllib.request.Request(
            self.token_uri,
            data=form,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 - the scheme is checked in __init__
                request, timeout=30, context=ssl.create_default_context()
            ) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as err:
            # Google's error answer names the problem (invalid_grant ...); it holds no secret.
            detail = err.read(2048).decode("utf-8", "replace")
            err.close()
            raise RuntimeError(
                f"token endpoint {self.token_uri} answered {err.code}: {detail}"
            ) from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise RuntimeError(f"token endpoint {self.token_uri} answered no access_token")
        lifetime = answer.get("expires_in")
        expires = now + float(lifetime) if isinstance(lifetime, (int, float)) else None
        return AccessToken(token, expires)
