"""The config schema behind :mod:`aigw.config` (its public face), one module per section, plus
where documents come from and the embedded default's core document.

This file imports nothing: ``defaults`` and ``log_defaults`` are read at every start without
the validator (pydantic), which must not come in through the package."""
