"""Tests for aigw.config: loading, env substitution, validation, core JSON."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from aigw.config import (
    Config,
    ConfigError,
    MockProviderConfig,
    default_config,
    load_config,
)
from aigw.cost import shipped_prices

# A route's fallbacks when it names none: every error class, null.
NO_FALLBACKS = {
    "context_window_exceeded": None,
    "content_policy_violation": None,
    "unavailable": None,
}

EXPECTED_DEFAULT_CORE: dict[str, Any] = {
    "version": 3,
    "server": {
        "host": "127.0.0.1",
        "port": 0,
        "workers": 0,
        "max_connections": 10000,
        "max_header_bytes": 32768,
        "max_url_bytes": 8192,
        "max_body_bytes": 16777216,
        "max_upload_bytes": 536870912,
        "header_timeout_ms": 10000,
        "body_timeout_ms": 30000,
        "idle_timeout_ms": 60000,
        "drain_timeout_ms": 10000,
        "log_level": "info",
        "mode": "gateway",
        "dns_ttl_ms": 30000,
        "routing_summary": "header",
        "tls": None,
    },
    "providers": [
        {
            "name": "mock",
            "kind": "mock",
            "latency_ms": 0,
            "ttft_ms": 0,
            "chunk_delay_ms": 0,
            "chunks": 8,
            "status": 200,
            "error_rate": 0.0,
            "retry_after": -1,
            "stall_after": -1,
            "reset_after": -1,
            "response": None,
            "error_code": None,
            "embedding_dimensions": 8,
            "header_knobs": True,
        }
    ],
    "routes": [
        {
            "name": name,
            "aliases": [],
            "plan": {
                "type": "group",
                "strategy": "single",
                "weight": 1,
                "when": None,
                "children": [
                    {
                        "type": "target",
                        "provider": "mock",
                        "model": None,
                        "weight": 1,
                        "when": None,
                        "transforms": [],
                        "connect_timeout_ms": 0,
                        "first_byte_timeout_ms": 0,
                        "idle_timeout_ms": 0,
                        "max_in_flight": 0,
                        "max_pending": 0,
                        "breaker": {
                            "enabled": False,
                            "consecutive_failures": 5,
                            "failure_rate": 0.0,
                            "min_requests": 20,
                            "window_ms": 30000,
                            "ejection_ms": 10000,
                            "max_ejection_ms": 300000,
                        },
                    }
                ],
            },
            "retry": {
                "attempts": 1,
                "on_connect": True,
                "on_timeout": True,
                "on_5xx": True,
                "on_429": True,
                "backoff_base_ms": 100,
                "backoff_max_ms": 5000,
                "budget_ratio": 0.2,
                "budget_min": 3,
                "max_retry_after_ms": 60000,
                "client_retries": False,
            },
            "timeout_ms": 600000,
            "fallbacks": NO_FALLBACKS,
            "guardrails": None,
            "drop_params": [],
        }
        for name in ("mock-gpt", "mock-embedding", "*")
    ],
    "default_provider": "mock",
    "pricing": shipped_prices(),  # no `pricing:` section: the shipped table as it is
    "guardrails": [],
    # The Gateway sets these at start: its cost hook, and the journal it opens.
    "hooks": {"cost": False, "cost_timeout_ms": 0},
    "log": {
        "enabled": False,
        "dir": "",
        "run": "",
        "handoff": "journal",
        "max_pending_bytes": 256 * 1024**2,
        "overflow": "spill",
        "rotate_bytes": 16 * 1024**2,
        "bodies": False,
        "max_body_bytes": 4096,
    },
}


def minimal(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "providers": {"mock": {"kind": "mock"}},
        "routes": [{"name": "m", "provider": "mock"}],
    }
    doc.update(extra)
    return doc


def problems_of(source: Any, **kwargs: Any) -> list[str]:
    kwargs.setdefault("env", {})
    with pytest.raises(ConfigError) as info:
        load_config(source, **kwargs)
    return info.value.problems


def assert_problem(problems: list[str], path: str, *fragments: str) -> None:
    hits = [p for p in problems if p.startswith(path + ": ")]
    assert hits, f"no problem at {path!r} in {problems!r}"
    assert any(all(f in p for f in fragments) for p in hits), (path, fragments, hits)


# --------------------------------------------------------------------------- defaults


def test_default_config_document() -> None:
    no_retry = {"retry": {"attempts": 1}, "circuit_breaker": {"enabled": False}}
    assert default_config() == {
        "server": {},
        "providers": {"mock": {"kind": "mock"}},
        "routes": [
            {"name": "mock-gpt", "provider": "mock", **no_retry},
            {"name": "mock-embedding", "provider": "mock", **no_retry},
            {"name": "*", "provider": "mock", **no_retry},
        ],
    }
    # A fresh copy every time.
    default_config()["server"]["port"] = 1
    assert default_config()["server"] == {}


def test_default_config_loads_and_round_trips() -> None:
    cfg = load_config(env={})
    assert cfg.source == "<default>"
    assert cfg.server.port is None
    assert isinstance(cfg.providers["mock"], MockProviderConfig)
    assert [r.name for r in cfg.routes] == ["mock-gpt", "mock-embedding", "*"]
    assert cfg.models == []
    assert cfg.to_core_dict() == EXPECTED_DEFAULT_CORE
    text = cfg.to_core_json()
    assert json.loads(text) == EXPECTED_DEFAULT_CORE
    assert "source" not in text
    assert "<default>" not in text


def test_config_is_frozen() -> None:
    cfg = load_config(env={})
    with pytest.raises(ValidationError):
        cfg.server = cfg.server  # type: ignore[misc]


def test_dict_source_and_existing_config() -> None:
    cfg = load_config(minimal(), env={})
    assert cfg.source == "<dict>"
    assert load_config(cfg) is cfg


def test_core_json_normalization() -> None:
    doc = {
        "server": {
            "port": 8080,
            "header_timeout": 1.5,
            "body_timeout": 0.0004,  # > 0 never becomes 0 ms
            "idle_timeout": 2,
            "drain_timeout": 0,
            "log_level": "DEBUG",
            "mode": "mock",
        },
        "providers": {
            "b": {"kind": "mock", "retry_after": 3, "stall_after": 0, "response": "hi"},
            "a": {"kind": "mock", "error_rate": 1, "header_knobs": False},
        },
        "routes": [{"name": "x", "provider": "a", "model": "up-x"}],
    }
    core = load_config(doc, env={}).to_core_dict()
    s = core["server"]
    assert s["port"] == 8080
    assert s["header_timeout_ms"] == 1500
    assert s["body_timeout_ms"] == 1
    assert s["idle_timeout_ms"] == 2000
    assert s["drain_timeout_ms"] == 0
    assert s["log_level"] == "debug"
    assert s["mode"] == "mock"
    assert [p["name"] for p in core["providers"]] == ["b", "a"]  # document order
    b, a = core["providers"]
    assert (b["retry_after"], b["stall_after"], b["reset_after"]) == (3, 0, -1)
    assert b["response"] == "hi"
    assert a["error_rate"] == 1.0
    assert isinstance(a["error_rate"], float)
    assert a["header_knobs"] is False
    (route,) = core["routes"]
    (target,) = route["plan"]["children"]
    assert (route["name"], target["provider"], target["model"]) == ("x", "a", "up-x")
    assert list(core) == [
        "version",
        "server",
        "providers",
        "routes",
        "default_provider",
        "pricing",
        "guardrails",
        "hooks",
        "log",
    ]


def test_missing_sections_default() -> None:
    cfg = load_config({"providers": {"p": {"kind": "mock"}}}, env={})
    assert cfg.routes == []
    assert cfg.models == []
    assert cfg.all_routes == []
    assert cfg.to_core_dict()["routes"] == []
    assert cfg.server.host == "127.0.0.1"
    assert cfg.server.workers == 0


def test_the_core_gets_the_default_provider_resolved() -> None:
    # The core has no rule of its own: the given one, else the first openai one, else the first.
    providers = {"m": {"kind": "mock"}, "o": {"kind": "openai", "base_url": "http://x"}}
    assert load_config({"providers": providers}, env={}).to_core_dict()["default_provider"] == "o"
    given = {"providers": providers, "default_provider": "m"}
    assert load_config(given, env={}).to_core_dict()["default_provider"] == "m"
    only_mocks = {"providers": {"m": {"kind": "mock"}, "n": {"kind": "mock"}}}
    assert load_config(only_mocks, env={}).to_core_dict()["default_provider"] == "m"


# --------------------------------------------------------------------------- files

YAML_DOC = """\
server:
  host: 0.0.0.0
  port: 4000
  header_timeout: 2.5
