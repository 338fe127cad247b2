"""Top-level routes: the versioned API, its schema and docs, and the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from data_processing.health_api import HealthApi
from data_processing.metrics_api import metrics_view

api_v1 = [
    # The chip endpoints, with the async_mode switch that routes them to jobs when asked.
    path("contracts/", include("data_processing.chip_urls")),
    path("data-processing/", include("data_processing.urls")),
    path("saved-searches/", include("saved_searches.urls")),
    path("auth/token/", obtain_auth_token, name="auth-token"),
    path("health/", HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
    path("", include("dashboard.urls")),
]
