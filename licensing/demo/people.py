"""The demo organisations and people, and the demo administrator's authenticator.

Matched by name, so making them twice changes nothing. `seed_demo` calls these; the
bulk seeder (`licensing.demo.bulk`) needs them in place before it writes a case.
"""

from __future__ import annotations

from django.conf import settings

from accounts import two_factor
from accounts.models import Ministry, Organisation, RegisterStatus, Role, User
from licensing import policies

ORGANISATIONS = {
    "Ricor Demo Ltd": ("DER-0001", RegisterStatus.REGISTERED),
    "Galil Optronics Ltd": ("", RegisterStatus.PENDING),
}

USERS = [
    # username, role, organisation, ministry, first name, last name
    ("exporter", Role.EXPORTER, "Ricor Demo Ltd", "", "Dana", "Levi"),
    ("exporter2", Role.EXPORTER, "Galil Optronics Ltd", "", "Yossi", "Cohen"),
    ("defense", Role.REVIEWER, None, Ministry.DEFENSE, "Avi", "Mizrahi"),
    ("economy", Role.REVIEWER, None, Ministry.ECONOMY, "Noa", "Peretz"),
    ("foreign", Role.REVIEWER, None, Ministry.FOREIGN, "Tamar", "Biton"),
    ("defense-supervisor", Role.SUPERVISOR, None, Ministry.DEFENSE, "Eitan", "Friedman"),
    ("economy-supervisor", Role.SUPERVISOR, None, Ministry.ECONOMY, "Michal", "Katz"),
    ("foreign-supervisor", Role.SUPERVISOR, None, Ministry.FOREIGN, "Ronit", "Azulay"),
    ("committee", Role.COMMITTEE, None, "", "Yael", "Shapiro"),
    ("admin", Role.ADMINISTRATOR, None, "", "Site", "Administrator"),
]

# The demo administrator's authenticator key while DEBUG is on (administrators must use
# two-factor login), documented in README.md so whoever tries the product can add it to
# an authenticator app: base32 MRSW23ZNMFSG22LOFV2G65DQFVVWK6JB. With DEBUG off the key
# is random and printed once, when it is created.
DEMO_TOTP_KEY = b"demo-admin-totp-key!".hex()


def demo_people_ensure() -> int:
    """The demo organisations and users, made where missing; how many users were made."""
    organisations = {}
    for name, (number, status) in ORGANISATIONS.items():
        organisations[name], _ = Organisation.objects.get_or_create(
            name=name, defaults={"register_number": number, "register_status": status}
        )
    created_count = 0
    for username, role, organisation, ministry, first, last in USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "organisation": organisations.get(organisation),
                "ministry": ministry,
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
                "is_staff": role == Role.ADMINISTRATOR,
                "is_superuser": role == Role.ADMINISTRATOR,
            },
        )
        if created:
            user.set_password(settings.DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created_count += 1
    return created_count


def demo_authenticators_ensure() -> list[tuple[str, str]]:
    """An authenticator for each demo user who must use two-factor login (the admin).

    Returns the (username, base32 key) pairs to show: each key when it is made, and the
    documented demo key on every run while DEBUG is on.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    shown = []
    usernames = [username for username, *_ in USERS]
    for user in User.objects.filter(username__in=usernames).order_by("pk"):
        if not policies.must_use_two_factor(user):
            continue
        device = two_factor.device_of(user)
        created = device is None
        if created:
            fields = {"key": DEMO_TOTP_KEY} if settings.DEBUG else {}
            device = TOTPDevice.objects.create(
                user=user, name=two_factor.DEVICE_NAME, confirmed=True, **fields
            )
        if created or (settings.DEBUG and device.key == DEMO_TOTP_KEY):
            shown.append((user.username, two_factor.key_base32(device)))
    return shown
