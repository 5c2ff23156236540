"""Credentials hooks loaded by import path from test configs (`credentials_hook: ...`)."""

from __future__ import annotations

from fake_bedrock import KEY_ID, SECRET, TOKEN

from aigw.credentials import AwsCredentials


def fake_bedrock_keys() -> AwsCredentials:
    """The keys tests/python/providers/fake_bedrock.py accepts, without an expiry."""
    return AwsCredentials(KEY_ID, SECRET, TOKEN)
