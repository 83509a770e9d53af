"""A cheaper table for tests about one organisation's own data (`region` builds six members)."""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Org, make_org, make_table


@dataclass
class SmallRegion:
    """One table covering GM0344 and GM0307, chaired by a municipality, with one care provider
    and one housing corporation as members."""

    table_id: str
    chair: Org
    care_provider: Org
    corporation: Org


@pytest.fixture
def small_region(client: TestClient) -> SmallRegion:
    chair = make_org(client, "municipality")
    care_provider = make_org(client, "care_provider")
    corporation = make_org(client, "housing_corporation")
    table_id = make_table(client, chair, [care_provider, corporation], ["GM0344", "GM0307"])
    return SmallRegion(table_id, chair, care_provider, corporation)
