"""Fixtures for the monitor tests."""

import pytest
from fastapi.testclient import TestClient

from tests.monitor.history import ensure_limits


@pytest.fixture
def limits(client: TestClient) -> None:
    """Limits for every year the tests' histories reach."""
    ensure_limits(client)
