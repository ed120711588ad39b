"""`record()` is called by every action that changes state, inside its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from controlplane.keys.models import AccessToken
    from controlplane.teams.models import Team


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a user, possibly through one of their tokens, or the system."""

    user: User | None = None
    token: AccessToken | None = None

    @property
    def label(self) -> str:
        if self.token is not None:
            return f"token:{self.token.token_id}"
        if self.user is not None:
            return f"user:{self.user.pk}"
        return "system"


SYSTEM = Actor()


def record(
    actor: Actor,
    team: Team | None,
    action: str,
    target: Any,
    **metadata: Any,
) -> AuditEvent:
    """Write one audit event; `target` is a model instance (type and pk are kept)."""
    return AuditEvent.objects.create(
        team=team,
        actor=actor.user,
        actor_token=actor.token.token_id if actor.token is not None else "",
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=str(getattr(target, "pk", target)),
        metadata=metadata,
    )
