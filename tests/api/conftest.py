"""A cheaper table for tests about one organisation's own data (`region` builds six members)."""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.conftest import Org, seed_org, seed_table


@dataclass
class SmallRegion:
    """One table covering GM0344 and GM0307, chaired by a municipality, with one care provider
    and one housing corporation as members."""

    table_id: str
    chair: Org
    care_provider: Org
    corporation: Org


@pytest.fixture
def small_region(client: TestClient, session: Session) -> SmallRegion:
    chair = seed_org(session, "municipality")
    care_provider = seed_org(session, "care_provider")
    corporation = seed_org(session, "housing_corporation")
    table_id = seed_table(session, chair, [care_provider, corporation], ["GM0344", "GM0307"])
    return SmallRegion(table_id, chair, care_provider, corporation)