providers:
  mock:
    kind: mock
    latency_ms: 5
    retry_after: null
routes:
  - name: gpt-4o-mini
    provider: mock
  - name: "*"
    provider: mock
    model: other
"""

JSON_DOC = json.dumps(
    {
        "server": {"host": "0.0.0.0", "port": 4000, "header_timeout": 2.5},
        "providers": {"mock": {"kind": "mock", "latency_ms": 5, "retry_after": None}},
        "routes": [
            {"name": "gpt-4o-mini", "provider": "mock"},
            {"name": "*", "provider": "mock", "model": "other"},
        ],
    }
)

TOML_DOC = """\
[server]
host = "0.0.0.0"
port = 4000
header_timeout = 2.5

[providers.mock]
kind = "mock"
latency_ms = 5

[[routes]]
name = "gpt-4o-mini"
provider = "mock"

[[routes]]
name = "*"
provider = "mock"
model = "other"
"""


def test_yaml_json_toml_files_agree(tmp_path: Path) -> None:
    files = {
        "aigw.yaml": YAML_DOC,
        "aigw.yml": YAML_DOC,
        "aigw.json": JSON_DOC,
        "aigw.toml": TOML_DOC,
        "aigw.conf": YAML_DOC,  # unknown suffix: YAML
    }
    configs = []
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        cfg = load_config(path, env={})
        assert cfg.source == str(path)
        configs.append(cfg)
        # str paths work as well as Path objects
        assert load_config(str(path), env={}).to_core_dict() == cfg.to_core_dict()
    first = configs[0]
    assert first.server.port == 4000
    assert first.providers["mock"].latency_ms == 5
    for cfg in configs[1:]:
        assert cfg.model_dump(exclude={"source"}) == first.model_dump(exclude={"source"})
        assert cfg.to_core_json() == first.to_core_json()


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(path) in str(info.value)
    assert any("not found" in p for p in info.value.problems)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("server:\n  port: 1\n providers: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}:3:")
    assert "YAML" in problem
    assert str(path) in str(info.value)


def test_yaml_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("providers:\n  mock: {kind: mock}\n  mock: {kind: mock}\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:3:")
    assert "duplicate key 'mock'" in problem


def test_json_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "providers": {,\n}', encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:2:")
    assert "JSON" in problem


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[server]\nport = = 3\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(str(path))
    assert "TOML" in problem
    assert "line 2" in problem


def test_empty_file_and_non_mapping_document(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert problems_of(empty) == ["providers: at least one provider is required"]
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n", encoding="utf-8")
    (problem,) = problems_of(listy)
    assert "expected a mapping" in problem


def test_bad_source_type() -> None:
    with pytest.raises(TypeError):
        load_config(42)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- env


def test_env_substitution() -> None:
    doc = minimal(
        server={"host": "${HOST}", "port": "${PORT}", "workers": "${WORKERS:-3}"},
    )
    doc["providers"]["mock"].update(
        {
            "response": "a ${X}-${Y:-why} $$HOME costs $$5 ${EMPTY:-} ${UNSET:-} $PLAIN end",
            "latency_ms": "${LAT:-0}",
            "header_knobs": "${KNOBS:-false}",
        }
    )
    env = {"HOST": "0.0.0.0", "PORT": "4000", "X": "ex", "EMPTY": "", "LAT": "", "WORKERS": ""}
    cfg = load_config(doc, env=env)
    assert cfg.server.host == "0.0.0.0"
    assert cfg.server.port == 4000
    assert isinstance(cfg.server.port, int)
    assert cfg.server.workers == 3  # empty value -> default
    mock = cfg.providers["mock"]
    assert mock.response == "a ex-why $HOME costs $5   $PLAIN end"
    assert mock.latency_ms == 0
    assert mock.header_knobs is False


def test_env_set_value_wins_over_default_and_keys_are_not_substituted() -> None:
    doc = {
        "providers": {"mock": {"kind": "mock", "response": "${R:-default}"}},
        "routes": [{"name": "${NAME}", "provider": "mock"}],
    }
    cfg = load_config(doc, env={"R": "set", "NAME": "gpt"})
    assert cfg.providers["mock"].response == "set"
    assert cfg.routes[0].name == "gpt"
    # keys stay literal: "${P}" is not a valid provider name
    problems = problems_of({"providers": {"${P}": {"kind": "mock"}}}, env={"P": "mock"})
    assert_problem(problems, "providers.${P}", "invalid provider name")


def test_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGW_TEST_PORT", "4321")
    cfg = load_config(minimal(server={"port": "${AIGW_TEST_PORT}"}))
    assert cfg.server.port == 4321


def test_every_missing_variable_is_reported() -> None:
    doc = minimal(server={"host": "${HOST}", "port": "${PORT}"})
    doc["providers"]["mock"]["response"] = "${A} and ${B}"
    doc["routes"].append({"name": "${MODEL}", "provider": "mock"})
    problems = problems_of(doc, env={"UNRELATED": "1"})
    assert "server.host: environment variable HOST is not set" in problems
    assert "server.port: environment variable PORT is not set" in problems
    assert "providers.mock.response: environment variable A is not set" in problems
    assert "providers.mock.response: environment variable B is not set" in problems
    assert "routes[1].name: environment variable MODEL is not set" in problems
    # the empty stand-in value does not add a second, confusing problem
    assert len([p for p in problems if p.startswith("server.port:")]) == 1
    assert len(problems) == 5


@pytest.mark.parametrize("bad", ["${", "abc ${X", "${1X}", "${}", "${X-y}", "${X:y}"])
def test_malformed_references(bad: str) -> None:
    problems = problems_of(minimal(server={"host": bad}), env={"X": "1"})
    assert_problem(problems, "server.host", "malformed environment reference")


# --------------------------------------------------------------------------- validation


def test_unknown_keys_with_suggestions() -> None:
    doc = minimal(server={"prot": 1}, sever={}, sources=1)
    doc["providers"]["mock"]["latncy_ms"] = 1
    doc["routes"][0]["providr"] = "mock"
    doc["routes"][0]["zzzzzz"] = 1
    problems = problems_of(doc)
    assert "server.prot: unknown key; did you mean 'port'?" in problems
    assert "sever: unknown key; did you mean 'server'?" in problems
    assert "providers.mock.latncy_ms: unknown key; did you mean 'latency_ms'?" in problems
    assert "routes[0].providr: unknown key; did you mean 'provider'?" in problems
    assert "routes[0].zzzzzz: unknown key" in problems
    assert_problem(problems, "sources", "unknown key")


def test_source_is_not_a_document_key() -> None:
    assert "source: unknown key" in problems_of(minimal(source="x"))


@pytest.mark.parametrize(
    ("server", "path", "fragment"),
    [
        ({"port": "abc"}, "server.port", "valid integer"),
        ({"port": 1.5}, "server.port", "fractional"),
        ({"port": True}, "server.port", "boolean"),
        ({"workers": False}, "server.workers", "boolean"),
        ({"header_timeout": True}, "server.header_timeout", "boolean"),
        ({"port": [1]}, "server.port", "integer"),
        ({"host": 5}, "server.host", "string"),
        ({"host": ""}, "server.host", "at least 1"),
        ({"port": 65536}, "server.port", "less than or equal to 65535"),
        ({"port": -1}, "server.port", "greater than or equal to 0"),
        ({"workers": -1}, "server.workers", "greater than or equal to 0"),
        ({"max_connections": 0}, "server.max_connections", "greater than or equal to 1"),
        ({"max_header_bytes": 1023}, "server.max_header_bytes", "1024"),
        ({"max_header_bytes": 1048577}, "server.max_header_bytes", "1048576"),
        ({"max_url_bytes": 63}, "server.max_url_bytes", "64"),
        ({"max_body_bytes": 0}, "server.max_body_bytes", "greater than or equal to 1"),
        ({"header_timeout": 0}, "server.header_timeout", "greater than 0"),
        ({"body_timeout": -1}, "server.body_timeout", "greater than 0"),
        ({"idle_timeout": "nan"}, "server.idle_timeout", ""),
        ({"idle_timeout": "inf"}, "server.idle_timeout", ""),
        ({"drain_timeout": -0.5}, "server.drain_timeout", "greater than or equal to 0"),
        ({"log_level": "verbose"}, "server.log_level", "'debug', 'info', 'warning' or 'error'"),
        ({"mode": "proxy"}, "server.mode", "'gateway' or 'mock'"),
    ],
)
def test_server_field_validation(server: dict[str, Any], path: str, fragment: str) -> None:
    problems = problems_of(minimal(server=server))
    assert len(problems) == 1, problems
    assert_problem(problems, path, fragment)


def test_port_error_message_format() -> None:
    assert problems_of(minimal(server={"port": 70000})) == [
        "server.port: input should be less than or equal to 65535"
    ]


@pytest.mark.parametrize(
    ("knobs", "path", "fragment"),
    [
        ({"latency_ms": -1}, "providers.mock.latency_ms", "greater than or equal to 0"),
        ({"ttft_ms": 1.5}, "providers.mock.ttft_ms", "fractional"),
        ({"chunk_delay_ms": True}, "providers.mock.chunk_delay_ms", "boolean"),
        ({"chunks": 0}, "providers.mock.chunks", "greater than or equal to 1"),
        ({"chunks": 100001}, "providers.mock.chunks", "100000"),
        ({"status": 99}, "providers.mock.status", "100"),
        ({"status": 600}, "providers.mock.status", "599"),
        ({"error_rate": 1.5}, "providers.mock.error_rate", "less than or equal to 1"),
        ({"error_rate": -0.1}, "providers.mock.error_rate", "greater than or equal to 0"),
        ({"retry_after": -1}, "providers.mock.retry_after", "greater than or equal to 0"),
        ({"stall_after": "x"}, "providers.mock.stall_after", "integer"),
        ({"reset_after": -2}, "providers.mock.reset_after", "greater than or equal to 0"),
        ({"response": 5}, "providers.mock.response", "string"),
        ({"embedding_dimensions": 0}, "providers.mock.embedding_dimensions", "1"),
        ({"embedding_dimensions": 65537}, "providers.mock.embedding_dimensions", "65536"),
        ({"header_knobs": "maybe"}, "providers.mock.header_knobs", "boolean"),
    ],
)
def test_mock_provider_validation(knobs: dict[str, Any], path: str, fragment: str) -> None:
    doc = minimal()
    doc["providers"]["mock"].update(knobs)
    problems = problems_of(doc)
    assert len(problems) == 1, problems
    assert_problem(problems, path, fragment)


def test_mock_provider_optional_knobs_accept_values() -> None:
    doc = minimal()
    doc["providers"]["mock"].update(
        {"retry_after": 0, "stall_after": 2, "reset_after": 0, "status": 429, "error_rate": 0.5}
    )
    core = load_config(doc, env={}).to_core_dict()["providers"][0]
    assert (core["retry_after"], core["stall_after"], core["reset_after"]) == (0, 2, 0)
    assert core["status"] == 429
    assert core["error_rate"] == 0.5


def test_unknown_provider_kind() -> None:
    problems = problems_of(minimal(providers={"mock": {"kind": "bogus"}}))
    known = "mock, openai, anthropic, azure, gemini, bedrock, vertex"
    assert problems == [f"providers.mock.kind: unknown provider kind 'bogus' (known: {known})"]


def test_missing_provider_kind_and_bad_provider_shapes() -> None:
    doc = minimal(providers={"mock": {"latency_ms": 1}, "other": 5, "none": None})
    problems = problems_of(doc)
    assert_problem(problems, "providers.mock.kind", "field required", "mock")
    assert_problem(problems, "providers.other", "expected a mapping")
    assert_problem(problems, "providers.none", "expected a mapping")


def test_bad_provider_names() -> None:
    doc = minimal(providers={"mock": {"kind": "mock"}, "bad name": {"kind": "mock"}})
    doc["providers"]["-dash"] = {"kind": "mock"}
    doc["providers"]["ok_name-1.v2"] = {"kind": "mock"}
    problems = problems_of(doc)
    assert_problem(problems, "providers.bad name", "invalid provider name")
    assert_problem(problems, "providers.-dash", "invalid provider name")
    assert len(problems) == 2


def test_non_string_provider_name(tmp_path: Path) -> None:
    path = tmp_path / "int.yaml"
    path.write_text("providers:\n  1: {kind: mock}\n", encoding="utf-8")
    problems = problems_of(path)
    assert_problem(problems, "providers.1", "must be a string")


def test_route_with_unknown_provider() -> None:
    doc = minimal(providers={"mock": {"kind": "mock"}, "openai": {"kind": "mock"}})
    doc["routes"] += [
        {"name": "b", "provider": "mock"},
        {"name": "c", "provider": "foo"},
        {"name": "d", "provider": "mokc"},
        {"name": "e", "targets": [{"provider": "mock"}, {"provider": "opnai"}]},
        {"name": "f", "targets": [{"targets": [{"provider": "nope"}]}]},
    ]
    problems = problems_of(doc)
    assert "routes[2].provider: unknown provider 'foo' (known: mock, openai)" in problems
    assert_problem(problems, "routes[3].provider", "unknown provider 'mokc'", "'mock'?")
    assert_problem(problems, "routes[4].targets[1].provider", "'opnai'", "did you mean 'openai'?")
    assert_problem(problems, "routes[5].targets[0].targets[0].provider", "unknown provider 'nope'")
    assert len(problems) == 4


def test_duplicate_route_names() -> None:
    doc = minimal()
    doc["routes"] += [{"name": "x", "provider": "mock"}, {"name": "m", "provider": "mock"}]
    problems = problems_of(doc)
    assert problems == [
        "routes[2].name: duplicate route name 'm' (first defined at routes[0].name)"
    ]


def test_route_field_validation() -> None:
    doc = minimal(
        routes=[
            {"provider": "mock"},
            {"name": "", "provider": "mock"},
            {"name": "x"},
            {"name": "y", "provider": "mock", "model": ""},
            "z",
            {"name": "w", "provider": "mock", "aliases": "w2"},
        ]
    )
    problems = problems_of(doc)
    assert_problem(problems, "routes[0].name", "field required")
    assert_problem(problems, "routes[1].name", "at least 1")
    assert_problem(problems, "routes[2]", "needs `provider` (one target) or `targets`")
    assert_problem(problems, "routes[3].model", "at least 1")
    assert_problem(problems, "routes[4]", "expected a mapping")
    assert_problem(problems, "routes[5].aliases", "expected a list")
    assert len(problems) == 6


def test_wrong_section_types() -> None:
    problems = problems_of({"server": [], "providers": [], "models": {}, "routes": "x"})
    assert_problem(problems, "server", "expected a mapping")
    assert_problem(problems, "providers", "expected a mapping")
    assert_problem(problems, "models", "expected a list")
    assert_problem(problems, "routes", "expected a list")


def test_missing_or_empty_providers() -> None:
    assert problems_of({}) == ["providers: at least one provider is required"]
    assert problems_of({"providers": {}}) == ["providers: at least one provider is required"]
    assert problems_of({"providers": None}) == ["providers: at least one provider is required"]
    problems = problems_of({"routes": [{"name": "a", "provider": "mock"}]})
    assert "providers: at least one provider is required" in problems
    assert "routes[0].provider: unknown provider 'mock' (known: none)" in problems


def test_many_problems_in_one_error() -> None:
    doc = {
        "server": {"port": True, "workers": 1.5, "prot": 1, "host": "${HOST}", "mode": "x"},
        "providers": {
            "mock": {"kind": "mock", "latncy_ms": 1, "status": 700},
            "bad name": {"kind": "mock"},
            "weird": {"kind": "bogus"},
        },
        "models": [{"name": "old", "provider": "mokc"}],
        "routes": [
            {"name": "a", "provider": "mock"},
            {"name": "a", "provider": "foo"},
            {"provider": "mock"},
            {
                "name": "g",
                "strategy": "single",
                "targets": [
                    {"provider": "mock", "weight": 0, "when": {"model": "x"}},
                    {"provider": "mock", "targets": [{"provider": "mock"}]},
                    {"provider": "mock", "transforms": [{"drop": "a", "set": {"b": 1}}]},
                ],
                "retry": {"attempts": 0, "on": ["5xx", "4xx"], "budget": 2},
                "circuit_breaker": {"failure_rate": 0, "windw": 3},
                "fallbacks": {"unavailable": "aa", "context_window_exceeded": "g"},
                "timeout": -1,
            },
        ],
        "sever": 1,
    }
    with pytest.raises(ConfigError) as info:
        load_config(doc, env={})
    err = info.value
    problems = err.problems
    expected = {
        "server.host": "environment variable HOST",
        "server.port": "boolean",
        "server.workers": "fractional",
        "server.prot": "did you mean 'port'?",
        "server.mode": "'gateway' or 'mock'",
        "providers.mock.latncy_ms": "did you mean 'latency_ms'?",
        "providers.mock.status": "599",
        "providers.bad name": "invalid provider name",
        "providers.weird.kind": "unknown provider kind",
        "models[0].provider": "unknown provider 'mokc'",
        "routes[1].name": "duplicate route name 'a' (first defined at routes[0].name)",
        "routes[1].provider": "unknown provider 'foo'",
        "routes[2].name": "field required",
        "routes[3].strategy": "'single' takes one target, this group has 3",
        "routes[3].targets[0].weight": "greater than or equal to 1",
        "routes[3].targets[0].when": "conditional",
        "routes[3].targets[1]": "not both",
        "routes[3].targets[2].transforms[0]": "exactly one of set, drop, rename",
        "routes[3].retry.attempts": "greater than or equal to 1",
        "routes[3].retry.on[1]": "'connect', 'timeout', '5xx' or '429'",
        "routes[3].retry.budget": "less than or equal to 1",
        "routes[3].circuit_breaker.failure_rate": "greater than 0",
        "routes[3].circuit_breaker.windw": "did you mean 'window'?",
        "routes[3].fallbacks.unavailable": "unknown route 'aa'",
        "routes[3].fallbacks.context_window_exceeded": "names the route itself",
        "routes[3].timeout": "greater than 0",
        "sever": "did you mean 'server'?",
    }
    for path, fragment in expected.items():
        assert_problem(problems, path, fragment)
    assert len(problems) == len(expected), problems
    text = str(err)
    assert text.startswith(f"invalid aigw config (<dict>), {len(problems)} problem(s):\n  - ")
    assert text.count("\n  - ") == len(problems)
    assert isinstance(err, ValueError)
    assert err.source == "<dict>"


def test_config_error_pickles() -> None:
    err = ConfigError(["a: b", "c: d"], "x.yaml")
    clone = pickle.loads(pickle.dumps(err))
    assert clone.problems == err.problems
    assert str(clone) == str(err)


def test_direct_construction_runs_cross_checks() -> None:
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        Config.model_validate(
            {"providers": {"p": {"kind": "mock"}}, "models": [{"name": "a", "provider": "nope"}]}
        )
    with pytest.raises(ValueError, match=r"routes\[0\].targets\[0\]: needs `provider`"):
        Config.model_validate(
            {"providers": {"p": {"kind": "mock"}}, "routes": [{"name": "a", "targets": [{}]}]}
        )
    with pytest.raises(ValueError, match="duplicate route name 'a'"):
        Config.model_validate(
            {
                "providers": {"p": {"kind": "mock"}},
                "models": [{"name": "a", "provider": "p"}],
                "routes": [{"name": "b", "aliases": ["a"], "provider": "p"}],
            }
        )
    cfg = Config.model_validate({"providers": {"p": {"kind": "mock"}}})
    assert cfg.source is None


# --------------------------------------------------------------------------- overrides


def test_overrides_apply_to_server() -> None:
    cfg = load_config(overrides={"host": "0.0.0.0", "port": 0, "workers": 2}, env={})
    assert (cfg.server.host, cfg.server.port, cfg.server.workers) == ("0.0.0.0", 0, 2)
    assert cfg.to_core_dict()["server"]["port"] == 0


def test_overrides_ignore_none_and_win_over_file(tmp_path: Path) -> None:
    path = tmp_path / "aigw.yaml"
    path.write_text(YAML_DOC, encoding="utf-8")
    cfg = load_config(path, env={}, overrides={"port": 5000, "host": None})
    assert cfg.server.port == 5000
    assert cfg.server.host == "0.0.0.0"
    assert cfg.server.header_timeout == 2.5


def test_overrides_are_not_env_substituted_but_are_validated() -> None:
    cfg = load_config(minimal(), env={}, overrides={"host": "${NOT_SUBSTITUTED}"})
    assert cfg.server.host == "${NOT_SUBSTITUTED}"
    problems = problems_of(minimal(), overrides={"port": 70000, "wrkers": 1})
    assert_problem(problems, "server.port", "65535")
    assert "server.wrkers: unknown key; did you mean 'workers'?" in problems


def test_overrides_on_existing_config() -> None:
    doc = minimal()
    doc["providers"]["mock"]["response"] = "$${X}"  # literal "${X}" after substitution
    base = load_config(doc, env={})
    assert base.providers["mock"].response == "${X}"
    cfg = load_config(base, overrides={"port": 1234})
    assert cfg is not base
    assert cfg.server.port == 1234
    assert cfg.source == "<dict>"
    assert cfg.providers["mock"].response == "${X}"  # not substituted a second time
    assert base.server.port is None
    assert load_config(base, overrides={"port": None}) is base


# --------------------------------------------------------------------------- routes


def routes_doc(*routes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "providers": {
            "openai": {"kind": "mock"},
            "azure": {"kind": "mock"},
            "local": {"kind": "mock"},
        },
        "routes": list(routes),
    }
    doc.update(extra)
    return doc


def core_routes(*routes: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    cfg = load_config(routes_doc(*routes, **extra), env={})
    json.loads(cfg.to_core_json())  # always serializable
    result: list[dict[str, Any]] = cfg.to_core_dict()["routes"]
    return result


DEFAULT_BREAKER = {
    "enabled": True,
    "consecutive_failures": 5,
    "failure_rate": 0.0,
    "min_requests": 20,
    "window_ms": 30000,
    "ejection_ms": 10000,
    "max_ejection_ms": 300000,
}


def target_node(provider: str, model: str | None = None, **over: Any) -> dict[str, Any]:
    node = {
        "type": "target",
        "provider": provider,
        "model": model,
        "weight": 1,
        "when": None,
        "transforms": [],
        "connect_timeout_ms": 0,
        "first_byte_timeout_ms": 0,
        "idle_timeout_ms": 0,
        "max_in_flight": 0,
        "max_pending": 0,
        "breaker": DEFAULT_BREAKER,
    }
    node.update(over)
    return node


def test_shorthand_route_core() -> None:
    (route,) = core_routes(
        {
            "name": "gpt-4o",
            "aliases": ["smart", "default"],
            "provider": "openai",
            "model": "gpt-4o-2024-08-06",
            "connect_timeout": 2,
            "first_byte_timeout": 30,
            "stream_idle_timeout": 20.5,
            "max_in_flight": 100,
            "max_pending": 50,
            "timeout": None,
            "retry": {
                "attempts": 5,
                "on": ["connect", 429],
                "backoff": 0.25,
                "max_backoff": 2,
                "budget": 0.5,
                "min_retries": 1,
                "max_retry_after": 30,
            },
            "circuit_breaker": {"failure_rate": 0.5, "window": 10},
        }
    )
    assert route == {
        "name": "gpt-4o",
        "aliases": ["smart", "default"],
        "plan": {
            "type": "group",
            "strategy": "single",
            "weight": 1,
            "when": None,
            "children": [
                target_node(
                    "openai",
                    "gpt-4o-2024-08-06",
                    connect_timeout_ms=2000,
                    first_byte_timeout_ms=30000,
                    idle_timeout_ms=20500,
                    max_in_flight=100,
                    max_pending=50,
                    breaker={**DEFAULT_BREAKER, "failure_rate": 0.5, "window_ms": 10000},
                )
            ],
        },
        "retry": {
            "attempts": 5,
            "on_connect": True,
            "on_timeout": False,
            "on_5xx": False,
            "on_429": True,
            "backoff_base_ms": 250,
            "backoff_max_ms": 2000,
            "budget_ratio": 0.5,
            "budget_min": 1,
            "max_retry_after_ms": 30000,
            "client_retries": False,
        },
        "timeout_ms": 0,
        "fallbacks": NO_FALLBACKS,
        "guardrails": None,
        "drop_params": [],
    }


def test_nested_groups_core() -> None:
    (route,) = core_routes(
        {
            "name": "openai/*",
            "strategy": "conditional",
            "targets": [
                {
                    "when": {"header": {"X-Tier": "premium"}},
                    "strategy": "weighted",
                    "targets": [
                        {"provider": "openai", "weight": 3},
                        {"provider": "azure", "model": "*-azure", "weight": 1},
                    ],
                },
                {
                    "targets": [
                        {"provider": "local", "model": "llama"},
                        {"strategy": "least_latency", "targets": [{"provider": "openai"}]},
                    ]
                },
            ],
        }
    )
    assert route["plan"] == {
        "type": "group",
        "strategy": "conditional",
        "weight": 1,
        "when": None,
        "children": [
            {
                "type": "group",
                "strategy": "weighted",
                "weight": 1,
                "when": [{"source": "header", "key": "x-tier", "values": ["premium"]}],
                "children": [
                    target_node("openai", weight=3),
                    target_node("azure", "*-azure"),
                ],
            },
            {
                "type": "group",
                "strategy": "fallback",  # default with more than one target
                "weight": 1,
                "when": None,
                "children": [
                    target_node("local", "llama"),
                    {
                        "type": "group",
                        "strategy": "least_latency",
                        "weight": 1,
                        "when": None,
                        "children": [target_node("openai")],
                    },
                ],
            },
        ],
    }
    # four targets: the default attempts grow to cover them
    assert route["retry"]["attempts"] == 4


def test_default_strategies() -> None:
    one, two = core_routes(
        {"name": "a", "targets": [{"provider": "openai"}]},
        {"name": "b", "targets": [{"provider": "openai"}, {"provider": "azure"}]},
    )
    assert one["plan"]["strategy"] == "single"
    assert two["plan"]["strategy"] == "fallback"
    assert [c["provider"] for c in two["plan"]["children"]] == ["openai", "azure"]


def test_transforms_expand_to_one_op_per_field() -> None:
    (route,) = core_routes(
        {
            "name": "o1",
            "targets": [
                {
                    "provider": "openai",
                    "transforms": [
                        {"drop": "response_format", "if_present": "tools"},
                        {"drop": ["a", "b.c"], "if_absent": "x"},
                        {"rename": {"max_tokens": "max_completion_tokens"}},
                        {
                            "set": {
                                "temperature": 1,
                                "stream_options.include_usage": True,
                                "extra": {"k": [1, None, "s"]},
                            }
                        },
                    ],
                }
            ],
        }
    )
    ops = route["plan"]["children"][0]["transforms"]

    def op(kind: str, path: str, to: str = "", value: Any = None, **cond: str) -> dict[str, Any]:
        return {
            "op": kind,
            "path": path,
            "to": to,
            "value": value,
            "if_present": cond.get("if_present", ""),
            "if_absent": cond.get("if_absent", ""),
        }

    assert ops == [
        op("drop", "response_format", if_present="tools"),
        op("drop", "a", if_absent="x"),
        op("drop", "b.c", if_absent="x"),
        op("rename", "max_tokens", to="max_completion_tokens"),
        op("set", "temperature", value=1),
        op("set", "stream_options.include_usage", value=True),
        op("set", "extra", value={"k": [1, None, "s"]}),
    ]


def test_shorthand_transforms() -> None:
    (route,) = core_routes({"name": "a", "provider": "openai", "transforms": [{"set": {"x": "y"}}]})
    (target,) = route["plan"]["children"]
    assert [(t["op"], t["path"], t["value"]) for t in target["transforms"]] == [("set", "x", "y")]


def test_when_lists() -> None:
    (route,) = core_routes(
        {
            "name": "a",
            "strategy": "conditional",
            "targets": [
                {
                    "provider": "openai",
                    "when": {
                        "model": "gpt-4*",
                        "header": {"X-Tier": ["premium", "gold"], "x-version": 2},
                        "metadata": {"team": ["a", "b"], "env": "prod"},
                    },
                },
                {"provider": "azure", "when": {"model": ["o1*", "o3*"]}},
                {"provider": "local"},
            ],
        }
    )
    whens = [c["when"] for c in route["plan"]["children"]]
    assert whens == [
        [
            {"source": "model", "key": "", "values": ["gpt-4*"]},
            {"source": "header", "key": "x-tier", "values": ["premium", "gold"]},
            {"source": "header", "key": "x-version", "values": ["2"]},
            {"source": "metadata", "key": "team", "values": ["a", "b"]},
            {"source": "metadata", "key": "env", "values": ["prod"]},
        ],
        [{"source": "model", "key": "", "values": ["o1*", "o3*"]}],
        None,
    ]


def test_retry_defaults_cover_the_targets() -> None:
    routes = core_routes(
        {"name": "one", "provider": "openai"},
        {"name": "four", "targets": [{"provider": "openai"}] * 4},
        {"name": "explicit", "targets": [{"provider": "openai"}] * 4, "retry": {"attempts": 2}},
        {"name": "max", "provider": "openai", "retry": {"attempts": 20}},
    )
    assert [r["retry"]["attempts"] for r in routes] == [3, 4, 2, 20]
    assert routes[0]["retry"] == {
        "attempts": 3,
        "on_connect": True,
        "on_timeout": True,
        "on_5xx": True,
        "on_429": True,
        "backoff_base_ms": 100,
        "backoff_max_ms": 5000,
        "budget_ratio": 0.2,
        "budget_min": 3,
        "max_retry_after_ms": 60000,
        "client_retries": False,
    }
    assert routes[0]["timeout_ms"] == 600000


def test_retry_on_subsets() -> None:
    a, b = core_routes(
        {"name": "a", "provider": "openai", "retry": {"on": []}},
        {"name": "b", "provider": "openai", "retry": {"on": "5xx"}},
    )
    flags = ("on_connect", "on_timeout", "on_5xx", "on_429")
    assert [a["retry"][f] for f in flags] == [False, False, False, False]
    assert [b["retry"][f] for f in flags] == [False, False, True, False]


def test_yaml_on_key_is_not_a_boolean(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `on:` as true; retry.on still works.
    path = tmp_path / "aigw.yaml"
    path.write_text(
        "providers: {openai: {kind: mock}}\n"
        "routes:\n"
        "  - name: a\n"
        "    provider: openai\n"
        "    retry:\n"
        "      on: [connect, 429]\n",
        encoding="utf-8",
    )
    retry = load_config(path, env={}).to_core_dict()["routes"][0]["retry"]
    assert (retry["on_connect"], retry["on_timeout"], retry["on_5xx"], retry["on_429"]) == (
        True,
        False,
        False,
        True,
    )


def test_route_defaults_and_breaker_merge() -> None:
    (route,) = core_routes(
        {
            "name": "a",
            "connect_timeout": 1,
            "first_byte_timeout": 10,
            "max_in_flight": 8,
            "max_pending": 4,
            "circuit_breaker": {"consecutive_failures": 3, "ejection_time": 5, "failure_rate": 0.4},
            "targets": [
                {"provider": "openai"},
                {
                    "provider": "azure",
                    "connect_timeout": 0.5,
                    "stream_idle_timeout": 7,
                    "max_in_flight": 2,
                    "max_pending": 0,
                    "circuit_breaker": {"consecutive_failures": 0, "max_ejection_time": 60},
                },
                {
                    "provider": "local",
                    "max_in_flight": None,  # explicitly no cap
                    "connect_timeout": None,  # the route's
                    "circuit_breaker": {"enabled": False, "failure_rate": None},
                },
            ],
        }
    )
    a, b, c = route["plan"]["children"]
    route_breaker = {
        **DEFAULT_BREAKER,
        "consecutive_failures": 3,
        "ejection_ms": 5000,
        "failure_rate": 0.4,
    }
    assert a == target_node(
        "openai",
        connect_timeout_ms=1000,
        first_byte_timeout_ms=10000,
        max_in_flight=8,
        max_pending=4,
        breaker=route_breaker,
    )
    assert b == target_node(
        "azure",
        connect_timeout_ms=500,
        first_byte_timeout_ms=10000,
        idle_timeout_ms=7000,
        max_in_flight=2,
        max_pending=0,
        breaker={**route_breaker, "consecutive_failures": 0, "max_ejection_ms": 60000},
    )
    assert c == target_node(
        "local",
        connect_timeout_ms=1000,
        first_byte_timeout_ms=10000,
        max_in_flight=0,
        max_pending=4,
        breaker={**route_breaker, "enabled": False, "failure_rate": 0.0},
    )


def test_inheritance_survives_overrides_round_trip() -> None:
    doc = routes_doc(
        {
            "name": "a",
            "max_in_flight": 8,
            "circuit_breaker": {"consecutive_failures": 3},
            "targets": [{"provider": "openai", "circuit_breaker": {"window": 5}}],
        }
    )
    cfg = load_config(doc, env={})
    again = load_config(cfg, overrides={"port": 1})
    assert again is not cfg
    assert again.to_core_dict()["routes"] == cfg.to_core_dict()["routes"]
    target = again.to_core_dict()["routes"][0]["plan"]["children"][0]
    assert target["max_in_flight"] == 8
    assert target["breaker"]["consecutive_failures"] == 3
    assert target["breaker"]["window_ms"] == 5000


def test_fallbacks_core() -> None:
    a, _, _ = core_routes(
        {
            "name": "a",
            "provider": "openai",
            "fallbacks": {"context_window_exceeded": "big", "unavailable": "backup"},
        },
        {"name": "big", "provider": "azure"},
        {"name": "backup", "provider": "local"},
    )
    assert a["fallbacks"] == {
        **NO_FALLBACKS,
        "context_window_exceeded": "big",
        "unavailable": "backup",
    }


def test_models_is_the_older_name_of_routes() -> None:
    cfg = load_config(
        routes_doc(
            {"name": "new", "provider": "openai"},
            models=[{"name": "old", "provider": "azure", "model": "x"}],
        ),
        env={},
    )
    assert [r.name for r in cfg.models] == ["old"]
    assert [r.name for r in cfg.routes] == ["new"]
    assert [r.name for r in cfg.all_routes] == ["old", "new"]
    core = cfg.to_core_dict()
    assert "models" not in core
    assert [r["name"] for r in core["routes"]] == ["old", "new"]  # models first
    assert core["routes"][0]["plan"]["children"][0]["model"] == "x"
    # only `models:`, in the old flat form
    cfg = load_config(
        {"providers": {"p": {"kind": "mock"}}, "models": [{"name": "m", "provider": "p"}]}
    )
    assert [r["name"] for r in cfg.to_core_dict()["routes"]] == ["m"]
    # names are unique across both lists, and errors name the list they are in
    problems = problems_of(
        routes_doc(
            {"name": "b", "aliases": ["a"], "provider": "openai"},
            models=[{"name": "a", "provider": "openai", "targts": []}],
        )
    )
    assert problems == [
        "models[0].targts: unknown key; did you mean 'targets'?",
        "routes[0].aliases[0]: duplicate route name 'a' (first defined at models[0].name)",
    ]


def test_routing_summary_setting() -> None:
    cfg = load_config(minimal(server={"routing_summary": "always"}), env={})
    assert cfg.to_core_dict()["server"]["routing_summary"] == "always"
    problems = problems_of(minimal(server={"routing_summary": "sometimes"}))
    assert problems == ["server.routing_summary: input should be 'header', 'always' or 'never'"]


# --------------------------------------------------------------------------- route errors


def route_problems(*routes: dict[str, Any]) -> list[str]:
    return problems_of(routes_doc(*routes))


def test_plan_shape_errors() -> None:
    problems = route_problems(
        {"name": "both", "provider": "openai", "targets": [{"provider": "openai"}]},
        {"name": "neither"},
        {"name": "empty", "targets": []},
        {
            "name": "target-both",
            "targets": [{"provider": "openai", "targets": [{"provider": "azure"}]}],
        },
        {"name": "target-neither", "targets": [{"weight": 2}]},
        {"name": "nested-empty", "targets": [{"targets": []}]},
        {"name": "null-targets", "targets": None},
    )
    assert problems == [
        "routes[0]: give either `provider` (one target) or `targets`, not both",
        "routes[1]: needs `provider` (one target) or `targets`",
        "routes[2].targets: must not be empty",
        "routes[3].targets[0]: give either `provider` (a target) or `targets` "
        "(a nested group), not both",
        "routes[4].targets[0]: needs `provider` (a target) or `targets` (a nested group)",
        "routes[5].targets[0].targets: must not be empty",
        "routes[6]: needs `provider` (one target) or `targets`",
    ]


def test_form_specific_keys() -> None:
    problems = route_problems(
        {"name": "a", "provider": "openai", "strategy": "fallback"},
        {
            "name": "b",
            "model": "x",
            "transforms": [{"drop": "y"}],
            "targets": [
                {"provider": "openai", "strategy": "weighted"},
                {
                    "targets": [{"provider": "openai"}],
                    "model": "m",
                    "max_in_flight": 3,
                    "circuit_breaker": {"enabled": False},
                },
            ],
        },
    )
    assert problems == [
        "routes[0].strategy: only with `targets`",
        "routes[1].model: belongs to the one-target form (`provider`); with `targets`, "
        "set it on a target",
        "routes[1].transforms: belongs to the one-target form (`provider`); with `targets`, "
        "set it on a target",
        "routes[1].targets[0].strategy: only on a group (with `targets`)",
        "routes[1].targets[1].model: not allowed on a group; set it on its targets",
        "routes[1].targets[1].max_in_flight: not allowed on a group; set it on its targets",
        "routes[1].targets[1].circuit_breaker: not allowed on a group; set it on its targets",
    ]


def test_when_only_under_conditional_groups() -> None:
    problems = route_problems(
        {
            "name": "a",
            "strategy": "weighted",
            "targets": [{"provider": "openai", "when": {"model": "x"}}, {"provider": "azure"}],
        },
        {
            "name": "b",
            "strategy": "conditional",
            "targets": [
                {
                    "when": {"model": "x"},  # fine: a child of a conditional group
                    "targets": [{"provider": "openai", "when": {"model": "y"}}],
                },
                {"provider": "azure"},
            ],
        },
    )
    assert problems == [
        "routes[0].targets[0].when: only on the targets of a `strategy: conditional` group",
        "routes[1].targets[0].targets[0].when: only on the targets of a "
        "`strategy: conditional` group",
    ]


def test_when_errors() -> None:
    problems = route_problems(
        {
            "name": "a",
            "strategy": "conditional",
            "targets": [
                {"provider": "openai", "when": {}},
                {"provider": "openai", "when": {"header": {"bad header": "x"}}},
                {"provider": "openai", "when": {"model": []}},
                {"provider": "openai", "when": {"modle": "x"}},
                {"provider": "openai", "when": {"metadata": {"team": [True]}}},
            ],
        }
    )
    w = "routes[0].targets[{}].when"
    assert_problem(problems, w.format(0), "names no condition")
    assert_problem(problems, w.format(1) + ".header", "'bad header' is not a valid header name")
    assert_problem(problems, w.format(2) + ".model", "at least 1")
    assert_problem(problems, w.format(3) + ".modle", "unknown key; did you mean 'model'?")
    assert_problem(problems, w.format(4) + ".metadata.team[0]", "string")
    assert len(problems) == 5


def test_strategy_and_weight_errors() -> None:
    problems = route_problems(
        {
            "name": "a",
            "strategy": "single",
            "targets": [{"provider": "openai"}, {"provider": "azure", "weight": 0}],
        },
        {
            "name": "b",
            "strategy": "round_robin",
            "targets": [{"provider": "openai", "weight": 1.5}],
        },
        {"name": "c", "targets": [{"provider": "openai", "weight": True}]},
    )
    assert problems == [
        "routes[0].targets[1].weight: input should be greater than or equal to 1",
        "routes[1].strategy: input should be 'single', 'fallback', 'weighted', 'conditional', "
        "'least_latency' or 'least_busy'",
        "routes[1].targets[0].weight: input should be a valid integer, got a number with a "
        "fractional part",
        "routes[2].targets[0].weight: input should be a valid integer, not a boolean",
        "routes[0].strategy: 'single' takes one target, this group has 2 "
        "(use fallback, weighted, conditional, least_latency or least_busy)",
    ]


def test_name_errors() -> None:
    problems = route_problems(
        {"name": "gpt-4o", "aliases": ["smart", "gpt-4o"], "provider": "openai"},
        {"name": "smart", "provider": "openai"},
        {"name": "a/*/*", "provider": "openai", "model": "x*y*"},
        {"name": "b", "aliases": ["b*"], "targets": [{"provider": "openai", "model": "**"}]},
        {"name": "openai/*", "provider": "openai", "model": "*"},  # fine
        {"name": "*", "provider": "openai"},  # fine
    )
    assert problems == [
        "routes[0].aliases[1]: duplicate route name 'gpt-4o' (first defined at routes[0].name)",
        "routes[1].name: duplicate route name 'smart' (first defined at routes[0].aliases[0])",
        "routes[2].name: 'a/*/*' has more than one '*'",
        "routes[2].model: 'x*y*' has more than one '*'",
        "routes[3].aliases[0]: an alias is an exact name; 'b*' has a '*'",
        "routes[3].targets[0].model: '**' has more than one '*'",
    ]


def test_fallback_errors() -> None:
    problems = route_problems(
        {
            "name": "main",
            "provider": "openai",
            "fallbacks": {
                "context_window_exceeded": "big-context",
                "content_policy_violation": "main",
                "unavailable": "zzz",
                "rate_limited": "main",
            },
        },
        {"name": "big-ctx", "aliases": ["big-context"], "provider": "azure"},
    )
    assert problems == [
        "routes[0].fallbacks.rate_limited: unknown key",
        "routes[0].fallbacks.context_window_exceeded: unknown route 'big-context'; "
        "did you mean 'big-ctx'?",
        "routes[0].fallbacks.content_policy_violation: names the route itself ('main')",
        "routes[0].fallbacks.unavailable: unknown route 'zzz'",
    ]


@pytest.mark.parametrize(
    ("field", "value", "path", "fragment"),
    [
        ("retry", {"attempts": 0}, "retry.attempts", "greater than or equal to 1"),
        ("retry", {"attempts": 21}, "retry.attempts", "less than or equal to 20"),
        ("retry", {"on": ["5xx", "4xx"]}, "retry.on[1]", "'connect', 'timeout', '5xx' or '429'"),
        ("retry", {"on": "sometimes"}, "retry.on[0]", "'connect'"),
        ("retry", {"budget": 1.5}, "retry.budget", "less than or equal to 1"),
        ("retry", {"budget": -0.1}, "retry.budget", "greater than or equal to 0"),
        ("retry", {"backoff": -1}, "retry.backoff", "greater than or equal to 0"),
        ("retry", {"backoff": 2, "max_backoff": 1}, "retry.max_backoff", "less than backoff"),
        ("retry", {"min_retries": -1}, "retry.min_retries", "greater than or equal to 0"),
        ("retry", {"max_retry_after": "x"}, "retry.max_retry_after", "number"),
        ("retry", {"atempts": 2}, "retry.atempts", "did you mean 'attempts'?"),
        ("retry", 3, "retry", "expected a mapping"),
        ("timeout", 0, "timeout", "greater than 0"),
        ("timeout", "inf", "timeout", "less than or equal"),
        ("connect_timeout", 0, "connect_timeout", "greater than 0"),
        ("first_byte_timeout", -1, "first_byte_timeout", "greater than 0"),
        ("stream_idle_timeout", True, "stream_idle_timeout", "boolean"),
        ("max_in_flight", 0, "max_in_flight", "greater than or equal to 1"),
        ("max_pending", -1, "max_pending", "greater than or equal to 0"),
        ("circuit_breaker", {"failure_rate": 0}, "circuit_breaker.failure_rate", "greater than 0"),
        ("circuit_breaker", {"failure_rate": 1.5}, "circuit_breaker.failure_rate", "1"),
        ("circuit_breaker", {"window": 0}, "circuit_breaker.window", "greater than 0"),
        ("circuit_breaker", {"ejection_time": -1}, "circuit_breaker.ejection_time", "0"),
        ("circuit_breaker", {"min_requests": 0}, "circuit_breaker.min_requests", "1"),
        (
            "circuit_breaker",
            {"consecutive_failures": -1},
            "circuit_breaker.consecutive_failures",
            "0",
        ),
        ("circuit_breaker", {"enabled": "perhaps"}, "circuit_breaker.enabled", "boolean"),
        ("circuit_breaker", {"ejection": 1}, "circuit_breaker.ejection", "'ejection_time'?"),
        ("fallbacks", {"unavailable": ""}, "fallbacks.unavailable", "at least 1"),
        ("aliases", [""], "aliases[0]", "at least 1"),
        ("transforms", [{"drop": "a..b"}], "transforms[0].drop[0]", "invalid field path 'a..b'"),
        ("transforms", [{"drop": []}], "transforms[0].drop", "at least 1"),
        ("transforms", [{"set": {}}], "transforms[0].set", "at least one field"),
        ("transforms", [{"rename": {"a": ".b"}}], "transforms[0].rename.a", "invalid field path"),
        ("transforms", [{"set": {"a": 1}, "if_present": ""}], "transforms[0].if_present", "path"),
        ("transforms", [{"set": {"a": float("nan")}}], "transforms[0].set.a", "not a JSON value"),
        ("transforms", [{"if_present": "a"}], "transforms[0]", "needs one of set, drop, rename"),
        ("transforms", [{"sett": {"a": 1}}], "transforms[0].sett", "did you mean 'set'?"),
        ("transforms", ["drop"], "transforms[0]", "expected a mapping"),
    ],
)
def test_route_field_errors(field: str, value: Any, path: str, fragment: str) -> None:
    # the same field on a shorthand route and on a target (where it exists there)
    route = {"name": "a", "provider": "openai", field: value}
    problems = route_problems(route)
    assert_problem(problems, f"routes[0].{path}", fragment)
    if field in ("retry", "timeout", "fallbacks", "aliases"):
        return
    # a misspelt op is also a transform without one
    expected = 2 if path.endswith(".sett") else 1
    assert len(problems) == expected, problems
    problems = route_problems({"name": "a", "targets": [{"provider": "openai", field: value}]})
    assert_problem(problems, f"routes[0].targets[0].{path}", fragment)
    assert len(problems) == expected, problems


def test_transform_value_must_be_json(tmp_path: Path) -> None:
    path = tmp_path / "aigw.yaml"
    path.write_text(
        "providers: {openai: {kind: mock}}\n"
        "routes:\n"
        "  - name: a\n"
        "    provider: openai\n"
        "    transforms:\n"
        "      - set: {since: 2024-01-01}\n",
        encoding="utf-8",
    )
    problems = problems_of(path)
    assert problems == ["routes[0].transforms[0].set.since: date is not a JSON value (quote it)"]


def test_transform_with_two_ops_and_field_errors_reported_together() -> None:
    problems = route_problems(
        {
            "name": "a",
            "provider": "openai",
            "transforms": [{"drop": "a", "rename": {"b": "c"}, "if_absent": "x..y"}],
        }
    )
    assert problems == [
        "routes[0].transforms[0].if_absent: invalid field path 'x..y' "
        "(dotted keys, no empty parts)",
        "routes[0].transforms[0]: give exactly one of set, drop, rename (got drop and rename)",
    ]


def test_unknown_keys_in_route_models_get_hints() -> None:
    problems = route_problems(
        {
            "name": "a",
            "aliasses": [],
            "strategy": "conditional",
            "targets": [
                {"provider": "openai", "wieght": 2, "when": {"headers": {}}},
                {"strategy": "fallback", "targets": [{"provider": "openai", "modle": "x"}]},
            ],
            "retry": {"max_backof": 1},
            "fallbacks": {"unavailble": "a"},
        }
    )
    assert sorted(problems) == [
        "routes[0].aliasses: unknown key; did you mean 'aliases'?",
        "routes[0].fallbacks.unavailble: unknown key; did you mean 'unavailable'?",
        "routes[0].retry.max_backof: unknown key; did you mean 'max_backoff'?",
        "routes[0].targets[0].when.headers: unknown key; did you mean 'header'?",
        "routes[0].targets[0].wieght: unknown key; did you mean 'weight'?",
        "routes[0].targets[1].targets[0].modle: unknown key; did you mean 'model'?",
    ]
