"""The site's URLs with the identity provider's, as si_gouvernance/urls.py has them
when OIDC_CLIENT_ID is set at start-up (the tests turn the provider on later).

Imported when the tests are collected, with the provider off: si_gouvernance.urls,
which reads OIDC_ENABLED once, then has no provider URL."""

from core.views.oidc import urlpatterns as oidc_urlpatterns
from si_gouvernance.urls import urlpatterns as site_urlpatterns

urlpatterns = [*oidc_urlpatterns, *site_urlpatterns]
