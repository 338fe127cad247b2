"""Request serializers of the chip endpoints (reused by the async job kinds): validated_data
is the selectors' keyword arguments. The responses are documented in ``contracts.responses``.

Input is strict: an unknown field at any level, a wrong type or an absurd size is a 400
naming the field (``filters.time_ranges.0.start``), never a silently ignored chip.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .entities import ENTITIES
from .filters import PLACE_CHIPS, ContractFilters, DateRange
from .selectors import CONTRACT_ORDERINGS, ENTITY_ORDERINGS, ENTITY_TYPES, OPTION_FIELDS

MAX_LIST_ITEMS = 50
# A name chip holds any value the data holds, a whole delivery list included (the real
# exports' longest Area of Delivery runs to 819 characters); the body limit bounds the total.
MAX_NAME_LENGTH = 2_000
MAX_KEYWORD_LENGTH = 200
MAX_OPTIONS_QUERY_LENGTH = 100
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# OFFSET beyond this is no real user's page and only risks arithmetic overflow in SQL.
MAX_PAGE = 1_000_000
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_AMOUNT_DIGITS = 18


def _signed(names: tuple[str, ...]) -> list[str]:
    return [prefix + name for name in names for prefix in ("", "-")]


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo ("contractor") is a 400, not an empty chip."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class QueryStringSerializer(serializers.Serializer):
    """Reads a query string. A parameter given empty (``?state=``) is validated as the value
    it is: DRF reads an empty form field that is not required as omitted, so ``?state=`` had
    listed every state and ``?page_size=`` had meant 20, where the schema (a state is one of
    its choices, a page size a number) says neither is valid."""

    def to_internal_value(self, data: Any) -> Any:
        given = data if isinstance(data, Mapping) else {}
        given_empty = [name for name in self.fields if given.get(name) == ""]
        errors = {}
        for name in given_empty:
            try:
                self.fields[name].run_validation("")
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers instead of quietly turning 42 into "42"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An IntegerField that refuses booleans, floats and strings like "2.0"; digits as text are fine."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("invalid")
        if isinstance(data, str) and not re.fullmatch(r"\s*-?\d{1,12}\s*", data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes JSON's true and false only, not 1, "yes" or "off"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class BoundedListField(serializers.ListField):
    """A ListField that checks its length *before* validating every item of a huge list."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if (
            self.max_length is not None
            and not isinstance(data, (str, Mapping))
            and hasattr(data, "__len__")
            and len(data) > self.max_length
        ):
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


def _names_field(max_length: int = MAX_NAME_LENGTH) -> BoundedListField:
    return BoundedListField(
        child=StrictCharField(max_length=max_length),
        max_length=MAX_LIST_ITEMS,
        required=False,
    )


# --- Time ranges -------------------------------------------------------------------------------

# A year as the API takes it: a number, or its four digits as text (surrounding whitespace is
# trimmed), from MIN_YEAR to MAX_YEAR.
_YEAR_NUMBER = {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR}
_YEAR_TEXT = {
    "type": "string",
    "pattern": rf"^\s*({'|'.join(str(year) for year in range(MIN_YEAR, MAX_YEAR + 1))})\s*$",
}
_YEAR = {"oneOf": [_YEAR_NUMBER, _YEAR_TEXT]}
_QUARTERS = (1, 2, 3, 4, "1", "2", "3", "4")
_QUARTER = {"oneOf": [{"type": "integer", "minimum": 1, "maximum": 4}, {"enum": ["1", "2", "3", "4"]}]}

