"""Which channel URLs are accepted, and what is shown of them: never their secret."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.services.channel_urls import masked, plugin_for

SECRET = "TIiajkdnlazkcOXrIdevi7FQ"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"slack://T1JJ3T3L2/A1BRTD4JD/{SECRET}/#general", "slack://T...2/A...D/T...Q/%23general/"),
        (f"https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/{SECRET}", "slack://T...2/"),
        (f"mmost://chat.dsi.example.org/{SECRET}", "mmost://chat.dsi.example.org/T...Q/"),
        (
            f"workflows://prod.westeurope.logic.azure.com:443/abc123workflow/{SECRET}/",
            "workflow://prod.westeurope.logic.azure.com:443/a...w/T...Q/",
        ),
        (f"matrix://bot:{SECRET}@matrix.dsi.example.org/#projets", "matrix://bot:****@"),
        (
            f"json://webhook.dsi.example.org/hooks/{SECRET}",
            "json://webhook.dsi.example.org/h…****/T…****",
        ),
        (f"jsons://robot:{SECRET}@webhook.dsi.example.org/in", "jsons://robot:****@"),
    ],
)
def test_each_supported_service_is_shown_masked(url, shown):
    text = masked(url)
    assert text.startswith(shown)
    assert SECRET not in text and SECRET[1:-1] not in text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("foo://bar/baz", "Cette adresse de canal n'est pas reconnue."),
        ("https://www.example.org/page", "Cette adresse de canal n'est pas reconnue."),
        ("mailto://bob:motdepasse@gmail.com", "Ce service n'est pas un canal d'équipe"),
        ("xml://webhook.dsi.example.org/in", "Ce service n'est pas un canal d'équipe"),
        ("json://host/a b", "Saisissez une adresse de canal sans espaces."),
        ("", "Saisissez une adresse de canal sans espaces."),
    ],
)
def test_an_unknown_or_unsupported_url_is_a_clear_french_error(url, message):
    with pytest.raises(ValidationError) as error:
        plugin_for(url)
    assert error.value.messages[0].replace("\xa0", " ").startswith(message)


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:9200/hook",  # the server itself
        "jsons://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "mmost://10.1.2.3/abcdefghijkl",  # the internal network
        "json://[::1]:8080/hook",
    ],
)
def test_a_channel_on_a_private_or_local_address_is_refused(url, settings):
    """Anyone may add a personal channel: the workers must not post into the
    DSI's own network (or to themselves) on their behalf, unless allowed."""
    settings.CHANNEL_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as error:
        plugin_for(url)
    text = error.value.messages[0].replace("\xa0", " ")
    assert "réseau privé ou local" in text and "CHANNEL_ALLOW_PRIVATE_ADDRESSES" in text

    settings.CHANNEL_ALLOW_PRIVATE_ADDRESSES = True
    assert plugin_for(url)


def test_a_public_address_and_the_public_services_are_accepted(settings):
    settings.CHANNEL_ALLOW_PRIVATE_ADDRESSES = False
    assert plugin_for("jsons://93.184.216.34/hook")  # no name to resolve: no DNS needed
    assert plugin_for(f"slack://T1JJ3T3L2/A1BRTD4JD/{SECRET}")  # Slack's own address


def test_a_channel_turned_private_since_is_refused_when_posting(settings):
    """Checked again before each post: a name may point elsewhere since it was added."""
    from core.services.channel_delivery import post
    from core.services.channel_urls import InvalidChannelUrl

    settings.CHANNEL_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(InvalidChannelUrl):
        post("json://127.0.0.1:9/hook", title="Alertes", body="Rien")
