"""The API's world: alice leads "portail", bob owns its tasks, charlie leads a
project of his own and sees nothing of alice's, dora reads everything (the DSI);
each has a personal token."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
import time_machine
from django.test import Client

from core.models import Etape, Projet, Tache, User
from core.services import api_tokens
from tests.conftest import TODAY, World
from tests.factories import (
    PORTFOLIO,
    EtapeFactory,
    NotificationFactory,
    ProjetFactory,
    TacheFactory,
    UserFactory,
    grant,
)
from tests.web.conftest import NOW

DAY = datetime.timedelta(days=1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class ApiWorld:
    alice: User
    bob: User
    charlie: User
    dora: User
    projet: Projet
    autre: Projet  # charlie's
    etape: Etape
    bobs: Tache  # bob's task on alice's project
    alices: Tache  # alice's own task there
    charlies: Tache  # on charlie's project
    tokens: dict[str, str]


@pytest.fixture
def api(world: World, frozen: None) -> ApiWorld:
    dora = grant(UserFactory(username="dora"), *PORTFOLIO)
    autre = ProjetFactory(nom="Projet de Charlie", code="charlie", chef_de_projet=world.charlie)
    etape = EtapeFactory(projet=world.projet, nom="Cadrage", ordre=1)
    bobs = TacheFactory(
        projet=world.projet,
        etape=etape,
        nom="Recetter",
        responsable=world.bob,
        date_echeance=TODAY + 3 * DAY,
    )
    alices = TacheFactory(
        projet=world.projet, nom="Arbitrer", responsable=world.alice, date_echeance=TODAY - DAY
    )
    charlies = TacheFactory(projet=autre, nom="Secrète", responsable=world.charlie)
    NotificationFactory(destinataire=world.bob, tache=bobs)
    NotificationFactory(destinataire=world.alice, tache=alices)
    users = {"alice": world.alice, "bob": world.bob, "charlie": world.charlie, "dora": dora}
    tokens = {
        name: api_tokens.create_token(user=u, name="test").secret for name, u in users.items()
    }
    return ApiWorld(
        alice=world.alice,
        bob=world.bob,
        charlie=world.charlie,
        dora=dora,
        projet=world.projet,
        autre=autre,
        etape=etape,
        bobs=bobs,
        alices=alices,
        charlies=charlies,
        tokens=tokens,
    )


def bearer(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def as_user(api: ApiWorld):
    def client(name: str) -> Client:
        return bearer(api.tokens[name])

    return client
