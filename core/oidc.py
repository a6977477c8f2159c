"""Sign-in with the organisation's identity provider over OpenID Connect.

mozilla-django-oidc runs the authorization-code flow (state, nonce, PKCE S256,
the ID token's RS256 signature checked against the provider's JWKS); this module
adapts it through its public hooks:

- the provider's endpoints come from ``OIDC_ISSUER``'s discovery document when
  they are not set one by one, fetched when someone signs in with the provider
  (never at start-up, nor for a password sign-in) and kept an hour in the cache;
- the ID token must also name this client as its audience and, with
  ``OIDC_ISSUER``, come from that issuer (the library checks neither);
- the claims (the ID token's, then the userinfo endpoint's) become a
  :class:`DirectoryPerson` handed to :func:`sync_directory_account`, like the
  LDAP backend does: the account follows the issuer and ``sub``, never an email;
- a failure never escapes as an error page: the request remembers why
  (:func:`failure_reason`) and the callback view says it on the sign-in page.

Every sign-in through the provider goes through ``auth.authenticate``, after
axes' backend: a locked-out address is refused before the code is exchanged, and
each failed callback is one failure for the lockout (with no user name).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from core.models import AccountSource, User
from core.services.directory_accounts import (
    DirectoryAccountConflict,
    DirectoryPerson,
    sync_directory_account,
)

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERY_CACHE_SECONDS = 3600
_REASON = "oidc_failure"


class Failure(enum.Enum):
    """Why a sign-in with the provider was refused (the sign-in page says it)."""

    UNAVAILABLE = "unavailable"  # the provider does not answer
    REFUSED = "refused"  # the provider refused (cancelled, code or verifier refused)
    INVALID = "invalid"  # an answer that does not check out: state, signature, expiry
    CLAIMS = "claims"  # the provider did not say who the person is
    CONFLICT = "conflict"  # the user name belongs to an account the provider may not take
    INACTIVE = "inactive"  # the account is deactivated here


class ProviderUnavailable(Exception):
    """The provider's discovery document cannot be had or does not fit."""


def remember_failure(request: HttpRequest, reason: Failure) -> None:
    setattr(request, _REASON, reason)


def failure_reason(request: HttpRequest) -> Failure | None:
    return getattr(request, _REASON, None)


@dataclasses.dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    userinfo: str
    jwks: str


def provider_endpoints() -> Endpoints:
    """The provider's endpoints: those set one by one, the rest from discovery."""
    explicit = Endpoints(
        authorization=settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        token=settings.OIDC_OP_TOKEN_ENDPOINT,
        userinfo=settings.OIDC_OP_USER_ENDPOINT,
        jwks=settings.OIDC_OP_JWKS_ENDPOINT,
    )
    if all(dataclasses.astuple(explicit)) or not settings.OIDC_ISSUER:
        return explicit
    document = _discovery_document(settings.OIDC_ISSUER)
    return Endpoints(
        authorization=explicit.authorization or document["authorization_endpoint"],
        token=explicit.token or document["token_endpoint"],
        userinfo=explicit.userinfo or document["userinfo_endpoint"],
        jwks=explicit.jwks or document["jwks_uri"],
    )


def _discovery_document(issuer: str) -> dict[str, str]:
    key = f"oidc-discovery:{issuer}"
    document: dict[str, str] | None = cache.get(key)
    if document is not None:
        return document
    url = issuer.rstrip("/") + DISCOVERY_PATH
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"{url}: {error}") from error
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    if not isinstance(document, dict) or not all(document.get(name) for name in needed):
        raise ProviderUnavailable(f"{url} lacks one of {', '.join(needed)}")
    if document["issuer"].rstrip("/") != issuer.rstrip("/"):
        # OpenID Connect Discovery 1.0, section 4.3: the same issuer, or an impostor.
        raise ProviderUnavailable(f"{url} names another issuer: {document['issuer']}")
    cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document


