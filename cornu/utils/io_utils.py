"""Interactive logging: whether progress bars and summaries print to stdout (``keras.config``'s switch).

When disabled, the same messages go to the ``logging`` module (logger ``"cornu"``), as Keras sends them to
absl logging: useful for jobs whose stdout is not a terminal that anyone watches.
"""
from __future__ import annotations

import logging
import sys

_INTERACTIVE = True


def enable_interactive_logging() -> None:
    """Print progress bars and summaries to stdout (the default)."""
    global _INTERACTIVE
    _INTERACTIVE = True


def disable_interactive_logging() -> None:
    """Send progress and summary lines to ``logging.getLogger("cornu")`` instead of stdout."""
    global _INTERACTIVE
    _INTERACTIVE = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress and summary output goes to stdout."""
    return _INTERACTIVE


def print_msg(message: str, line_break: bool = True) -> None:
    """Write ``message`` to stdout when interactive logging is on, else log it at INFO level."""
    if _INTERACTIVE:
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        logging.getLogger("cornu").info(message)
