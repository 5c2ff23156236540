"""ruff keeps formatting and common mistakes out of review (config in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "args", [["check"], ["format", "--check"]], ids=["ruff-check", "ruff-format"]
)
def test_ruff(args: list[str]) -> None:
    pytest.importorskip("ruff")
    paths = ["python/aigw", "bench/harness", "bench/run", "examples"]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *args, *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
