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
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "AccessToken",
    "AwsCredentials",
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
