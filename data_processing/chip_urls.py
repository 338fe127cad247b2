"""The chip endpoints, mounted at /api/v1/contracts/, with their async_mode switch."""

from django.urls import path

from contracts.analysis_apis import ExportEstimateApi, TimeRangesApi
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
    path(
        "chip-value-distribution/",
        chip_routing.ValueDistributionApi.as_view(),
        name="chip-value-distribution",
    ),
    path("chip-benford/", chip_routing.BenfordApi.as_view(), name="chip-benford"),
    path("chip-rounding/", chip_routing.RoundingApi.as_view(), name="chip-rounding"),
    path("chip-related-entities/", chip_routing.RelatedEntitiesApi.as_view(), name="chip-related-entities"),
    path(
        "chip-related-contracts/",
        chip_routing.RelatedContractsApi.as_view(),
        name="chip-related-contracts",
    ),
    path(
        "chip-aggregates-paginated/export/",
        chip_routing.EntityTableExportApi.as_view(),
        name="chip-entity-table-export",
    ),
    path("chip-value-treemap/", chip_routing.TreemapApi.as_view(), name="chip-value-treemap"),
    path("export-estimate/", ExportEstimateApi.as_view(), name="export-estimate"),
    path("time-ranges/", TimeRangesApi.as_view(), name="time-ranges"),
]
