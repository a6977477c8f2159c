"""A password-reset request made while the broker is down is not lost: nothing
else would redo it (issue 16, finding 7 moved the work off the request)."""

from __future__ import annotations

from django.test import Client, TestCase
from django.urls import reverse

from core.models import OutboundEmail


def test_a_reset_asked_while_the_broker_is_down_is_done_in_the_request(world, use_broker):
    use_broker("redis://127.0.0.1:9/0")  # nothing listens there

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = Client().post(reverse("password_reset"), {"email": world.bob.email})

    assert response.status_code == 302
    row = OutboundEmail.objects.get(recipient=world.bob)
    assert row.kind == OutboundEmail.Kind.PASSWORD_RESET
