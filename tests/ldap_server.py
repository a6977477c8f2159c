"""A real OpenLDAP for the tests: Debian's slapd in a temporary directory.

The directory holds a few people under ``ou=people`` and two groups
(``groupOfNames`` with ``member``) under ``ou=groups``, with the password policy
overlay (an administrator locks an account with ``pwdAccountLockedTime``). People
carry both OpenLDAP's ``uid`` and Active Directory's ``sAMAccountName`` /
``userAccountControl`` / ``memberOf`` (a small test schema gives them the equality
rules AD has), so one directory serves both filters and AD's disabled-account flag.
slapd runs as the current user (root or not) on a loopback port, with or without
TLS (a CA and a server certificate made by :func:`make_certificates`), and is
ended after the test.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ldap3
import pytest

from tests.faults import candidate_port

BASE = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "admin-secret"
SERVICE_DN = f"cn=si-gouvernance,ou=services,{BASE}"
SERVICE_PASSWORD = "service-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
STAFF_GROUP = f"cn=dsi-admins,{GROUPS}"
LEAD_GROUP = f"cn=chefs-de-projet,{GROUPS}"
START_TIMEOUT = 15
OUS = ("people", "groups", "services", "policies")
POLICY = f"cn=default,ou=policies,{BASE}"
# ppolicy: an account locked for good by the administrator (OpenLDAP's "disabled").
LOCKED_FOREVER = "000001010000Z"

AD_SCHEMA = """\
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf'
  EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
objectclass ( 1.3.6.1.4.1.4203.666.11.9.1 NAME 'adAccount' SUP top AUXILIARY
  MAY ( sAMAccountName $ userAccountControl $ memberOf ) )
"""


@dataclasses.dataclass(frozen=True)
class Person:
    uid: str
    password: str
    first_name: str
    last_name: str
    email: str
    groups: tuple[str, ...] = ()
    account_control: int = 512  # AD: a normal account; 514 adds the disabled flag

    @property
    def dn(self) -> str:
        return f"uid={self.uid},{PEOPLE}"


JEANNE = Person(
    "jdupont", "Jeanne-annuaire-1", "Jeanne", "Dupont", "jeanne.dupont@dsi.example.org",
    groups=(STAFF_GROUP, LEAD_GROUP),
)  # fmt: skip
PAUL = Person("pmartin", "Paul-annuaire-2", "Paul", "Martin", "paul.martin@dsi.example.org")
MARC = Person(
    "mpetit", "Marc-annuaire-3", "Marc", "Petit", "marc.petit@dsi.example.org",
    groups=(LEAD_GROUP,), account_control=514,
)  # fmt: skip
PEOPLE_ENTRIES = (JEANNE, PAUL, MARC)


@dataclasses.dataclass(frozen=True)
class Certificates:
    ca: Path
    certificate: Path
    key: Path


def program(name: str) -> str:
    """slapd and slapadd live in /usr/sbin, outside a user's PATH. Skip without
    them on a laptop; fail in CI, where ``dev.py test`` installs them."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        message = f"{name} is not installed (Debian package slapd)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: required in CI")
        pytest.skip(message)
    return found


