from tests.conftest import create_case


def test_care_provider_creates_and_reads_its_case(client, region):
    case = create_case(client, region.care_provider, region.table_id)
    response = client.get(f"/v1/cases/{case['id']}", headers=region.care_provider.headers)
    assert response.status_code == 200
    assert response.json()["external_ref"] == case["external_ref"]
    # The version and a digest of what the read shows (its status counts from today).
    assert response.headers["ETag"].startswith('"1-')
