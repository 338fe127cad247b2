"""The chip endpoints, mounted at /api/v1/contracts/, with their async_mode switch."""

from django.urls import path

from contracts.apis import FilterOptionsApi

from . import chip_routing

urlpatterns = [
    path("chip-search/", chip_routing.ChipSearchApi.as_view(), name="chip-search"),
    path("chip-aggregates/", chip_routing.ChipAggregatesApi.as_view(), name="chip-aggregates"),
    path(
        "chip-aggregates-paginated/",
        chip_routing.ChipAggregatesPaginatedApi.as_view(),
        name="chip-aggregates-paginated",
    ),
    path("filter-options/", FilterOptionsApi.as_view(), name="filter-options"),
]
