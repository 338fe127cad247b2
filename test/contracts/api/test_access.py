"""Who may call the chip endpoints, and the OpenAPI schema that documents them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contracts.models import Contract

POSTS = [
    (reverse("chip-search"), {"filters": {}}),
    (reverse("chip-aggregates"), {"filters": {}}),
    (reverse("chip-aggregates-paginated"), {"filters": {}, "entity_type": "area"}),
]
OPTIONS = reverse("filter-options")


def call(client, url, body):
    if body is None:
        return client.get(url, {"field": "areas"})
    return client.post(url, body, format="json")


ENDPOINTS = [*POSTS, (OPTIONS, None)]
IDS = ["search", "aggregates", "table", "options"]


@pytest.mark.parametrize(("url", "body"), ENDPOINTS, ids=IDS)
def test_it_requires_authentication(anon_client, db, url, body):
    response = call(anon_client, url, body)
    assert response.status_code == 401
    assert response.json()["status"] == "error"
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("url", "body"), ENDPOINTS, ids=IDS)
def test_it_refuses_an_unknown_token(anon_client, db, url, body):
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")
    response = call(anon_client, url, body)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize(("url", "body"), ENDPOINTS, ids=IDS)
def test_it_accepts_bearer_and_token_keywords(alice_client, bob_client, make_contract, url, body):
    make_contract(area="Metro Manila")
    assert call(alice_client, url, body).status_code == 200  # Bearer
    assert call(bob_client, url, body).status_code == 200  # Token


def test_it_accepts_a_session(client, alice, make_contract):
    make_contract()
    client.force_login(alice)
    response = client.post(POSTS[0][0], {"filters": {}}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["pagination"]["total_count"] == Contract.objects.count()


def test_the_schema_documents_the_chip_endpoints(anon_client, db):
    response = anon_client.get(reverse("schema"))
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("chip-search/", "chip-aggregates/", "chip-aggregates-paginated/", "filter-options/"):
        assert f"/api/v1/contracts/{path}:" in text
    for component in (
        "ChipSearchRequest",
        "ContractSearchResponse",
        "EntityTableRequest",
        "FilterOptionsResponse",
    ):
        assert component in text
