"""The synchronous chip endpoints, mounted at /api/v1/contracts/."""

from django.urls import path

from .apis import ChipAggregatesApi, ChipAggregatesPaginatedApi, ChipSearchApi, FilterOptionsApi

urlpatterns = [
    path("chip-search/", ChipSearchApi.as_view(), name="chip-search"),
    path("chip-aggregates/", ChipAggregatesApi.as_view(), name="chip-aggregates"),
    path(
        "chip-aggregates-paginated/", ChipAggregatesPaginatedApi.as_view(), name="chip-aggregates-paginated"
    ),
    path("filter-options/", FilterOptionsApi.as_view(), name="filter-options"),
]