_TIME_RANGE_SCHEMA = {
    "oneOf": [
        {**_YEAR_TEXT, "description": "A whole year.", "example": "2023"},
        {**_YEAR_NUMBER, "description": "A whole year."},
        {
            "type": "object",
            "properties": {
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
            },
            "required": ["start", "end"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"type": {"enum": ["yearly"]}, "year": _YEAR},
            "required": ["type", "year"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "type": {"enum": ["quarterly"]},
                "year": _YEAR,
                "quarter": _QUARTER,
            },
            "required": ["type", "year", "quarter"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {
                "type": {"enum": ["custom"]},
                "startDate": {"type": "string", "format": "date"},
                "endDate": {"type": "string", "format": "date"},
            },
            "required": ["type", "startDate", "endDate"],
            "additionalProperties": False,
        },
    ]
}

# The keys each dict shape of a time range takes, besides "type".
_TIME_RANGE_KEYS = {
    None: ("start", "end"),
    "yearly": ("year",),
    "quarterly": ("year", "quarter"),
    "custom": ("startDate", "endDate"),
}


_TIME_RANGE_HELP = (
    'Expected {"start": date, "end": date}, a year such as "2023", or '
    '{"type": "yearly" | "quarterly" | "custom", ...}.'
)


@extend_schema_field(_TIME_RANGE_SCHEMA)
class TimeRangeField(serializers.Field):
    """Every time-range shape the frontends send, normalised to one inclusive DateRange."""

    def to_representation(self, value: DateRange) -> dict[str, str]:
        return {"start": value.start.isoformat(), "end": value.end.isoformat()}

    def to_internal_value(self, data: Any) -> DateRange:
        if isinstance(data, Mapping):
            return _dict_range(data)
        return _year_range(_year(data, _TIME_RANGE_HELP))


def _year(value: Any, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise serializers.ValidationError(message)
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}", value.strip()):
            raise serializers.ValidationError(message)
        value = int(value)
    if not MIN_YEAR <= value <= MAX_YEAR:
        raise serializers.ValidationError(f"Year must be between {MIN_YEAR} and {MAX_YEAR}.")
    return value


def _year_range(year: int) -> DateRange:
    return DateRange(dt.date(year, 1, 1), dt.date(year, 12, 31))


def _date(value: Any) -> dt.date:
    """An ISO date; an ISO date-time (what a JS Date serialises to) counts as its date."""
    if isinstance(value, str) and len(value) <= 40:
        text = value.strip()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
        if len(text) > 10 and text[10] in "T ":
            try:
                return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            except ValueError:
                pass
    raise serializers.ValidationError("Expected a date as YYYY-MM-DD.")


def _dict_range(data: Mapping[str, Any]) -> DateRange:
    kind = data.get("type")
    if kind is not None and (not isinstance(kind, str) or kind not in _TIME_RANGE_KEYS):
        raise serializers.ValidationError({"type": ['Must be "yearly", "quarterly" or "custom".']})
    keys = _TIME_RANGE_KEYS[kind]
    errors: dict[str, list[str]] = {}
    for key in data:
        if key != "type" and key not in keys:
            errors[str(key)] = ["Unknown field."]
    for key in keys:
        if key not in data:
            errors[key] = ["This field is required."]
    if errors:
        raise serializers.ValidationError(errors)

    values: dict[str, Any] = {}
    for key in keys:
        try:
            if key == "year":
                values[key] = _year(data[key], "Expected a year such as 2023.")
            elif key == "quarter":
                quarter = data[key]
                # Its type first: 2.0 and True are in _QUARTERS as Python compares, and a
                # quarter is a whole number, as a year is.
                if type(quarter) not in (int, str) or quarter not in _QUARTERS:
                    raise serializers.ValidationError("Quarter must be 1, 2, 3 or 4.")
                values[key] = int(quarter)
            else:
                values[key] = _date(data[key])
        except serializers.ValidationError as exc:
            errors[key] = exc.detail  # type: ignore[assignment]
    if errors:
        raise serializers.ValidationError(errors)

    if kind == "yearly":
        return _year_range(values["year"])
    if kind == "quarterly":
        year, last_month = values["year"], 3 * values["quarter"]
        last_day = calendar.monthrange(year, last_month)[1]
        return DateRange(dt.date(year, last_month - 2, 1), dt.date(year, last_month, last_day))
    start_key, end_key = keys
    start, end = values[start_key], values[end_key]
    if start > end:
        raise serializers.ValidationError(f"{start_key} must not be after {end_key}.")
    return DateRange(start, end)


# --- Filters -------------------------------------------------------------------------------------


def _amount_field() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MAX_AMOUNT_DIGITS,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
    )


class ValueRangeSerializer(StrictSerializer):
    min = _amount_field()
    max = _amount_field()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("min"), attrs.get("max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min": ["Must not be greater than max."]})
        return attrs


# One list of names per entity (contracts/entities.py), declared once on a base class. Built in
# ``get_fields`` they were built anew for every request: a tenth of a submit's CPU (py-spy).
_EntityChipsSerializer = serializers.SerializerMetaclass(
    "_EntityChipsSerializer",
    (StrictSerializer,),
    {
        "__module__": __name__,
        **{entity.chip: _names_field() for entity in ENTITIES},
        **{chip: _names_field() for chip in PLACE_CHIPS},
    },
)


