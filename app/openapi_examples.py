"""An example for every request body of the contract, keyed by the body's schema name.

Fixed values (the contract must come out the same on every day it is generated), valid against
their schemas (the NL API Design Rules linter checks them: `oas3-valid-media-example`). Ids are
made-up UUIDv7s; dates are examples, not defaults. The yearly limits' example is the latest
year the package ships (app/data/limits.json), so it is a real one.
"""

import json
from pathlib import Path
from typing import Any

TABLE = "01935f3a-7c00-7000-8000-000000000001"
MUNICIPALITY = "01935f3a-7c00-7000-8000-000000000002"
CARE_PROVIDER = "01935f3a-7c00-7000-8000-000000000003"
CORPORATION = "01935f3a-7c00-7000-8000-000000000004"
CASE = "01935f3a-7c00-7000-8000-000000000005"
MEETING = "01935f3a-7c00-7000-8000-000000000006"

CASE_EXAMPLE: dict[str, Any] = {
    "external_ref": "K-2026-0042",
    "table_id": TABLE,
    "facility": "beschermd_wonen",
    "ready_since": "2026-03-01",
    "birth_year": 1990,
    "household": {"adults": 1, "children": 0},
    "income": {
        "source": "participatiewet",
        "annual_taxable": "16250.00",
        "net_monthly": "1180.50",
        "stable": True,
        "budget_management": "none",
    },
    "registration_date": "2022-01-10",
    "beschikking": {"status": "granted", "valid_until": "2027-12-31"},
    "support": {"intensity": "moderate", "needs_complex_manager": False},
    "urgency": False,
    "needs": {"wheelchair": False, "step_free": False, "max_floor": None, "pets": False},
    "areas": {"preferred": ["GM0344"], "excluded": []},
    "contract_form": "either",
}

VACANCY_EXAMPLE: dict[str, Any] = {
    "external_ref": "V-2026-0815",
    "address": {
        "street": "Kastanjelaan",
        "house_number": "12A",
        "postcode": "3512AB",
        "municipality_code": "GM0344",
        "neighbourhood_code": "BU03440101",
    },
    "complex_ref": "CPX-1",
    "dwelling_type": "apartment",
    "rooms": 2,
    "floor": 1,
    "has_lift": True,
    "wheelchair_accessible": False,
    "rent": {"base": "650.00", "eligible_service_costs": "35.00"},
    "available_from": "2026-12-15",
    "respond_before": "2026-12-08",
    "contingent": True,
    "complex_manager": False,
    "pets_allowed": True,
    "min_age": None,
    "contract_forms": ["own_lease"],
}


def _latest_limits() -> dict[str, Any]:
    shipped = json.loads((Path(__file__).resolve().parent / "data" / "limits.json").read_text())
    latest = max(shipped["years"], key=lambda year: year["year"])
    return {k: v for k, v in latest.items() if k != "year"}


def request_examples() -> dict[str, Any]:
    """Schema name -> an example body. Not for the vacancy bodies (`VacancyIn`, `VacancyBatch`,
    shown in the README and as `VACANCY_EXAMPLE` here): the linter's rule
    `nlgov:problem-invalid-input` takes every key under `paths` matching `post`, `put` or `patch`
    for an operation, so the required `postcode` in an example fails it (a bug of the ruleset's
    unanchored pattern; the rule is about operations)."""
    return {
        "OrganisationCreate": {"name": "Gemeente Amersfoort", "kind": "municipality"},
        "ApiKeyCreate": {"label": "Koppeling zaaksysteem"},
        "TableCreate": {
            "name": "Uitstroomtafel Amersfoort",
            "municipality_codes": ["GM0307"],
            "chair_organisation_id": MUNICIPALITY,
            "member_organisation_ids": [CARE_PROVIDER, CORPORATION],
        },
        "TableUpdate": {"member_organisation_ids": [CARE_PROVIDER, CORPORATION]},
        "CaseCreate": CASE_EXAMPLE,
        "CaseUpdate": {"status": "on_hold", "status_reason": "temporarily_unreachable"},
        "YearLimitsFields": _latest_limits(),
        "MeetingCreate": {"date": "2026-12-07"},
        "DecisionCreate": {"decision": "corporation_decline", "reason": "income_insufficient"},
        "ActionCreate": {
            "kind": "request_beschikking",
            "owner_organisation_id": CARE_PROVIDER,
            "due_date": "2026-12-14",
            "case_id": CASE,
            "meeting_id": MEETING,
        },
        "ActionUpdate": {"status": "done"},
        "AgreementWrite": {
            "support_intensity": "moderate",
            "support_organisation_id": CARE_PROVIDER,
            "contact_frequency": "fortnightly",
            "starts_on": "2026-12-01",
            "planned_end_on": "2027-12-01",
            "action_signals": ["rent_arrears", "nuisance", "needs_table"],
        },
        "CheckpointCreate": {
            "months": 3,
            "recorded_on": "2026-11-27",
            "still_living_there": True,
            "support_active": True,
            "signals": ["rent_arrears"],
        },
        "TenancyUpdate": {"ended_on": "2026-11-27", "end_reason": "moved_on"},
        "ContingentAgreementIn": {"agreed": 12},
        "WebhookEndpointCreate": {
            "url": "https://zaaksysteem.example.nl/uitstroomtafel/events",
            "events": ["agenda.published", "action.assigned"],
            "description": "Zaaksysteem",
        },
        "WebhookEndpointUpdate": {"active": False},
        "WebhookSecretRotation": {"previous_secret_hours": 24},
        "PersonCreate": {
            "email": "j.jansen@example.nl",
            "display_name": "J. Jansen",
            "role": "member",
            "is_admin": False,
        },
        "PersonUpdate": {"role": "viewer"},
        "NoticePreferencesUpdate": {
            "agenda_published": True,
            "actions": True,
            "proposals": False,
            "digest": True,
        },
        "AreaNameIn": {"name": "Lombok-West"},
    }
