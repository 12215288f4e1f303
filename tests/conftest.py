"""Shared fixtures."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

# every test run builds its kernel tables and generated code afresh: a cache left by an
# older version of the code must never make a test pass (set before any test imports)
os.environ["REPLICASOLVE_CACHE_DIR"] = tempfile.mkdtemp(prefix="replicasolve-test-cache-")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
