"""Sign-in with the organisation's directory: Active Directory or any LDAP server.

A thin authentication backend on ldap3's public API (pure Python: it installs with
pip alone on Linux and Windows, unlike python-ldap under django-auth-ldap). The flow
is the usual search-then-bind: bind with the service account (``LDAP_BIND_DN``, or
anonymously), search the person under ``LDAP_USER_SEARCH_BASE`` with
``LDAP_USER_FILTER`` (the typed user name escaped for LDAP filters), bind as the
entry found with the typed password, then read the person's groups: the entry's
``memberOf`` (Active Directory, OpenLDAP's memberof overlay) and the groups under
``LDAP_GROUP_SEARCH_BASE`` that list the entry as ``member`` or ``uniqueMember``.
What the directory says becomes a :class:`DirectoryPerson` handed to
:func:`sync_directory_account`, which creates or brings the account in step.

Why not django-python3-ldap (also on ldap3): it writes the account itself, with
``update_or_create`` on the user name, before any of its hooks runs, so a directory
entry named like the local superuser would rewrite that superuser before our
service could refuse it; it binds with a DN formatted from the user name rather than
the entry a filter finds (people spread over several OUs cannot sign in); and a
directory down and a wrong password both come back as ``None``, so the sign-in form
could not tell the person the directory is down.

A directory that is down or slow is never an error page: the attempt is refused
(counted by the lockout like any failure), the request remembers why
(:func:`directory_was_unavailable`) and the sign-in form says so. Local accounts do
not wait for the directory: ``ModelBackend`` comes before this backend.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import ldap3
from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from core.models import AccountSource, User
from core.services.directory_accounts import (
    DirectoryAccountConflict,
    DirectoryPerson,
    sync_directory_account,
)

logger = logging.getLogger(__name__)

USER_PLACEHOLDER = "%(user)s"
# Active Directory's userAccountControl flag of a disabled account.
AD_ACCOUNT_DISABLED = 0x2
# Attributes that name an entry for good (see _permanent_id).
PERMANENT_IDS = ("objectGUID", "entryUUID")
_UNAVAILABLE = "directory_unavailable"
_SEARCH_OK = (0, 4)  # success; sizeLimitExceeded (two entries found: ambiguous)
# The attribute the filter compares the typed name with: (sAMAccountName=%(user)s).
_NAME_IN_FILTER = re.compile(r"\(([A-Za-z][\w-]*)=%\(user\)s\)")


class DirectoryUnavailable(Exception):
    """The directory cannot answer for the person (down, slow, or misconfigured)."""


@dataclasses.dataclass(frozen=True)
class LdapSettings:
    """The directory's settings, read when someone signs in (never frozen at import)."""

    server_uri: str
    bind_dn: str
    bind_password: str
    user_search_base: str
    user_filter: str
    group_search_base: str
    staff_group_dn: str
    lead_group_dn: str
    start_tls: bool
    ca_file: str
    timeout: int
    first_name_attribute: str
    last_name_attribute: str
    email_attribute: str

    @classmethod
    def current(cls) -> LdapSettings:
        return cls(
            **{
                field.name: getattr(settings, f"LDAP_{field.name.upper()}")
                for field in dataclasses.fields(cls)
            }
        )

    @property
    def username_attribute(self) -> str | None:
        """Where the entry keeps the user name, as the directory spells it."""
        match = _NAME_IN_FILTER.search(self.user_filter)
        return match.group(1) if match else None

    @property
    def attributes(self) -> list[str]:
        names = (self.first_name_attribute, self.last_name_attribute, self.email_attribute)
        username = [self.username_attribute] if self.username_attribute else []
        return [*names, *username, "memberOf", "userAccountControl", *PERMANENT_IDS]


def directory_was_unavailable(request: HttpRequest | None) -> bool:
    """Did the directory fail to answer for this request's sign-in?"""
    return bool(getattr(request, _UNAVAILABLE, False))


def normalized_dn(dn: str) -> str:
    """A DN compared as the directory does: attribute types and values without case,
    spaces around separators dropped (``CN=Chefs, OU=Groupes`` = ``cn=chefs,ou=groupes``)."""
    return "".join(
        f"{attr.lower()}={value.lower()}{separator}"
        for attr, value, separator in parse_dn(dn, strip=True)
    )


