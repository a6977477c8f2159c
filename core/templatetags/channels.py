"""The preferences page's channel section reads its own data (its owner's
channels, masked, and an empty form), so that the page's view need not know it."""

from __future__ import annotations

from typing import Any

from django import template

from core.forms import ChannelForm
from core.selectors.channels import channels_of_user

register = template.Library()


@register.simple_tag(takes_context=True)
def personal_channels(context: template.Context) -> dict[str, Any]:
    user = context["request"].user
    return {"canaux": list(channels_of_user(user=user)), "form": ChannelForm(prefix="canal")}
