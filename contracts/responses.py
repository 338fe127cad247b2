"""Response serializers of the chip endpoints, for the OpenAPI schema only: the selectors
already return JSON-ready data, so nothing is serialized through them at run time.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .selectors import ENTITY_TYPES, OPTION_FIELDS


class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    total_count = serializers.IntegerField()
    total_pages = serializers.IntegerField()
    has_next = serializers.BooleanField()
    has_previous = serializers.BooleanField()


@extend_schema_field(OpenApiTypes.STR)
class MoneyField(serializers.CharField):
    """PHP as a decimal string with two places, e.g. "4718239.58"."""


class ContractRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference_id = serializers.CharField()
    title = serializers.CharField()
    notice_title = serializers.CharField()
    contractor = serializers.CharField()
    organization = serializers.CharField()
    area = serializers.CharField(allow_null=True)
    business_category = serializers.CharField(allow_null=True)
    amount = MoneyField()
    award_date = serializers.DateField()
    procurement_mode = serializers.CharField()
    classification = serializers.CharField()
    approved_budget = MoneyField(allow_null=True)


class ContractSearchResponseSerializer(serializers.Serializer):
    results = ContractRowSerializer(many=True)
    pagination = PaginationSerializer()


class SummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    total_amount = MoneyField()
    average_amount = MoneyField(allow_null=True)
    first_award_date = serializers.DateField(allow_null=True)
    last_award_date = serializers.DateField(allow_null=True)


class YearTotalSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    count = serializers.IntegerField()
    total_amount = MoneyField()


class MonthTotalSerializer(serializers.Serializer):
    month = serializers.CharField(help_text='"YYYY-MM", e.g. "2023-06".')
    count = serializers.IntegerField()
    total_amount = MoneyField()


class NamedTotalSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
    total_amount = MoneyField()


class ContractAggregatesResponseSerializer(serializers.Serializer):
    summary = SummarySerializer()
    by_year = YearTotalSerializer(many=True)
    by_month = MonthTotalSerializer(many=True)
    top_contractors = NamedTotalSerializer(many=True)
    top_areas = NamedTotalSerializer(many=True)
    top_organizations = NamedTotalSerializer(many=True)
    top_business_categories = NamedTotalSerializer(many=True)


class EntityRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    contract_count = serializers.IntegerField()
    total_amount = MoneyField()
    average_amount = MoneyField()
    first_award_date = serializers.DateField()
    last_award_date = serializers.DateField()


class EntityTableResponseSerializer(serializers.Serializer):
    entity_type = serializers.ChoiceField(choices=list(ENTITY_TYPES))
    results = EntityRowSerializer(many=True)
    pagination = PaginationSerializer()


class FilterOptionSerializer(serializers.Serializer):
    name = serializers.CharField()


class FilterOptionsResponseSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(OPTION_FIELDS))
    results = FilterOptionSerializer(many=True)
