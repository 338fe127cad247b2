"""Fixtures shared by every test: a cast of users (alice, bob), API clients, factories.

`test/` is not a package (it would shadow the standard library's `test`), so shared
helpers live here as fixtures rather than in importable modules.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts.models import Area, BusinessCategory, Contract, Contractor, Organization


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    reference_id = factory.Sequence(lambda n: f"AW-{n:08d}")
    title = factory.Sequence(lambda n: f"Supply and delivery of item {n}")
    contractor = factory.LazyFunction(lambda: Contractor.objects.get_or_create(name="ACME BUILDERS")[0])
    organization = factory.LazyFunction(
        lambda: Organization.objects.get_or_create(name="DEPARTMENT OF PUBLIC WORKS")[0]
    )
    area = factory.LazyFunction(lambda: Area.objects.get_or_create(name="Metro Manila")[0])
    business_category = factory.LazyFunction(
        lambda: BusinessCategory.objects.get_or_create(name="Construction Projects")[0]
    )
    amount = Decimal("100000.00")
    award_date = dt.date(2023, 6, 15)


@pytest.fixture
def make_contract(db):
    """Create a contract; entity names may be given as plain strings."""

    def make(**kwargs) -> Contract:
        for field, model in (
            ("contractor", Contractor),
            ("organization", Organization),
            ("area", Area),
            ("business_category", BusinessCategory),
        ):
            if isinstance(kwargs.get(field), str):
                kwargs[field] = model.objects.get_or_create(name=kwargs[field])[0]
        if isinstance(kwargs.get("award_date"), str):
            kwargs["award_date"] = dt.date.fromisoformat(kwargs["award_date"])
        if "amount" in kwargs:
            kwargs["amount"] = Decimal(str(kwargs["amount"]))
        return ContractFactory(**kwargs)

    return make


def _user(django_user_model, username: str):
    user = django_user_model.objects.create_user(username=username, password=f"{username}-password")
    Token.objects.create(user=user)
    return user


@pytest.fixture
def alice(django_user_model):
    return _user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model):
    return _user(django_user_model, "bob")


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_client(alice) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.auth_token.key}")
    return client


@pytest.fixture
def bob_client(bob) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {bob.auth_token.key}")
    return client
