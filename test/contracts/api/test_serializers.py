"""The request serializers as the async job API will use them: validated_data is selector kwargs."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from contracts.filters import ContractFilters, DateRange
from contracts.serializers import (
    ChipAggregatesRequestSerializer,
    ChipSearchRequestSerializer,
    EntityTableRequestSerializer,
    FilterOptionsQuerySerializer,
    FiltersSerializer,
)

FILTERS = {
    "contractors": ["ABC Corp"],
    "keywords": ["road", "bridge"],
    "time_ranges": [
        "2021",
        2022,
        {"start": "2020-01-05", "end": "2020-02-05"},
        {"type": "yearly", "year": 2019},
        {"type": "quarterly", "year": 2024, "quarter": 1},
        {"type": "custom", "startDate": "2018-03-01", "endDate": "2018-03-31"},
    ],
    "value_range": {"min": "10.5", "max": 2000},
    "page": 3,
    "page_size": 7,
}


def valid(serializer_class, data):
    serializer = serializer_class(data=data)
    assert serializer.is_valid(), serializer.errors
    return serializer.validated_data


def test_search_request_lifts_paging_out_of_filters():
    data = valid(ChipSearchRequestSerializer, {"filters": FILTERS, "ordering": "amount"})

    assert data == {
        "filters": ContractFilters(
            contractors=("ABC Corp",),
            keywords=("road", "bridge"),
            time_ranges=(
                DateRange(dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
                DateRange(dt.date(2022, 1, 1), dt.date(2022, 12, 31)),
                DateRange(dt.date(2020, 1, 5), dt.date(2020, 2, 5)),
                DateRange(dt.date(2019, 1, 1), dt.date(2019, 12, 31)),
                DateRange(dt.date(2024, 1, 1), dt.date(2024, 3, 31)),
                DateRange(dt.date(2018, 3, 1), dt.date(2018, 3, 31)),
            ),
            min_amount=Decimal("10.50"),
            max_amount=Decimal("2000"),
        ),
        "page": 3,
        "page_size": 7,
        "ordering": "amount",
    }


def test_defaults():
    assert valid(ChipSearchRequestSerializer, {}) == {
        "filters": ContractFilters(),
        "page": 1,
        "page_size": 20,
        "ordering": "-award_date",
    }
    assert valid(ChipAggregatesRequestSerializer, {"filters": {"page": 2}}) == {
        "filters": ContractFilters(),
        "top_n": 10,
    }
    assert valid(EntityTableRequestSerializer, {"entity_type": "area"}) == {
        "filters": ContractFilters(),
        "entity_type": "area",
        "page": 1,
        "page_size": 20,
        "ordering": "-total_amount",
    }
    assert valid(FilterOptionsQuerySerializer, {"field": "areas"}) == {"field": "areas", "q": "", "limit": 20}


def test_leap_quarter_ends_on_the_last_day():
    data = valid(FiltersSerializer, {"time_ranges": [{"type": "quarterly", "year": 2024, "quarter": 4}]})
    assert data.time_ranges == (DateRange(dt.date(2024, 10, 1), dt.date(2024, 12, 31)),)


def test_filters_round_trip_through_json():
    filters = valid(ChipSearchRequestSerializer, {"filters": FILTERS})["filters"]

    again = valid(FiltersSerializer, json.loads(json.dumps(FiltersSerializer(filters).data)))

    assert again == filters
