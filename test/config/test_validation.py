"""A kept serializer (config/validation.py) answers every body as a fresh one would."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rest_framework import serializers

from config.validation import validated_data
from contracts.analysis_apis import SelectorApi
from contracts.serializers import (
    ChipAggregatesRequestSerializer,
    ChipSearchRequestSerializer,
    EntityTableRequestSerializer,
)
from data_processing.registry import job_kinds

FILTERS = {
    "contractors": ["ABC Corp"],
    "keywords": ["road"],
    "time_ranges": ["2021", {"type": "quarterly", "year": 2024, "quarter": 1}],
    "value_range": {"min": "10.5", "max": 2000},
    "page": 3,
    "page_size": 7,
}

# Valid and invalid bodies in an order where state left by one would show in the next: paging
# inside filters, then none; an error half-way through a body, then a good one.
BODIES: list[Any] = [
    {"filters": FILTERS, "entity_type": "contractor", "top_n": 5, "ordering": "-amount"},
    {},
    {"filters": {"page": 2}, "entity_type": "area", "page": 4, "page_size": 9},
    {"entity_type": "contractor"},
    {"filters": {"areas": ["Metro Manila"], "page": "x"}},
    {"filters": {"keywords": ["bridge"]}},
    {"filters": {"contractor": ["typo"]}},
    {"filters": FILTERS, "unknown": 1},
    {"filters": {"time_ranges": [{"start": "2021-02-30", "end": "2021-03-01"}]}},
    {"filters": {"value_range": {"min": 5, "max": 1}}},
    {"filters": {"keywords": ["x"] * 51}},
    {"filters": None},
    None,
    [],
    "text",
    {"filters": {"organizations": ["DPWH"]}, "bins": 10, "scale": "log", "entity_type": "organization"},
    {"top_n": 0},
    {"top_n": True},
    {"filters": {"page_size": 500}},
    {"filters": {}},
    {"dimension": "contractor", "name": "ABC Corp", "target": "area", "filters": {"page": 3}},
    {"dimension": "contractor", "name": "ABC Corp", "target": "area", "target_name": "Metro Manila"},
    {"dimension": "contractor", "name": "ABC", "target": "area", "target_name": "X", "filters": {"page": 3}},
    {"dimension": "contractor", "name": "ABC", "target": "area", "target_name": "X", "page": 2},
    {"dimension": "contractor", "name": "ABC", "target": "area", "target_name": "X"},
]


def serializer_classes() -> list[type[serializers.Serializer]]:
    classes = {spec.request_serializer for spec in job_kinds()}
    classes |= {ChipSearchRequestSerializer, ChipAggregatesRequestSerializer, EntityTableRequestSerializer}
    classes |= {view.request_serializer for view in SelectorApi.__subclasses__()}
    return sorted(classes, key=lambda cls: cls.__name__)


def bodies_for(serializer_class: type[serializers.Serializer]) -> list[Any]:
    warm = [
        payload
        for spec in job_kinds()
        if spec.request_serializer is serializer_class
        for payload in spec.warm_payloads
    ]
    return BODIES + warm


def fresh_outcome(serializer_class: type[serializers.Serializer], body: Any) -> tuple[str, Any]:
    serializer = serializer_class(data=body)
    try:
        serializer.is_valid(raise_exception=True)
    except serializers.ValidationError as exc:
        return "invalid", exc.detail
    return "valid", dict(serializer.validated_data)


def kept_outcome(serializer_class: type[serializers.Serializer], body: Any) -> tuple[str, Any]:
    try:
        return "valid", validated_data(serializer_class, body)
    except serializers.ValidationError as exc:
        return "invalid", exc.detail


@pytest.mark.parametrize("serializer_class", serializer_classes(), ids=lambda cls: cls.__name__)
def test_a_kept_serializer_answers_each_body_as_a_fresh_one(serializer_class):
    outcomes = [fresh_outcome(serializer_class, body) for body in bodies_for(serializer_class)]
    assert {kind for kind, _ in outcomes} == {"valid", "invalid"}, "the bodies must try both paths"
    for _ in range(2):  # the second pass meets the serializer the first one left behind
        for body, expected in zip(bodies_for(serializer_class), outcomes, strict=True):
            assert kept_outcome(serializer_class, body) == expected, body


def test_a_body_without_filters_does_not_page_as_the_one_before():
    paged = validated_data(ChipSearchRequestSerializer, {"filters": {"page": 5, "page_size": 3}})
    assert (paged["page"], paged["page_size"]) == (5, 3)
    plain = validated_data(ChipSearchRequestSerializer, {})
    assert (plain["page"], plain["page_size"]) == (1, 20)


def test_each_thread_validates_with_its_own_serializer():
    """Two threads validating at once must not read each other's paging: each keeps its own."""
    errors: list[str] = []
    start = threading.Barrier(2)

    def validate(page: int) -> None:
        start.wait()
        for _ in range(300):
            with_paging = validated_data(ChipSearchRequestSerializer, {"filters": {"page": page}})
            without = validated_data(ChipSearchRequestSerializer, {"ordering": "amount"})
            if with_paging["page"] != page or without["page"] != 1:
                errors.append(f"thread of page {page} read {with_paging['page']}, {without['page']}")

    threads = [threading.Thread(target=validate, args=(page,)) for page in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
