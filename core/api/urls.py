"""/api/v1/: the endpoints, the OpenAPI 3 document and its documentation page."""

from __future__ import annotations

from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView
from rest_framework.routers import SimpleRouter

from core.api import docs, errors, views

app_name = "api"

router = SimpleRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    *router.urls,
    path("portfolio/", views.PortfolioView.as_view(), name="portfolio"),
    path("portfolio/summary/", views.PortfolioSummaryView.as_view(), name="portfolio_summary"),
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", docs.documentation, name="docs"),
    # Anything else under /api/v1/ (an id that is not a number: /tasks/0.5/) is the
    # API's JSON 404, not the site's HTML page.
    re_path(r"^", errors.not_found),
]