class OIDCBackend(OIDCAuthenticationBackend):
    """Authenticates the provider's callback; permissions stay with ``ModelBackend``."""

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if request is None or "code" not in request.GET or "state" not in request.GET:
            return None  # a password sign-in, or no callback: not the provider's
        try:
            endpoints = provider_endpoints()
            self.OIDC_OP_TOKEN_ENDPOINT = endpoints.token
            self.OIDC_OP_USER_ENDPOINT = endpoints.userinfo
            self.OIDC_OP_JWKS_ENDPOINT = endpoints.jwks
            user: User | None = super().authenticate(request, **kwargs)
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else 500
            logger.warning("OpenID Connect sign-in refused by the provider: %s", error)
            remember_failure(request, Failure.REFUSED if status < 500 else Failure.UNAVAILABLE)
            return None
        except (requests.RequestException, ProviderUnavailable) as error:
            logger.warning("OpenID Connect provider unavailable for a sign-in: %s", error)
            remember_failure(request, Failure.UNAVAILABLE)
            return None
        except (SuspiciousOperation, jwt.InvalidTokenError) as error:
            logger.warning("OpenID Connect sign-in refused: %s", error)
            remember_failure(request, Failure.INVALID)
            return None
        except DirectoryAccountConflict:
            remember_failure(request, Failure.CONFLICT)
            return None
        if user is None:
            remember_failure(request, failure_reason(request) or Failure.CLAIMS)
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The library's checks (signature, algorithm, expiry, nonce), then the
        audience and the issuer, which it leaves out."""
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation(f"The token is meant for {audiences}, not for this client.")
        issuer = settings.OIDC_ISSUER
        if issuer and str(payload.get("iss", "")).rstrip("/") != issuer.rstrip("/"):
            raise SuspiciousOperation(f"The token comes from {payload.get('iss')!r}.")
        return payload

    def retrieve_matching_jwk(self, token: str) -> jwt.PyJWK:
        """The provider's signing key for ``token``: the JWKS key with the token's
        ``kid`` (and algorithm), or its one RSA key when the token names none (``kid``
        is optional, RFC 7515; the library would fail on its absence)."""
        header = jwt.get_unverified_header(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        keys = [
            key
            for key in response.json().get("keys", [])
            if key.get("kty") == "RSA"
            and key.get("use", "sig") == "sig"
            and key.get("alg", header.get("alg")) == header.get("alg")
            and ("kid" not in header or key.get("kid") == header["kid"])
        ]
        if len(keys) != 1:
            raise SuspiciousOperation(f"{len(keys)} keys of the JWKS fit the token's header.")
        return jwt.PyJWK(keys[0])

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        """The account of the person the provider vouches for, created or kept in step."""
        userinfo = self.get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            # OpenID Connect Core 1.0, section 5.3.2: else the answer is not this person's.
            logger.warning("OpenID Connect sign-in refused: userinfo is about another subject.")
            remember_failure(self.request, Failure.INVALID)
            return None
        # Groups are often in the ID token only (Entra ID): both, userinfo winning.
        person = person_from_claims({**payload, **userinfo})
        if person is None:
            return None
        user = sync_directory_account(person)
        if not user.is_active:
            logger.info("OpenID Connect sign-in refused: account %s is deactivated.", user.pk)
            remember_failure(self.request, Failure.INACTIVE)
            return None
        return user

    def get_user(self, user_id: int) -> User | None:
        """A deactivated account's session ends, as with ``ModelBackend``."""
        return User.objects.filter(pk=user_id, is_active=True).first()


def person_from_claims(claims: dict[str, Any]) -> DirectoryPerson | None:
    """What the provider says of the person, as the account service takes it."""
    username = _text(claims.get(settings.OIDC_USERNAME_CLAIM))
    if not claims.get("sub") or not username:
        logger.warning(
            "OpenID Connect sign-in refused: no %r claim among %s.",
            settings.OIDC_USERNAME_CLAIM,
            sorted(claims),
        )
        return None
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) if settings.OIDC_GROUPS_CLAIM else None
    names = {str(group) for group in groups} if isinstance(groups, list) else set()
    if isinstance(groups, str):
        names = {groups}
    return DirectoryPerson(
        source=AccountSource.OIDC,
        # sub is unique per issuer only: the issuer qualifies it.
        directory_id=f"{claims.get('iss', '')}|{claims['sub']}",
        username=username,
        first_name=_text(claims.get("given_name")),
        last_name=_text(claims.get("family_name")),
        email=_text(claims.get(settings.OIDC_EMAIL_CLAIM)),
        is_staff=_member(names, settings.OIDC_STAFF_GROUP),
        is_lead=_member(names, settings.OIDC_LEAD_GROUP),
    )


def _member(groups: set[str], group: str) -> bool | None:
    """Membership of ``group``; None when that group is not configured."""
    return group in groups if group else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