def make_certificates(
    directory: Path, name: str = "ca", *, names: str = "IP:127.0.0.1,DNS:localhost"
) -> Certificates:
    """A CA and a server certificate it signs for ``names`` (openssl's CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / f"{name}.pem", directory / f"{name}.key"
    cert, key, request = (
        directory / "server.pem",
        directory / "server.key",
        directory / "server.csr",
    )
    extensions = directory / "server.ext"
    extensions.write_text(f"subjectAltName={names}\n", encoding="utf-8")
    new_key = ("-newkey", "rsa:2048", "-nodes")
    sign = ("-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "1", "-extfile", extensions)
    for command in (
        [
            "req",
            "-x509",
            *new_key,
            "-days",
            "1",
            "-subj",
            f"/CN={name}",
            "-keyout",
            ca_key,
            "-out",
            ca,
        ],
        ["req", *new_key, "-subj", "/CN=directory", "-keyout", key, "-out", request],
        ["x509", "-req", "-in", request, *sign, "-out", cert],
    ):
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True, timeout=60)
    return Certificates(ca=ca, certificate=cert, key=key)


class LdapServer:
    """One slapd, started by :func:`ldap_server`; ``stop``/``pause`` for the outages."""

    def __init__(self, root: Path, certificates: Certificates | None) -> None:
        self.root = root
        self.certificates = certificates
        self.port = 0
        self.tls_port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def django_settings(self) -> dict[str, object]:
        """The application's settings for this directory (OpenLDAP's filter)."""
        return {
            "LDAP_SERVER_URI": self.uri,
            "LDAP_BIND_DN": SERVICE_DN,
            "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "LDAP_USER_SEARCH_BASE": PEOPLE,
            "LDAP_USER_FILTER": "(uid=%(user)s)",
            "LDAP_GROUP_SEARCH_BASE": GROUPS,
            "LDAP_STAFF_GROUP_DN": STAFF_GROUP,
            "LDAP_LEAD_GROUP_DN": LEAD_GROUP,
            "LDAP_START_TLS": False,
            "LDAP_CA_FILE": "",
            "LDAP_TIMEOUT": 2,
        }

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        subprocess.run(
            [program("slapadd"), "-f", str(config), "-l", str(self._write_entries())],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for _ in range(5):  # slapd cannot bind port 0: another program may take ours
            self.port, self.tls_port = candidate_port(), candidate_port()
            if self.port != self.tls_port and self._run(config):
                return
        pytest.fail(f"slapd did not start: {(self.root / 'slapd.log').read_text()[-2000:]}")

    def _run(self, config: Path) -> bool:
        urls = self.uri + (f" {self.ldaps_uri}" if self.certificates else "")
        log = (self.root / "slapd.log").open("wb")
        # -d 0: in the foreground (the test owns the process), no debug output.
        command = [program("slapd"), "-d", "0", "-f", str(config), "-h", urls]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def stop(self) -> None:
        """The directory down: slapd ended, its port refuses connections."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # if paused
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The directory hanging: connections are accepted (by the kernel), never answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

    @contextmanager
    def admin(self) -> Iterator[ldap3.Connection]:
        """A connection as the directory's administrator, to change entries."""
        connection = ldap3.Connection(self.uri, ADMIN_DN, ADMIN_PASSWORD, auto_bind=True)
        try:
            yield connection
        finally:
            connection.unbind()

    def modify(self, dn: str, changes: dict[str, list[tuple[str, list[str]]]]) -> None:
        with self.admin() as connection:
            assert connection.modify(dn, changes), connection.result

    def move(self, dn: str, new_parent: str) -> None:
        relative, _parent = dn.split(",", 1)
        with self.admin() as connection:
            assert connection.modify_dn(dn, relative, new_superior=new_parent), connection.result

    def leave_group(self, person: Person, group: str) -> None:
        self.modify(group, {"member": [(ldap3.MODIFY_DELETE, [person.dn])]})
        self.modify(person.dn, {"memberOf": [(ldap3.MODIFY_DELETE, [group])]})

    def lock(self, person: Person) -> None:
        """Disabled the OpenLDAP way: ppolicy's lock, which makes every bind fail."""
        self.modify(person.dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [LOCKED_FOREVER])]})

    def delete(self, dn: str) -> None:
        with self.admin() as connection:
            assert connection.delete(dn), connection.result

    def _write_config(self) -> Path:
        (self.root / "db").mkdir()
        (self.root / "ad.schema").write_text(AD_SCHEMA, encoding="utf-8")
        schemas = ["core", "cosine", "inetorgperson"]
        lines = [f"include /etc/ldap/schema/{name}.schema" for name in schemas]
        lines += [
            f"include {self.root / 'ad.schema'}",
            f"pidfile {self.root / 'slapd.pid'}",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "moduleload ppolicy",
        ]
        if self.certificates:
            lines += [
                f"TLSCACertificateFile {self.certificates.ca}",
                f"TLSCertificateFile {self.certificates.certificate}",
                f"TLSCertificateKeyFile {self.certificates.key}",
            ]
        lines += [
            "database mdb",
            f'suffix "{BASE}"',
            f'rootdn "{ADMIN_DN}"',
            f"rootpw {ADMIN_PASSWORD}",
            f"directory {self.root / 'db'}",
            "overlay ppolicy",
            f'ppolicy_default "{POLICY}"',
        ]
        config = self.root / "slapd.conf"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return config

    def _write_entries(self) -> Path:
        entries = [
            ldif(BASE, objectClass=["dcObject", "organization"], o=["Example"], dc=["example"]),
            *(ldif(f"ou={ou},{BASE}", objectClass=["organizationalUnit"], ou=[ou]) for ou in OUS),
            ldif(
                SERVICE_DN,
                objectClass=["organizationalRole", "simpleSecurityObject"],
                cn=["si-gouvernance"],
                userPassword=[SERVICE_PASSWORD],
            ),
            ldif(
                POLICY,
                objectClass=["pwdPolicy", "organizationalRole"],
                cn=["default"],
                pwdAttribute=["userPassword"],
                pwdLockout=["TRUE"],
            ),
        ]
        for person in PEOPLE_ENTRIES:
            entries.append(
                ldif(
                    person.dn,
                    objectClass=["inetOrgPerson", "adAccount"],
                    uid=[person.uid],
                    sAMAccountName=[person.uid],
                    cn=[f"{person.first_name} {person.last_name}"],
                    givenName=[person.first_name],
                    sn=[person.last_name],
                    mail=[person.email],
                    userPassword=[person.password],
                    userAccountControl=[str(person.account_control)],
                    memberOf=list(person.groups),
                )
            )
        for group in (STAFF_GROUP, LEAD_GROUP):
            # groupOfNames needs a member: the administrator stays when people leave.
            members = [ADMIN_DN, *(p.dn for p in PEOPLE_ENTRIES if group in p.groups)]
            name = group.split(",")[0].removeprefix("cn=")
            entries.append(ldif(group, objectClass=["groupOfNames"], cn=[name], member=members))
        path = self.root / "entries.ldif"
        path.write_text("\n".join(entries), encoding="utf-8")
        return path


def ldif(dn: str, **attributes: list[str]) -> str:
    lines = [f"dn: {dn}"]
    lines += [f"{name}: {value}" for name, values in attributes.items() for value in values]
    return "\n".join(lines) + "\n"


@contextmanager
def running_ldap_server(
    root: Path, certificates: Certificates | None = None
) -> Iterator[LdapServer]:
    server = LdapServer(root, certificates)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ldap_server(tmp_path: Path) -> Iterator[LdapServer]:
    with running_ldap_server(tmp_path / "ldap") as server:
        yield server