class LDAPBackend(BaseBackend):
    """Authenticates against the directory; permissions stay with ``ModelBackend``."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        config = LdapSettings.current()
        # An empty password would be an anonymous bind, which "succeeds".
        if not config.server_uri or not username or not password:
            return None
        try:
            person = find_person(config, username=username.strip(), password=password)
        except (LDAPException, OSError, DirectoryUnavailable) as error:
            logger.warning("Directory %s unavailable for a sign-in: %s", config.server_uri, error)
            if request is not None:
                setattr(request, _UNAVAILABLE, True)
            return None
        if person is None:
            return None
        try:
            user = sync_directory_account(person)
        except DirectoryAccountConflict:
            return None
        return user if user.is_active else None

    def get_user(self, user_id: int) -> User | None:
        return User.objects.filter(pk=user_id, is_active=True).first()


def find_person(config: LdapSettings, *, username: str, password: str) -> DirectoryPerson | None:
    """What the directory says of ``username`` if ``password`` is theirs, else None.

    Raises :class:`DirectoryUnavailable` (or ldap3's ``LDAPException``) when the
    directory cannot tell: down, slow beyond ``LDAP_TIMEOUT``, or misconfigured.
    """
    server = _server(config)
    with _bound(server, config, config.bind_dn or None, config.bind_password or None) as service:
        if service is None:
            raise DirectoryUnavailable(f"the service account {config.bind_dn!r} was refused")
        entry = _find_entry(service, config, username)
        if entry is None:
            return None
        dn, attributes = entry["dn"], entry["attributes"]
        if int(_first(attributes, "userAccountControl") or 0) & AD_ACCOUNT_DISABLED:
            logger.info("Directory sign-in refused: %s is disabled in the directory.", dn)
            return None
        with _bound(server, config, dn, password) as as_person:
            if as_person is None:
                return None
        groups = _groups(service, config, dn, attributes)
    return DirectoryPerson(
        source=AccountSource.LDAP,
        directory_id=_permanent_id(entry),
        # The directory's spelling, not the typed one ("JDupont" signs in jdupont).
        username=_first(attributes, config.username_attribute or "") or username,
        first_name=_first(attributes, config.first_name_attribute),
        last_name=_first(attributes, config.last_name_attribute),
        email=_first(attributes, config.email_attribute),
        is_staff=_member(groups, config.staff_group_dn),
        is_lead=_member(groups, config.lead_group_dn),
    )


def _server(config: LdapSettings) -> ldap3.Server:
    # ldap3 checks the certificate's host name itself once the CA validated it.
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=config.ca_file or None)
    return ldap3.Server(
        config.server_uri, tls=tls, connect_timeout=config.timeout, get_info=ldap3.NONE
    )


@contextlib.contextmanager
def _bound(
    server: ldap3.Server, config: LdapSettings, user: str | None, password: str | None
) -> Iterator[ldap3.Connection | None]:
    """A connection bound as ``user`` (None: anonymous), or None if the bind is refused."""
    connection = ldap3.Connection(
        server,
        user=user,
        password=password,
        receive_timeout=config.timeout,
        auto_referrals=False,  # AD's referrals point at hosts the web server may not reach
        read_only=True,
    )
    try:
        connection.open(read_server_info=False)
        if config.start_tls:
            connection.start_tls(read_server_info=False)
        yield connection if connection.bind(read_server_info=False) else None
    finally:
        connection.unbind()


def _find_entry(
    connection: ldap3.Connection, config: LdapSettings, username: str
) -> dict[str, Any] | None:
    search_filter = config.user_filter.replace(USER_PLACEHOLDER, escape_filter_chars(username))
    connection.search(
        config.user_search_base,
        search_filter,
        search_scope=ldap3.SUBTREE,
        attributes=config.attributes,
        size_limit=2,
    )
    if connection.result["result"] not in _SEARCH_OK:
        raise DirectoryUnavailable(f"the search for a person failed: {connection.result}")
    entries = [item for item in connection.response or [] if item["type"] == "searchResEntry"]
    if len(entries) > 1:
        logger.warning("Directory sign-in refused: %s finds several entries.", search_filter)
    return entries[0] if len(entries) == 1 else None


def _groups(
    connection: ldap3.Connection, config: LdapSettings, dn: str, attributes: dict[str, Any]
) -> set[str]:
    """The normalised DNs of the person's groups."""
    groups = {normalized_dn(group) for group in _values(attributes, "memberOf")}
    if config.group_search_base:
        member = escape_filter_chars(dn)
        connection.search(
            config.group_search_base,
            f"(|(member={member})(uniqueMember={member}))",
            search_scope=ldap3.SUBTREE,
            attributes=ldap3.NO_ATTRIBUTES,
        )
        if connection.result["result"] not in _SEARCH_OK:
            raise DirectoryUnavailable(f"the search for groups failed: {connection.result}")
        found = connection.response or []
        groups |= {normalized_dn(item["dn"]) for item in found if item["type"] == "searchResEntry"}
    return groups


def _member(groups: set[str], group_dn: str) -> bool | None:
    """Membership of ``group_dn``; None when that group is not configured."""
    return normalized_dn(group_dn) in groups if group_dn else None


def _permanent_id(entry: dict[str, Any]) -> str:
    """The entry's identifier that survives a move to another OU or a rename (a
    DN does not): AD's ``objectGUID``, else OpenLDAP's and 389 DS's ``entryUUID``,
    else the DN for a directory with neither."""
    guid = entry.get("raw_attributes", {}).get("objectGUID")
    if guid and len(guid[0]) == 16:  # AD stores it as 16 bytes, little-endian
        return f"objectGUID:{uuid.UUID(bytes_le=guid[0])}"
    entry_uuid = _first(entry["attributes"], "entryUUID")
    return f"entryUUID:{entry_uuid.lower()}" if entry_uuid else str(entry["dn"])


def _values(attributes: dict[str, Any], name: str) -> list[str]:
    value = attributes.get(name)
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]


def _first(attributes: dict[str, Any], name: str) -> str:
    values = _values(attributes, name)
    return values[0] if values else ""
