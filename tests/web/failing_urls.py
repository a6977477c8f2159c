"""The application's URLs plus a view that crashes, for the 500 logging test."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from si_gouvernance.urls import urlpatterns as application_urls


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view crashed")


urlpatterns = [path("crash/", crash), *application_urls]
