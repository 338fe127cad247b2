"""Top-level routes: the versioned API, its schema and docs, the admin, and the dashboard."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from data_processing.health_api import HealthApi

api_v1 = [
    # The chip endpoints, with the async_mode switch that routes them to jobs when asked.
    path("contracts/", include("data_processing.chip_urls")),
    path("data-processing/", include("data_processing.urls")),
    path("auth/token/", obtain_auth_token, name="auth-token"),
    path("health/", HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links; send them to the dashboard's SVG
    # icon (resolved per request, so a hashed static-files storage would work too).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("dashboard/favicon.svg"), permanent=True)),
    path("", include("dashboard.urls")),
]
