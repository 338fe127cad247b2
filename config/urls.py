"""Top-level routes: the versioned API, its schema and docs, the admin, and the dashboard."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.throttling import ThrottledObtainAuthToken, login_throttled
from data_processing.health_api import HealthApi
from data_processing.metrics_api import metrics_view

api_v1 = [
    # The chip endpoints, with the async_mode switch that routes them to jobs when asked.
    path("contracts/", include("data_processing.chip_urls")),
    path("data-processing/", include("data_processing.urls")),
    path("saved-searches/", include("saved_searches.urls")),
    path("auth/token/", ThrottledObtainAuthToken.as_view(), name="auth-token"),
    path("health/", HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

# Every form that checks a password is throttled like the token endpoint.
admin.site.login = login_throttled(admin.site.login)  # type: ignore[method-assign]
browsable_api_auth = [
    path(
        "login/",
        login_throttled(auth_views.LoginView.as_view(template_name="rest_framework/login.html")),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/login/", login_throttled(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The browsable API's log-in (what include("rest_framework.urls") defines), throttled.
    path("api-auth/", include((browsable_api_auth, "rest_framework"))),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico whatever the page links; send them to the dashboard's SVG
    # icon (resolved per request, so a hashed static-files storage would work too).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("dashboard/favicon.svg"), permanent=True)),
    path("", include("dashboard.urls")),
]

# API paths answer in the one error shape even when the failure is outside a DRF view.
handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
