"""Fixtures of the data tests: the tiny schema of `tiny_graphs`."""

from __future__ import annotations

import pytest
import tensorflow_gnn as tfgnn
from google.protobuf import text_format

from tests.data.tiny_graphs import TINY_SCHEMA


@pytest.fixture
def tiny_schema() -> tfgnn.GraphSchema:
    return text_format.Parse(TINY_SCHEMA, tfgnn.GraphSchema())
