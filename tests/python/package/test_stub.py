"""The hand-written stub aigw/_core.pyi must match the native module (mypy stubtest)."""

import subprocess
import sys
from pathlib import Path

import pytest


def test_core_stub_matches_native_module() -> None:
    pytest.importorskip("mypy")
    allowlist = Path(__file__).with_name("stubtest_allowlist.txt")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "aigw._core", "--allowlist", str(allowlist)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_ships_stub_and_py_typed() -> None:
    import aigw

    root = Path(aigw.__file__).parent
    assert (root / "_core.pyi").is_file()
    assert (root / "py.typed").is_file()
