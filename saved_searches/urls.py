from django.urls import path

from . import apis

urlpatterns = [
    path("", apis.SavedSearchListApi.as_view(), name="saved-search-list"),
    path("<int:saved_search_id>/", apis.SavedSearchDetailApi.as_view(), name="saved-search-detail"),
    path("<int:saved_search_id>/run/", apis.SavedSearchRunNowApi.as_view(), name="saved-search-run"),
    path("<int:saved_search_id>/runs/", apis.SavedSearchRunListApi.as_view(), name="saved-search-runs"),
    path(
        "<int:saved_search_id>/runs/<int:run_id>/new-contracts/",
        apis.SavedSearchNewContractsApi.as_view(),
        name="saved-search-new-contracts",
    ),
]
