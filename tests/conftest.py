"""Test-wide settings."""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import settings

# CI runs the same examples every time (a failure there is reproducible); locally, hypothesis explores
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def no_warnings():
    """Every numeric function must be silent: any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
