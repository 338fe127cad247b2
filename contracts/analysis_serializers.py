"""Request serializers of the red-flag and drill-down endpoints (and of their job kinds).

They share the chip filters and their validation (``FilteredRequestSerializer``); the
responses are in ``analysis_responses``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from .entities import BY_KEY
from .selectors.entities import ENTITY_ORDERINGS
from .selectors.red_flags import DEFAULT_BAND_PERCENT, MAX_BINS, SCALES
from .selectors.search import CONTRACT_ORDERINGS
from .selectors.table_export import EXPORT_TARGETS
from .selectors.treemap import MAX_CATEGORIES, MAX_CONTRACTORS
from .serializers import (
    DEFAULT_PAGE_SIZE,
    MAX_NAME_LENGTH,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    FilteredRequestSerializer,
    StrictCharField,
    StrictIntegerField,
    _signed,
)

DIMENSIONS = list(BY_KEY)
CONTRACT_ORDERING_CHOICES = _signed(CONTRACT_ORDERINGS)
ENTITY_ORDERING_CHOICES = _signed(ENTITY_ORDERINGS)
MAX_BAND_PERCENT = Decimal(25)


class AnalysisRequestSerializer(FilteredRequestSerializer):
    """``{"filters": {...}, <the analysis's own fields>}`` → the selector's keyword arguments
    (paging inside ``filters`` is ignored: an analysis has no pages)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        return {name: values[name] for name in self.fields if name in values}


class ValueDistributionRequestSerializer(AnalysisRequestSerializer):
    bins = StrictIntegerField(min_value=1, max_value=MAX_BINS, default=50)
    scale = serializers.ChoiceField(choices=list(SCALES), default="linear")
    band_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_BAND_PERCENT,
        default=DEFAULT_BAND_PERCENT,
        help_text="Width of the bands just below and just above each threshold, in percent of it.",
    )


class DigitsRequestSerializer(AnalysisRequestSerializer):
    """Benford and rounding take the chip filters only."""


class _PairMixin:
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["dimension"] == attrs["target"]:
            raise serializers.ValidationError({"target": ["Must differ from dimension."]})
        return attrs


def _name_field(**kwargs: Any) -> StrictCharField:
    return StrictCharField(max_length=MAX_NAME_LENGTH, trim_whitespace=True, **kwargs)


class RelatedEntitiesRequestSerializer(_PairMixin, AnalysisRequestSerializer):
    dimension = serializers.ChoiceField(choices=DIMENSIONS, help_text="The entity's dimension.")
    name = _name_field(help_text="The entity's name (matched as chips match: case and spacing aside).")
    target = serializers.ChoiceField(choices=DIMENSIONS, help_text="The dimension of the related entities.")
    top_n = StrictIntegerField(min_value=1, max_value=50, default=10)


class RelatedContractsRequestSerializer(_PairMixin, AnalysisRequestSerializer):
    """page / page_size at the top level, or inside ``filters`` (as search takes them)."""

    dimension = serializers.ChoiceField(choices=DIMENSIONS)
    name = _name_field()
    target = serializers.ChoiceField(choices=DIMENSIONS)
    target_name = _name_field()
    page = StrictIntegerField(min_value=1, max_value=MAX_PAGE, required=False)
    page_size = StrictIntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)
    ordering = serializers.ChoiceField(choices=CONTRACT_ORDERING_CHOICES, default="-award_date")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        paging = self.filters_paging()
        values["page"] = values.get("page", paging.get("page", 1))
        values["page_size"] = values.get("page_size", paging.get("page_size", DEFAULT_PAGE_SIZE))
        return values


class TreemapRequestSerializer(AnalysisRequestSerializer):
    categories = StrictIntegerField(min_value=1, max_value=MAX_CATEGORIES, default=12)
    contractors = StrictIntegerField(
        min_value=1, max_value=MAX_CONTRACTORS, default=8, help_text="Contractors shown per category."
    )


class EntityExportRequestSerializer(AnalysisRequestSerializer):
    entity_type = serializers.ChoiceField(choices=DIMENSIONS)
    ordering = serializers.ChoiceField(choices=ENTITY_ORDERING_CHOICES, default="-total_amount")


class ExportEstimateRequestSerializer(AnalysisRequestSerializer):
    target = serializers.ChoiceField(choices=list(EXPORT_TARGETS), default="contracts")
    entity_type = serializers.ChoiceField(choices=DIMENSIONS, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("target") == "entity_table" and not attrs.get("entity_type"):
            raise serializers.ValidationError({"entity_type": ["Required for the entity table."]})
        return attrs
