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

EXPECTED_DEFAULT_CORE: dict[str, Any] = {
    "version": 1,
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
            "embedding_dimensions": 8,
            "header_knobs": True,
        }
    ],
    "models": [
        {"name": "mock-gpt", "provider": "mock", "model": None},
        {"name": "mock-embedding", "provider": "mock", "model": None},
        {"name": "*", "provider": "mock", "model": None},
    ],
    "default_provider": None,
}


def minimal(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "providers": {"mock": {"kind": "mock"}},
        "models": [{"name": "m", "provider": "mock"}],
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
    assert default_config() == {
        "server": {},
        "providers": {"mock": {"kind": "mock"}},
        "models": [
            {"name": "mock-gpt", "provider": "mock"},
            {"name": "mock-embedding", "provider": "mock"},
            {"name": "*", "provider": "mock"},
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
    assert [m.name for m in cfg.models] == ["mock-gpt", "mock-embedding", "*"]
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
        "models": [{"name": "x", "provider": "a", "model": "up-x"}],
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
    assert core["models"] == [{"name": "x", "provider": "a", "model": "up-x"}]
    assert list(core) == ["version", "server", "providers", "models", "default_provider"]


def test_missing_sections_default() -> None:
    cfg = load_config({"providers": {"p": {"kind": "mock"}}}, env={})
    assert cfg.models == []
    assert cfg.server.host == "127.0.0.1"
    assert cfg.server.workers == 0


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
models:
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
        "models": [
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

[[models]]
name = "gpt-4o-mini"
provider = "mock"

[[models]]
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
        "models": [{"name": "${NAME}", "provider": "mock"}],
    }
    cfg = load_config(doc, env={"R": "set", "NAME": "gpt"})
    assert cfg.providers["mock"].response == "set"
    assert cfg.models[0].name == "gpt"
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
    doc["models"].append({"name": "${MODEL}", "provider": "mock"})
    problems = problems_of(doc, env={"UNRELATED": "1"})
    assert "server.host: environment variable HOST is not set" in problems
    assert "server.port: environment variable PORT is not set" in problems
    assert "providers.mock.response: environment variable A is not set" in problems
    assert "providers.mock.response: environment variable B is not set" in problems
    assert "models[1].name: environment variable MODEL is not set" in problems
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
    doc["models"][0]["providr"] = "mock"
    doc["models"][0]["zzzzzz"] = 1
    problems = problems_of(doc)
    assert "server.prot: unknown key; did you mean 'port'?" in problems
    assert "sever: unknown key; did you mean 'server'?" in problems
    assert "providers.mock.latncy_ms: unknown key; did you mean 'latency_ms'?" in problems
    assert "models[0].providr: unknown key; did you mean 'provider'?" in problems
    assert "models[0].zzzzzz: unknown key" in problems
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
    assert problems == ["providers.mock.kind: unknown provider kind 'bogus' (known: mock, openai)"]


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


def test_model_with_unknown_provider() -> None:
    doc = minimal(providers={"mock": {"kind": "mock"}, "openai": {"kind": "mock"}})
    doc["models"] += [
        {"name": "b", "provider": "mock"},
        {"name": "c", "provider": "foo"},
        {"name": "d", "provider": "mokc"},
    ]
    problems = problems_of(doc)
    assert "models[2].provider: unknown provider 'foo' (known: mock, openai)" in problems
    assert_problem(problems, "models[3].provider", "unknown provider 'mokc'", "'mock'?")
    assert len(problems) == 2


def test_duplicate_model_names() -> None:
    doc = minimal()
    doc["models"] += [{"name": "x", "provider": "mock"}, {"name": "m", "provider": "mock"}]
    problems = problems_of(doc)
    assert problems == ["models[2].name: duplicate model name 'm' (first defined at models[0])"]


def test_model_field_validation() -> None:
    doc = minimal(
        models=[
            {"provider": "mock"},
            {"name": "", "provider": "mock"},
            {"name": "x"},
            {"name": "y", "provider": "mock", "model": ""},
            "z",
        ]
    )
    problems = problems_of(doc)
    assert_problem(problems, "models[0].name", "field required")
    assert_problem(problems, "models[1].name", "at least 1")
    assert_problem(problems, "models[2].provider", "field required")
    assert_problem(problems, "models[3].model", "at least 1")
    assert_problem(problems, "models[4]", "expected a mapping")


def test_wrong_section_types() -> None:
    problems = problems_of({"server": [], "providers": [], "models": {}})
    assert_problem(problems, "server", "expected a mapping")
    assert_problem(problems, "providers", "expected a mapping")
    assert_problem(problems, "models", "expected a list")


def test_missing_or_empty_providers() -> None:
    assert problems_of({}) == ["providers: at least one provider is required"]
    assert problems_of({"providers": {}}) == ["providers: at least one provider is required"]
    assert problems_of({"providers": None}) == ["providers: at least one provider is required"]
    problems = problems_of({"models": [{"name": "a", "provider": "mock"}]})
    assert "providers: at least one provider is required" in problems
    assert "models[0].provider: unknown provider 'mock' (known: none)" in problems


def test_many_problems_in_one_error() -> None:
    doc = {
        "server": {"port": True, "workers": 1.5, "prot": 1, "host": "${HOST}", "mode": "x"},
        "providers": {
            "mock": {"kind": "mock", "latncy_ms": 1, "status": 700},
            "bad name": {"kind": "mock"},
            "weird": {"kind": "bogus"},
        },
        "models": [
            {"name": "a", "provider": "mock"},
            {"name": "a", "provider": "foo"},
            {"provider": "mock"},
        ],
        "sever": 1,
    }
    with pytest.raises(ConfigError) as info:
        load_config(doc, env={})
    err = info.value
    problems = err.problems
    expected_paths = [
        "server.host",
        "server.port",
        "server.workers",
        "server.prot",
        "server.mode",
        "providers.mock.latncy_ms",
        "providers.mock.status",
        "providers.bad name",
        "providers.weird.kind",
        "models[1].name",
        "models[1].provider",
        "models[2].name",
        "sever",
    ]
    assert len(problems) >= len(expected_paths)
    for path in expected_paths:
        assert_problem(problems, path)
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
