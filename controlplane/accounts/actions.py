"""Sign-up, email verification, password reset and login; emails go through Django's mail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from controlplane.audit.actions import Actor, record
from controlplane.errors import ActionError, Unauthenticated
from controlplane.keys.models import AccessToken, TokenKind
from controlplane.links import console_link
from controlplane.teams.actions import create_team

from . import backoff
from .models import Profile

VERIFY_SALT = "strata.accounts.verify-email"
VERIFY_MAX_AGE = 3 * 24 * 3600


def _normalize(email: str) -> str:
    return email.strip().lower()


@transaction.atomic
def sign_up(email: str, password: str, name: str = "") -> User | None:
    """Create a user (argon2-hashed password) and email a verification token.

    An address that already has an account gets the same answer (None instead of the user,
    which the API does not show) after the same work; its owner is told by email instead, so
    sign-up does not reveal which addresses have accounts."""
    email = _normalize(email)
    user = User(username=email, email=email, first_name=name[:150])
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages), code="WeakPassword") from exc
    user.set_password(password)  # hashed in both cases: the time taken tells nothing either
    existing = User.objects.filter(username=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # a concurrent sign-up with this address won
            existing = User.objects.filter(username=email).first()
    if existing is not None:
        _send_already_registered(existing)
        record(Actor(), None, "user.sign_up_existing", existing)
        return None
    Profile.objects.create(user=user)
    record(Actor(user=user), None, "user.sign_up", user)
    # Like Convex: a new account lands on a team of its own, ready for a first project.
    create_team(Actor(user=user), user, f"{name.strip() or email.split('@')[0]}'s team")
    token = signing.TimestampSigner(salt=VERIFY_SALT).sign(str(user.pk))
    # Sent inside the transaction: if it rolls back the token names no user and is useless.
    _send_verification(user, token)
    return user


def _send_already_registered(user: User) -> None:
    profile, _ = Profile.objects.get_or_create(user=user)
    verify = ""
    if not profile.email_verified:
        token = signing.TimestampSigner(salt=VERIFY_SALT).sign(str(user.pk))
        verify = (
            "\n\nThe address is not verified yet; this token verifies it:\n\n"
            f"{token}\n\nPOST {settings.STRATA_CONTROL_PLANE_URL}/v1/auth/verify_email "
            '{"token": "<token>"}'
        )
    send_mail(
        "Your Strata account",
        "Someone, perhaps you, tried to create a Strata account with this email address, "
        "which already has one. Nothing was changed. Log in with your password, or reset it:"
        f"\n\nPOST {settings.STRATA_CONTROL_PLANE_URL}/v1/auth/request_password_reset "
        '{"email": "<this address>"}' + verify,
        None,
        [user.email],
    )


def _send_verification(user: User, token: str) -> None:
    send_mail(
        "Verify your Strata email",
        "Verify your email address by opening this link:\n\n"
        f"{console_link('/verify', token)}\n\n"
        f"Or use this token to verify your email address:\n\n{token}\n\n"
        f"POST {settings.STRATA_CONTROL_PLANE_URL}/v1/auth/verify_email "
        '{"token": "<token>"}',
        None,
        [user.email],
    )


@transaction.atomic
def verify_email(token: str) -> User:
    try:
        pk = signing.TimestampSigner(salt=VERIFY_SALT).unsign(token, max_age=VERIFY_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ActionError("The verification token has expired", code="TokenExpired") from exc
    except signing.BadSignature as exc:
        raise ActionError("The verification token is invalid", code="InvalidToken") from exc
    user = User.objects.select_for_update().get(pk=int(pk))
    profile, _ = Profile.objects.get_or_create(user=user)
    if profile.email_verified_at is None:
        profile.email_verified_at = timezone.now()
        profile.save(update_fields=["email_verified_at"])
        record(Actor(user=user), None, "user.verify_email", user)
    return user


def request_password_reset(email: str) -> None:
    """Email a reset token if the account exists (the response never says whether it does)."""
    user = User.objects.filter(username=_normalize(email), is_active=True).first()
    if user is None:
        return
    token = (
        f"{urlsafe_base64_encode(force_bytes(user.pk))}.{default_token_generator.make_token(user)}"
    )
    send_mail(
        "Reset your Strata password",
        "Choose a new password by opening this link:\n\n"
        f"{console_link('/reset', token)}\n\n"
        f"Or use this token to choose a new password:\n\n{token}\n\n"
        f"POST {settings.STRATA_CONTROL_PLANE_URL}/v1/auth/reset_password "
        '{"token": "<token>", "password": "<new password>"}',
        None,
        [user.email],
    )


@transaction.atomic
def reset_password(token: str, password: str) -> User:
    uid, _, check = token.partition(".")
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uid))))
    except (ValueError, TypeError, User.DoesNotExist) as exc:
        raise ActionError("The reset token is invalid", code="InvalidToken") from exc
    if not default_token_generator.check_token(user, check):
        raise ActionError("The reset token is invalid or was already used", code="InvalidToken")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages), code="WeakPassword") from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    record(Actor(user=user), None, "user.reset_password", user)
    revoke_personal_tokens(Actor(user=user), user)
    backoff.clear(user.username)  # a valid reset token proves control of the mailbox
    return user


@transaction.atomic
def change_password(actor: Actor, user: User, current: str, new: str) -> User:
    """Set a new password (the current one must be given); every other personal token of the
    user is revoked, so a leaked token dies with the old password. `actor.token` survives."""
    backoff.claim_attempt(user.username)  # guesses here count like failed logins
    if not user.check_password(current):
        backoff.record_failure(user.username)
        raise ActionError("The current password is wrong", code="InvalidCredentials")
    backoff.clear(user.username)
    try:
        validate_password(new, user)
    except ValidationError as exc:
        raise ActionError(" ".join(exc.messages), code="WeakPassword") from exc
    user.set_password(new)
    user.save(update_fields=["password"])
    record(actor, None, "user.change_password", user)
    revoke_personal_tokens(actor, user, keep=actor.token)
    return user


def revoke_personal_tokens(actor: Actor, user: User, keep: AccessToken | None = None) -> int:
    """Revoke all of `user`'s live personal tokens but `keep`; one audit event. The console
    and CLI authenticate with these tokens only (the control plane issues no sessions)."""
    live = AccessToken.objects.filter(kind=TokenKind.PERSONAL, user=user, revoked_at=None)
    if keep is not None:
        live = live.exclude(pk=keep.pk)
    ids = list(live.values_list("token_id", flat=True))
    if ids:
        AccessToken.objects.filter(token_id__in=ids).update(revoked_at=timezone.now())
        record(actor, None, "user.revoke_personal_tokens", user, token_ids=ids)
    return len(ids)


def check_credentials(email: str, password: str) -> User:
    """The user with this email and password; failures feed the per-account backoff."""
    email = _normalize(email)
    backoff.claim_attempt(email)
    user = authenticate(username=email, password=password)
    if not isinstance(user, User):
        backoff.record_failure(email)
        raise Unauthenticated("Wrong email or password")
    backoff.clear(email)
    profile, _ = Profile.objects.get_or_create(user=user)
    if settings.STRATA_REQUIRE_EMAIL_VERIFICATION and not profile.email_verified:
        raise ActionError("Verify your email address before logging in", code="EmailNotVerified")
    return user
