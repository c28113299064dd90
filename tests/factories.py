"""Factories for the people and cases the tests talk about."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.conf import settings

from accounts.models import Ministry, Organisation, RegisterStatus, Role, User
from licensing.models import Application, ControlListEntry, Country, Good


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Exporter {n} Ltd")
    register_number = factory.Sequence(lambda n: f"DER-{n:04d}")
    register_status = RegisterStatus.REGISTERED


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", settings.DEMO_PASSWORD)
    role = Role.EXPORTER

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ExporterFactory(UserFactory):
    role = Role.EXPORTER
    organisation = factory.SubFactory(OrganisationFactory)


class ReviewerFactory(UserFactory):
    role = Role.REVIEWER
    ministry = Ministry.ECONOMY


class SupervisorFactory(UserFactory):
    role = Role.SUPERVISOR
    ministry = Ministry.ECONOMY


class CommitteeFactory(UserFactory):
    role = Role.COMMITTEE


class AdministratorFactory(UserFactory):
    role = Role.ADMINISTRATOR
    is_staff = True
    is_superuser = True


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A complete draft: one dual-use good to Germany, ready to submit."""

    class Meta:
        model = Application

    reference = factory.Sequence(lambda n: f"EXP-2026-{n + 900000:06d}")
    created_by = factory.SubFactory(ExporterFactory)
    organisation = factory.LazyAttribute(lambda a: a.created_by.organisation)
    license_type = "dual_use_export"
    destination = factory.LazyFunction(lambda: Country.objects.get(code="DE"))
    end_user_name = "Fraunhofer Demo Institute"
    end_user_address = "Hansastrasse 27c, Munich"
    end_user_country = factory.LazyFunction(lambda: Country.objects.get(code="DE"))
    end_user_type = "research"
    end_use = "Thermal imaging research on civilian infrastructure."
    military_end_use = False


class GoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Good

    application = factory.SubFactory(ApplicationFactory)
    description = "Miniature cryogenic cooler"
    control_list_entry = factory.LazyFunction(lambda: ControlListEntry.objects.get(code="6A003"))
    quantity = 10
    unit_value = Decimal("1500.00")
    currency = "USD"
    technology_generation = "previous"
    us_origin_content = False


def draft(
    *,
    code: str = "6A003",
    destination: str = "DE",
    goods: int = 1,
    technology_generation: str = "previous",
    us_origin_content: bool = False,
    **kwargs,
) -> Application:
    """A complete draft with `goods` goods of control entry `code`."""
    kwargs.setdefault("destination", Country.objects.get(code=destination))
    application = ApplicationFactory(**kwargs)
    entry = ControlListEntry.objects.get(code=code)
    for _ in range(goods):
        GoodFactory(
            application=application,
            control_list_entry=entry,
            technology_generation=technology_generation,
            us_origin_content=us_origin_content,
        )
    return application


# Cases further along, built through the services as people would.


def submitted(exporter, **kwargs) -> Application:
    """A complete draft of `exporter`'s organisation, submitted (routed, reviews pending)."""
    from licensing.services.applications import application_submit

    return application_submit(application=draft(created_by=exporter, **kwargs), user=exporter)


def recommend_all(application: Application, reviewers: dict, recommendations=None) -> Application:
    """Each open review claimed by its ministry's reviewer and completed.

    `recommendations` maps a ministry to its recommendation (default approve).
    """
    from licensing.models import Review
    from licensing.services.reviews import review_claim, review_recommend

    for review in Review.objects.filter(application=application, status="pending"):
        reviewer = reviewers[review.ministry]
        recommendation = (recommendations or {}).get(review.ministry, "approve")
        review_claim(review=review, user=reviewer)
        review_recommend(
            review=review,
            user=reviewer,
            recommendation=recommendation,
            reason="Against policy." if recommendation == "deny" else "",
            criteria=["7"] if recommendation == "deny" else [],
        )
    application.refresh_from_db()
    return application


def approved(exporter, reviewers, **kwargs) -> Application:
    """Submitted and approved by every ministry: it has an active license."""
    return recommend_all(submitted(exporter, **kwargs), reviewers)


def disputed(exporter, reviewers, **kwargs) -> Application:
    """A munitions export to China (Defense and Foreign review it); they disagree."""
    kwargs.setdefault("code", "ML10")
    kwargs.setdefault("destination", "CN")
    kwargs.setdefault("license_type", "marketing")
    application = submitted(exporter, **kwargs)
    return recommend_all(application, reviewers, {"defense": "approve", "foreign": "deny"})


def denied(exporter, reviewers, **kwargs) -> Application:
    """Submitted and denied by every ministry (citing criterion 7)."""
    application = submitted(exporter, **kwargs)
    return recommend_all(application, reviewers, dict.fromkeys(reviewers, "deny"))


def partially_approved(exporter, reviewers, *, refused: int = 1, **kwargs) -> Application:
    """Two or more goods; every ministry refuses the first `refused` (criteria 2 and 7) and
    approves the rest: partially approved, its licence covering the approved goods."""
    from licensing.models import Review
    from licensing.services.reviews import review_claim, review_recommend

    kwargs.setdefault("goods", 2)
    application = submitted(exporter, **kwargs)
    goods = list(application.goods.order_by("id"))
    for review in Review.objects.filter(application=application, status="pending"):
        reviewer = reviewers[review.ministry]
        review_claim(review=review, user=reviewer)
        review_recommend(
            review=review,
            user=reviewer,
            recommendation="approve",
            reason="Not the first goods.",
            goods=[
                {
                    "good": good.pk,
                    "recommendation": "deny" if i < refused else "approve",
                    "criteria": ["2", "7"] if i < refused else [],
                }
                for i, good in enumerate(goods)
            ],
        )
    application.refresh_from_db()
    return application


# Screening lists.

from licensing.services.screening import SAMPLE_LIST  # noqa: E402 - beside its helpers


def screening_list(name: str = "Sample consolidated list", *, blocking: bool = False, entries=None):
    """A screening list: `entries` (dicts of name, aliases, country, remarks), or the
    made-up sample list the project ships; loaded as `import_screening_list` loads it."""
    import csv
    import io

    from licensing.models import Country
    from licensing.services.screening import screening_list_import, screening_rows_read

    if entries is None:
        text = io.StringIO(SAMPLE_LIST.read_text(encoding="utf-8"), newline="")
    else:
        text = io.StringIO(newline="")
        writer = csv.DictWriter(text, fieldnames=["name", "aliases", "country", "remarks"])
        writer.writeheader()
        for entry in entries:
            writer.writerow({"aliases": "", "country": "", "remarks": "", **entry})
        text.seek(0)
    rows = screening_rows_read(text, set(Country.objects.values_list("code", flat=True)))
    return screening_list_import(name=name, rows=rows, blocking=blocking)


def other_party(application, *, kind="third_party", name, country="DE", type="commercial"):
    """Another party on a draft, as the draft service adds it."""
    from licensing.models import OtherParty

    party = OtherParty.objects.create(
        application=application,
        kind=kind,
        name=name,
        address="1 Made-up Street",
        country_id=country,
        type=type,
    )
    Application.objects.filter(pk=application.pk).update(
        other_party_count=application.other_parties.count()
    )
    application.refresh_from_db()
    return party
