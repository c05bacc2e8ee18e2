"""Option checks shared by layers, models and data code, with Keras's error wording.

Every check returns the value (converted) or raises ``ValueError`` saying what was
expected and what was received, e.g.
``Received an invalid value for num_heads, expected a positive integer. Received: num_heads=0``.
"""

from __future__ import annotations

from typing import Any


def invalid(name: str, expected: str, value: Any) -> ValueError:
    """The error for option `name` whose `value` is not `expected`."""
    return ValueError(
        f"Received an invalid value for {name}, expected {expected}. Received: {name}={value!r}"
    )


def positive_int(name: str, value: Any) -> int:
    """`value` if it is an integer > 0 (booleans are not integers here)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise invalid(name, "a positive integer", value)
    return value


def rate(name: str, value: Any) -> float:
    """`value` as a float if it is a rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
        raise invalid(name, "a rate in [0, 1)", value)
    return float(value)


def positive(name: str, value: Any) -> float:
    """`value` as a float if it is a number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise invalid(name, "a number > 0", value)
    return float(value)
