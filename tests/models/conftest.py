"""Fixtures shared by the model tests."""

from __future__ import annotations

import pytest

from tests import helpers


@pytest.fixture
def assert_config_round_trip():
    """The shared config round-trip check of `tests.helpers`, as a fixture."""
    return helpers.assert_config_round_trip
