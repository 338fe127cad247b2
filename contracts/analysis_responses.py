"""Response serializers of the red-flag and drill-down endpoints, for the OpenAPI schema
only: the selectors already return JSON-ready data.
"""

from __future__ import annotations

from rest_framework import serializers

from .analysis_serializers import DIMENSIONS
from .responses import ContractRowSerializer, MoneyField, PaginationSerializer
from .selectors.red_flags import SCALES
from .selectors.table_export import EXPORT_TARGETS


class HistogramBinSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    lower = MoneyField()
    upper = MoneyField()
    count = serializers.IntegerField()
    total_amount = MoneyField()


class ThresholdMarkSerializer(serializers.Serializer):
    amount = MoneyField()
    source = serializers.ChoiceField(choices=["round", "configured"])
    band_lower = MoneyField()
    count_just_below = serializers.IntegerField()
    share_just_below = serializers.FloatField(allow_null=True)
    count_at = serializers.IntegerField()
    share_at = serializers.FloatField(allow_null=True)
    count_just_above = serializers.IntegerField()
    share_just_above = serializers.FloatField(allow_null=True)


class ValueDistributionResponseSerializer(serializers.Serializer):
    scale = serializers.ChoiceField(choices=list(SCALES))
    bin_count = serializers.IntegerField()
    count = serializers.IntegerField()
    total_amount = MoneyField()
    min_amount = MoneyField(allow_null=True)
    max_amount = MoneyField(allow_null=True)
    not_binned = serializers.IntegerField(help_text="Zero amounts, which a log scale cannot place.")
    bins = HistogramBinSerializer(many=True)
    band_percent = serializers.CharField()
    thresholds = ThresholdMarkSerializer(many=True)


class DigitRowSerializer(serializers.Serializer):
    digit = serializers.IntegerField()
    observed_count = serializers.IntegerField()
    observed_share = serializers.FloatField()
    expected_count = serializers.FloatField()
    expected_share = serializers.FloatField()


class DigitTestSerializer(serializers.Serializer):
    digits = DigitRowSerializer(many=True)
    mad = serializers.FloatField(allow_null=True)
    conformity = serializers.ChoiceField(
        choices=["close", "acceptable", "marginal", "nonconformity", "too_few"]
    )
    conformity_text = serializers.CharField()
    chi_square = serializers.FloatField(allow_null=True)
    degrees_of_freedom = serializers.IntegerField()
    chi_square_critical_5pct = serializers.FloatField()


class BenfordResponseSerializer(serializers.Serializer):
    sample_size = serializers.IntegerField()
    excluded_small = serializers.IntegerField(help_text="Amounts under PHP 10, left out.")
    minimum_sample = serializers.IntegerField()
    enough_data = serializers.BooleanField()
    first_digit = DigitTestSerializer()
    first_two_digits = DigitTestSerializer()


class RoundingLevelSerializer(serializers.Serializer):
    level = MoneyField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    total_amount = MoneyField()


class TrailingZerosSerializer(serializers.Serializer):
    zeros = serializers.IntegerField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


class LastDigitRowSerializer(serializers.Serializer):
    digit = serializers.IntegerField()
    count = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)
    expected_share = serializers.FloatField()


class LastDigitSerializer(serializers.Serializer):
    sample_size = serializers.IntegerField()
    digits = LastDigitRowSerializer(many=True)
    chi_square = serializers.FloatField(allow_null=True)
    degrees_of_freedom = serializers.IntegerField()
    chi_square_critical_5pct = serializers.FloatField()


class RoundingResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    total_amount = MoneyField()
    levels = RoundingLevelSerializer(many=True)
    trailing_zeros = TrailingZerosSerializer(many=True)
    last_digit = LastDigitSerializer()


class RelatedEntitySerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
    total_amount = MoneyField()


class RelatedEntitiesResponseSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=DIMENSIONS)
    name = serializers.CharField()
    target = serializers.ChoiceField(choices=DIMENSIONS)
    count = serializers.IntegerField(help_text="The entity's contracts under the chips.")
    total_amount = MoneyField()
    related_count = serializers.IntegerField(help_text="How many distinct related entities there are.")
    results = RelatedEntitySerializer(many=True)


class RelatedContractsResponseSerializer(serializers.Serializer):
    results = ContractRowSerializer(many=True)
    pagination = PaginationSerializer()


class ExportEstimateResponseSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=list(EXPORT_TARGETS))
    entity_type = serializers.ChoiceField(choices=DIMENSIONS, allow_null=True)
    rows = serializers.IntegerField()
    approximate_bytes = serializers.IntegerField()
    sampled_rows = serializers.IntegerField()


class TreemapTileSerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
    total_amount = MoneyField()


class TreemapRestSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    total_amount = MoneyField()


class TreemapCategorySerializer(TreemapTileSerializer):
    contractors = TreemapTileSerializer(many=True)
    other = TreemapRestSerializer(help_text="The category's other contractors, summed.")


class OtherCategoriesSerializer(TreemapRestSerializer):
    categories = serializers.IntegerField()


class TreemapResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    total_amount = MoneyField()
    categories = TreemapCategorySerializer(many=True)
    other_categories = OtherCategoriesSerializer()
    without_category = TreemapRestSerializer()


class QuarterSerializer(serializers.Serializer):
    quarter = serializers.IntegerField()
    count = serializers.IntegerField()


class YearRangeSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    count = serializers.IntegerField()
    quarters = QuarterSerializer(many=True)


class TimeRangesResponseSerializer(serializers.Serializer):
    dataset_version = serializers.IntegerField()
    first_award_date = serializers.DateField(allow_null=True)
    last_award_date = serializers.DateField(allow_null=True)
    years = YearRangeSerializer(many=True)
