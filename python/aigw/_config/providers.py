"""The ``providers:`` section of the config: the built-in mock, OpenAI-compatible upstreams,
Anthropic, Azure OpenAI, Gemini, Bedrock and Vertex AI, one model per ``kind``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import Field, SecretStr, field_validator, model_validator

from aigw._config.types import (
    HEADER_NAME_RE,
    Float,
    ImportPath,
    Int,
    NonEmptyStr,
    NonNegInt,
    PosSeconds,
    StrictModel,
    or_minus_one,
    to_ms,
)


class MockProviderConfig(StrictModel):
    """The built-in mock provider (answers like OpenAI, with fault-injection knobs)."""

    kind: Literal["mock"]
    latency_ms: NonNegInt = 0
    ttft_ms: NonNegInt = 0
    chunk_delay_ms: NonNegInt = 0
    chunks: Annotated[Int, Field(ge=1, le=100000)] = 8
    status: Annotated[Int, Field(ge=100, le=599)] = 200
    error_rate: Annotated[Float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.0
    retry_after: NonNegInt | None = None
    stall_after: NonNegInt | None = None
    reset_after: NonNegInt | None = None
    response: str | None = None
    # The "code" of error answers (e.g. context_length_exceeded); None: derived from the status.
    error_code: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    embedding_dimensions: Annotated[Int, Field(ge=1, le=65536)] = 8
    header_knobs: bool = True

    def to_core_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "chunk_delay_ms": self.chunk_delay_ms,
            "chunks": self.chunks,
            "status": self.status,
            "error_rate": float(self.error_rate),
            "retry_after": or_minus_one(self.retry_after),
            "stall_after": or_minus_one(self.stall_after),
            "reset_after": or_minus_one(self.reset_after),
            "response": self.response,
            "error_code": self.error_code,
            "embedding_dimensions": self.embedding_dimensions,
            "header_knobs": self.header_knobs,
        }


# Headers the gateway owns on the upstream request: config may not set them.
RESERVED_UPSTREAM_HEADERS = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "expect",
}


class HttpProviderConfig(StrictModel):
    """What every provider that calls an HTTP upstream has: where, how, and its credentials."""

    kind: str  # each kind narrows it to its Literal
    base_url: NonEmptyStr
    api_key: SecretStr | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    verify: bool = True
    ca_file: str | None = None
    connect_timeout: PosSeconds = 10.0
    first_byte_timeout: PosSeconds = 300.0
    idle_timeout: PosSeconds = 120.0
    keepalive_timeout: PosSeconds = 60.0
    max_connections: Annotated[Int, Field(ge=1, le=100000)] = 256
    max_pending: Annotated[Int, Field(ge=0, le=1000000)] = 1024

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None:  # a kind whose default depends on other keys (bedrock's region)
            return value
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError as err:
            raise ValueError(f"not a valid URL ({err})") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError("must start with http:// or https://")
        if not parts.hostname:
            raise ValueError("has no host")
        if parts.username or parts.password:
            raise ValueError("must not contain credentials (use api_key)")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        if port == 0:
            raise ValueError("has an invalid port")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, v in value.items():
            if not HEADER_NAME_RE.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in RESERVED_UPSTREAM_HEADERS:
                raise ValueError(f"{name!r} is set by the gateway and cannot be configured")
            if any(c in v for c in "\r\n\0"):
                raise ValueError(f"the value of {name!r} contains a line break or NUL")
        return value

    @field_validator("ca_file")
    @classmethod
    def _check_ca_file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"file not found: {value}")
        return value

    def resolved_base_url(self) -> str:
        assert self.base_url is not None
        return self.base_url

    def to_core_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "base_url": self.resolved_base_url(),
            "api_key": self.api_key.get_secret_value() if self.api_key else "",
            "headers": dict(self.headers),
            "verify": self.verify,
            "ca_file": self.ca_file,
            "connect_timeout_ms": to_ms(self.connect_timeout, positive=True),
            "first_byte_timeout_ms": to_ms(self.first_byte_timeout, positive=True),
            "idle_timeout_ms": to_ms(self.idle_timeout, positive=True),
            "keepalive_idle_ms": to_ms(self.keepalive_timeout, positive=True),
            "max_connections": self.max_connections,
            "max_pending": self.max_pending,
        }


class OpenAIProviderConfig(HttpProviderConfig):
    """Any OpenAI-compatible upstream: OpenAI, vLLM, Ollama, Groq, Mistral, DeepSeek ..."""

    kind: Literal["openai"]


class AnthropicProviderConfig(HttpProviderConfig):
    """The Anthropic Messages API (x-api-key, anthropic-version)."""

    kind: Literal["anthropic"]
    base_url: NonEmptyStr = "https://api.anthropic.com"
    anthropic_version: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    ] = "2023-06-01"
    # Anthropic requires max_tokens; an OpenAI request that sets none gets this many.
    default_max_tokens: Annotated[Int, Field(ge=1, le=10_000_000)] = 4096

    def to_core_dict(self) -> dict[str, Any]:
        return {
            **super().to_core_dict(),
            "anthropic_version": self.anthropic_version,
            "default_max_tokens": self.default_max_tokens,
        }


class AzureProviderConfig(HttpProviderConfig):
    """Azure OpenAI: ``{base_url}/openai/deployments/{model}/...?api-version=``; the route's
    model is the deployment name. The key goes in ``api-key`` (``auth: bearer``: an Entra ID
    token in ``Authorization``)."""

    kind: Literal["azure"]
    api_version: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    ] = "2024-10-21"
    auth: Literal["api-key", "bearer"] = "api-key"

    def to_core_dict(self) -> dict[str, Any]:
        return {**super().to_core_dict(), "api_version": self.api_version, "auth": self.auth}


class GeminiProviderConfig(HttpProviderConfig):
    """Google AI Studio's Gemini API: generateContent, streamGenerateContent and
    batchEmbedContents under ``{base_url}/models/{model}:...``, the key in ``x-goog-api-key``."""

    kind: Literal["gemini"]
    base_url: NonEmptyStr = "https://generativelanguage.googleapis.com/v1beta"


class BedrockProviderConfig(HttpProviderConfig):
    """Amazon Bedrock's Converse / ConverseStream APIs, signed with AWS Signature Version 4.
    Credentials: the keys here, else the environment's ``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` when the config is loaded, or, with
    ``credentials_hook``, whatever the hook returns, renewed before it expires
    (``aigw.credentials``; ``"aigw.credentials:botocore_credentials"`` is botocore's chain)."""

    kind: Literal["bedrock"]
    region: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
    # None: https://bedrock-runtime.{region}.amazonaws.com (resolved_base_url)
    base_url: NonEmptyStr | None = None  # type: ignore[assignment]
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None
    # A function returning aigw.credentials.AwsCredentials, or its "module:function" path.
    credentials_hook: ImportPath | Callable[[], Any] | None = None

    @model_validator(mode="after")
    def _hook_or_keys(self) -> BedrockProviderConfig:
        if self.credentials_hook is not None and (
            self.aws_access_key_id or self.aws_secret_access_key or self.aws_session_token
        ):
            raise ValueError("set either credentials_hook or the aws_* keys, not both")
        return self

    @field_validator("api_key")
    @classmethod
    def _no_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raise ValueError(
                "bedrock signs with AWS credentials:"
                " set aws_access_key_id and aws_secret_access_key"
            )
        return value

    def resolved_base_url(self) -> str:
        return self.base_url or f"https://bedrock-runtime.{self.region}.amazonaws.com"

    def credentials(self) -> tuple[str, str, str]:
        """(access key id, secret, session token): the config's, else the environment's."""
        import os

        def pick(value: SecretStr | None, env: str) -> str:
            return value.get_secret_value() if value is not None else os.environ.get(env, "")

        return (
            pick(self.aws_access_key_id, "AWS_ACCESS_KEY_ID"),
            pick(self.aws_secret_access_key, "AWS_SECRET_ACCESS_KEY"),
            pick(self.aws_session_token, "AWS_SESSION_TOKEN"),
        )

    def to_core_dict(self) -> dict[str, Any]:
        hooked = self.credentials_hook is not None
        # Hooked: the Gateway pushes the hook's credentials before it serves.
        key_id, secret, token = ("", "", "") if hooked else self.credentials()
        return {
            **super().to_core_dict(),
            "region": self.region,
            "aws_access_key_id": key_id,
            "aws_secret_access_key": secret,
            "aws_session_token": token,
            "credentials_hook": hooked,
        }


class VertexProviderConfig(HttpProviderConfig):
    """Google Cloud's Vertex AI: Gemini models (publisher google) and Claude models (publisher
    anthropic: the models ``anthropic_models`` matches) under
    ``{base_url}/v1/projects/{project}/locations/{region}/publishers/...``, with an OAuth2 token
    (``Authorization: Bearer``) from a service account's JSON key (``service_account``: its
    file; ``service_account_env``: the variable holding it) or from ``token_hook``, renewed
    before it expires."""

    kind: Literal["vertex"]
    project: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-z0-9.:-]+$")]
    region: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
    # None: https://{region}-aiplatform.googleapis.com (global: without the region)
    base_url: NonEmptyStr | None = None  # type: ignore[assignment]
    anthropic_models: list[NonEmptyStr] = Field(default_factory=lambda: ["claude-*"])
    anthropic_version: Annotated[
        str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    ] = "vertex-2023-10-16"
    default_max_tokens: Annotated[Int, Field(ge=1, le=10_000_000)] = 4096
    service_account: str | None = None
    service_account_env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    # A function returning aigw.credentials.AccessToken (or a str), or its "module:function".
    token_hook: ImportPath | Callable[[], Any] | None = None

    @field_validator("api_key")
    @classmethod
    def _no_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raise ValueError(
                "vertex authenticates with OAuth2 tokens: set service_account,"
                " service_account_env or token_hook"
            )
        return value

    @field_validator("service_account")
    @classmethod
    def _check_service_account(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"file not found: {value}")
        return value

    @model_validator(mode="after")
    def _one_token_source(self) -> VertexProviderConfig:
        sources = [self.service_account, self.service_account_env, self.token_hook]
        if sum(s is not None for s in sources) != 1:
            raise ValueError(
                "set exactly one of service_account, service_account_env and token_hook"
            )
        return self

    def resolved_base_url(self) -> str:
        if self.base_url:
            return self.base_url
        if self.region == "global":
            return "https://aiplatform.googleapis.com"
        return f"https://{self.region}-aiplatform.googleapis.com"

    def to_core_dict(self) -> dict[str, Any]:
        # No credentials: the Gateway pushes tokens before it serves.
        return {
            **super().to_core_dict(),
            "project": self.project,
            "region": self.region,
            "anthropic_models": list(self.anthropic_models),
            "anthropic_version": self.anthropic_version,
            "default_max_tokens": self.default_max_tokens,
        }


# Every provider model, by its `kind`. A new provider kind is one more class here
# (with `kind: Literal["..."]` and `to_core_dict`) and one more member of the union.
PROVIDER_KINDS: dict[str, type[StrictModel]] = {
    "mock": MockProviderConfig,
    "openai": OpenAIProviderConfig,
    "anthropic": AnthropicProviderConfig,
    "azure": AzureProviderConfig,
    "gemini": GeminiProviderConfig,
    "bedrock": BedrockProviderConfig,
    "vertex": VertexProviderConfig,
}

ProviderConfig = Annotated[
    Union[  # noqa: UP007
        MockProviderConfig,
        OpenAIProviderConfig,
        AnthropicProviderConfig,
        AzureProviderConfig,
        GeminiProviderConfig,
        BedrockProviderConfig,
        VertexProviderConfig,
    ],
    Field(discriminator="kind"),
]