class FiltersSerializer(_EntityChipsSerializer):
    """The filter chips (contracts.filters). Validates to a ContractFilters; the paging values that
    travel inside ``filters`` are left on ``self.paging`` for the enclosing request."""

    keywords = _names_field(MAX_KEYWORD_LENGTH)
    time_ranges = BoundedListField(child=TimeRangeField(), max_length=MAX_LIST_ITEMS, required=False)
    value_range = ValueRangeSerializer(required=False)
    page = StrictIntegerField(min_value=1, max_value=MAX_PAGE, required=False)
    page_size = StrictIntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)

    def to_internal_value(self, data: Any) -> ContractFilters:  # type: ignore[override]
        values = super().to_internal_value(data)
        self.paging = {key: values.pop(key) for key in ("page", "page_size") if key in values}
        value_range = values.pop("value_range", None) or {}
        return ContractFilters(
            **{key: tuple(items) for key, items in values.items()},
            min_amount=value_range.get("min"),
            max_amount=value_range.get("max"),
        )

    def to_representation(self, instance: ContractFilters) -> dict[str, Any]:
        return {
            **{entity.chip: list(getattr(instance, entity.chip)) for entity in ENTITIES},
            **{chip: list(getattr(instance, chip)) for chip in PLACE_CHIPS},
            "keywords": list(instance.keywords),
            "time_ranges": [TimeRangeField().to_representation(r) for r in instance.time_ranges],
            "value_range": {
                "min": None if instance.min_amount is None else str(instance.min_amount),
                "max": None if instance.max_amount is None else str(instance.max_amount),
            },
        }


class FilteredRequestSerializer(StrictSerializer):
    """A request with ``filters``; validated_data carries a ContractFilters under "filters"."""

    filters = FiltersSerializer(required=False)

    def filters_paging(self) -> dict[str, int]:
        """page / page_size as given inside ``filters`` (after validation), if at all."""
        return getattr(self.fields["filters"], "paging", {})

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # A kept serializer validates many bodies (config/validation.py): a body without
        # ``filters`` must not page as the one before it did.
        self.fields["filters"].paging = {}
        values = super().to_internal_value(data)
        values.setdefault("filters", ContractFilters())
        return values


class ChipSearchRequestSerializer(FilteredRequestSerializer):
    """``{"filters": {...,"page","page_size"}, "ordering"?}`` → the arguments of contract_search."""

    ordering = serializers.ChoiceField(choices=_signed(CONTRACT_ORDERINGS), default="-award_date")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        paging = self.filters_paging()
        return {
            "filters": values["filters"],
            "page": paging.get("page", 1),
            "page_size": paging.get("page_size", DEFAULT_PAGE_SIZE),
            "ordering": values["ordering"],
        }


class ChipAggregatesRequestSerializer(FilteredRequestSerializer):
    """``{"filters": {...}, "top_n"?}`` → the arguments of contract_aggregates (paging ignored)."""

    top_n = StrictIntegerField(min_value=1, max_value=50, default=10)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        return {"filters": values["filters"], "top_n": values["top_n"]}


class EntityTableRequestSerializer(FilteredRequestSerializer):
    """``{"filters", "entity_type", "page"?, "page_size"?, "ordering"?}`` → entity_table's arguments.

    page / page_size sit at the top level (the table pages on its own, whatever the chips); inside
    ``filters`` they are the fallback.
    """

    entity_type = serializers.ChoiceField(choices=list(ENTITY_TYPES))
    page = StrictIntegerField(min_value=1, max_value=MAX_PAGE, required=False)
    page_size = StrictIntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)
    ordering = serializers.ChoiceField(choices=_signed(ENTITY_ORDERINGS), default="-total_amount")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        paging = self.filters_paging()
        return {
            "filters": values["filters"],
            "entity_type": values["entity_type"],
            "page": values.get("page", paging.get("page", 1)),
            "page_size": values.get("page_size", paging.get("page_size", DEFAULT_PAGE_SIZE)),
            "ordering": values["ordering"],
        }


class FilterOptionsQuerySerializer(StrictSerializer):
    """The query string of GET filter-options: ``?field=contractors&q=ab&limit=20``."""

    field = serializers.ChoiceField(choices=list(OPTION_FIELDS))
    q = serializers.CharField(
        max_length=MAX_OPTIONS_QUERY_LENGTH,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        default="",
    )
    limit = StrictIntegerField(min_value=1, max_value=50, default=20)
