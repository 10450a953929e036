"""The traceback-filtering switch of ``keras.config``.

Keras trims its own frames from tracebacks of errors raised in user code. cornu's call stacks are short
and it leaves tracebacks whole; the switch is kept so code that toggles it runs unchanged, and it reads
back what was set (on by default, as in Keras).
"""
from __future__ import annotations

_FILTERING = True


def enable_traceback_filtering() -> None:
    """Turn traceback filtering on (the default)."""
    global _FILTERING
    _FILTERING = True


def disable_traceback_filtering() -> None:
    """Turn traceback filtering off (full tracebacks)."""
    global _FILTERING
    _FILTERING = False


def is_traceback_filtering_enabled() -> bool:
    """Whether traceback filtering is on."""
    return _FILTERING
