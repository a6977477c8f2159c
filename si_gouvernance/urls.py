from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.forms import OutboxPasswordResetForm, SignInForm
from core.views import oidc
from core.views.auth import SignInView, SignOutView

urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "comptes/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
    path(
        "comptes/login/",
        SignInView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("comptes/logout/", SignOutView.as_view(), name="logout"),
    path("comptes/", include("django.contrib.auth.urls")),
    path("api/v1/", include("core.api.urls")),
    path("", include("core.urls")),
]
if settings.OIDC_ENABLED:  # sign-in with the identity provider (core.oidc)
    urlpatterns = [*oidc.urlpatterns, *urlpatterns]
