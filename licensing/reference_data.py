"""The reference data every installation starts with: lists, control entries, rules, policies.

Loaded by a data migration (so every database, tests included, has it) and
safe to load again: each row is matched on its natural key.
"""

from __future__ import annotations

from django.utils import timezone

COUNTRY_LISTS = {
    "embargoed": ("Embargoed destinations", ["IR", "SY", "LB", "IQ"]),
    "sensitive": ("Sensitive countries", ["CN", "IN"]),
}

MUNITIONS = [
    (
        "ML1",
        "Smooth-bore weapons with a calibre of less than 20 mm, other arms and automatic weapons with a calibre of 12.7 mm or less",
    ),
    (
        "ML2",
        "Smooth-bore weapons with a calibre of 20 mm or more, other weapons or armament with a calibre greater than 12.7 mm",
    ),
    ("ML3", "Ammunition and fuze setting devices"),
    ("ML4", "Bombs, torpedoes, rockets, missiles, other explosive devices and charges"),
    ("ML5", "Fire control, surveillance and warning equipment, and related systems"),
    ("ML6", "Ground vehicles and components"),
    ("ML7", "Chemical agents, biological agents, riot control agents, radioactive materials"),
    ("ML8", "Energetic materials"),
    ("ML9", "Vessels of war, special naval equipment, accessories and components"),
    (
        "ML10",
        "Aircraft, lighter than air vehicles, unmanned aerial vehicles, aero-engines and aircraft equipment",
    ),
    ("ML11", "Electronic equipment, spacecraft and components, not specified elsewhere"),
    ("ML12", "High velocity kinetic energy weapon systems and related equipment"),
    ("ML13", "Armoured or protective equipment, constructions and components"),
    ("ML14", "Specialised equipment for military training or for simulating military scenarios"),
    ("ML15", "Imaging or countermeasure equipment, specially designed for military use"),
    ("ML16", "Forgings, castings and other unfinished products specially designed for ML items"),
    ("ML17", "Miscellaneous equipment, materials and libraries"),
    ("ML18", "Production equipment and components"),
    ("ML19", "Directed energy weapon (DEW) systems, related or countermeasure equipment"),
    ("ML20", "Cryogenic and superconductive equipment, and specially designed components"),
    ("ML21", "Software for military items"),
    ("ML22", "Technology for the development, production or use of military items"),
]

DUAL_USE = [
    ("0A001", "Nuclear reactors and specially designed equipment and components"),
    ("0B001", "Plant for the separation of isotopes of natural uranium"),
    ("1A004", "Protective and detection equipment not specially designed for military use"),
    ("1C010", "Fibrous or filamentary materials (carbon, aramid, glass fibres)"),
    ("1C351", "Human and animal pathogens and toxins"),
    ("2B001", "Machine tools for removing or cutting metals, ceramics or composites"),
    ("2B006", "Dimensional inspection or measuring systems and equipment"),
    (
        "3A001",
        "Electronic components: integrated circuits, microwave components, signal processing",
    ),
    ("3A090", "Advanced computing integrated circuits"),
    ("3B001", "Equipment for the manufacture of semiconductor devices or materials"),
    ("4A003", "Digital computers, electronic assemblies and related equipment"),
    ("4D004", "Intrusion software"),
    ("5A001", "Telecommunications systems, equipment and components"),
    ("5A002", "Information security systems and equipment (cryptography)"),
    ("5D002", "Information security software"),
    ("6A002", "Optical sensors and equipment (focal plane arrays, image intensifiers)"),
    ("6A003", "Cameras, systems or equipment (including thermal imaging cameras)"),
    ("6A008", "Radar systems, equipment and assemblies"),
    ("7A003", "Inertial measurement equipment or systems"),
    ("7A005", "Global navigation satellite systems receiving equipment"),
    ("8A001", "Submersible vehicles and surface vessels"),
    ("8A002", "Marine systems, equipment and components"),
    ("9A001", "Aero gas turbine engines"),
    ("9A004", "Space launch vehicles and spacecraft"),
    ("9A012", "Unmanned aerial vehicles (UAVs), associated systems, equipment and components"),
]

# (priority, name, action, ministry, message, conditions)
ROUTING_RULES = [
    (
        10,
        "Embargoed destination",
        "refuse",
        "",
        "Exports to this destination are embargoed: the application cannot be submitted.",
        {"destination_list": "embargoed"},
    ),
    (
        20,
        "Munitions items need a Defense review",
        "require_review",
        "defense",
        "",
        {"regime": "munitions"},
    ),
    (
        30,
        "Dual-use items need an Economy review",
        "require_review",
        "economy",
        "",
        {"regime": "dual_use"},
    ),
    (
        40,
        "Dual-use items for a military end use need a Defense review",
        "require_review",
        "defense",
        "",
        {"regime": "dual_use", "military_end_use": True},
    ),
    (
        50,
        "Sensitive destination needs a Foreign Affairs review",
        "require_review",
        "foreign",
        "",
        {"destination_list": "sensitive"},
    ),
    (
        60,
        "Munitions items need a Foreign Affairs review",
        "require_review",
        "foreign",
        "",
        {"regime": "munitions"},
    ),
    (
        70,
        "Current-generation technology to a sensitive destination needs a Defense review",
        "require_review",
        "defense",
        "",
        {"destination_list": "sensitive", "technology_generation": "current"},
    ),
]

# ministry: (review days, reminder days before, [(days after due, action)])
DEADLINE_POLICIES = {
    "defense": (15, 3, [(0, "notify_supervisor"), (5, "notify_committee")]),
    "economy": (20, 3, [(0, "notify_supervisor"), (5, "refer_to_committee")]),
    "foreign": (5, 1, [(0, "deem_no_objection")]),
}

LICENSE_VALIDITY = {"marketing": 3, "export": 2, "dual_use_export": 1}

# The eight criteria of the EU Common Position 2008/944/CFSP (Article 2), by number.
REFUSAL_CRITERIA = [
    (
        "1",
        "Respect for the international obligations and commitments of Member States",
        "In particular the sanctions adopted by the UN Security Council or the European Union, "
        "agreements on non-proliferation and other subjects, as well as other international "
        "obligations.",
    ),
    (
        "2",
        "Respect for human rights in the country of final destination and respect by that "
        "country of international humanitarian law",
        "",
    ),
    (
        "3",
        "Internal situation in the country of final destination, as a function of the "
        "existence of tensions or armed conflicts",
        "",
    ),
    ("4", "Preservation of regional peace, security and stability", ""),
    (
        "5",
        "National security of the Member States and of friendly and allied countries",
        "And of territories whose external relations are the responsibility of a Member State.",
    ),
    (
        "6",
        "Behaviour of the buyer country with regard to the international community",
        "As regards in particular its attitude to terrorism, the nature of its alliances and "
        "respect for international law.",
    ),
    (
        "7",
        "Existence of a risk that the military technology or equipment will be diverted within "
        "the buyer country or re-exported under undesirable conditions",
        "",
    ),
    (
        "8",
        "Compatibility of the exports with the technical and economic capacity of the "
        "recipient country",
        "Taking into account the desirability that states should meet their legitimate "
        "security and defence needs with the least diversion of human and economic resources "
        "for armaments.",
    ),
]
# The committee's appeal deadline: (working days to decide, notify the committee at due + k).
APPEAL_POLICY = (20, 0)


def _history(apps, model_name: str, obj, fields: list[str]) -> None:
    """Write the first history record, as simple-history would outside a migration."""
    historical = apps.get_model("licensing", f"Historical{model_name}")
    historical.objects.create(
        id=obj.pk,
        history_date=timezone.now(),
        history_type="+",
        history_change_reason="Seeded",
        **{name: getattr(obj, name) for name in fields},
    )


def load(apps) -> None:
    """Load (or complete) the reference data; rows already present are left as they are."""
    _countries(apps)
    lists = _country_lists(apps)
    _control_entries(apps)
    _routing_rules(apps, lists)
    _deadline_policies(apps)
    LicenseValidity = apps.get_model("licensing", "LicenseValidity")
    for license_type, years in LICENSE_VALIDITY.items():
        LicenseValidity.objects.get_or_create(license_type=license_type, defaults={"years": years})
    try:
        apps.get_model("licensing", "RefusalCriterion")
    except LookupError:  # an earlier migration: 0010 seeds these
        return
    load_changing_course(apps)


def load_changing_course(apps) -> None:
    """The refusal criteria and the appeal deadline policy (DESIGN section 9)."""
    RefusalCriterion = apps.get_model("licensing", "RefusalCriterion")
    for code, title, description in REFUSAL_CRITERIA:
        criterion, created = RefusalCriterion.objects.get_or_create(
            code=code, defaults={"title": title, "description": description}
        )
        if created:
            _history(
                apps, "RefusalCriterion", criterion, ["code", "title", "description", "active"]
            )
    AppealPolicy = apps.get_model("licensing", "AppealPolicy")
    if not AppealPolicy.objects.exists():
        days, after = APPEAL_POLICY
        policy = AppealPolicy.objects.create(
            pk=1, decision_days=days, notify_committee_after_days=after
        )
        _history(apps, "AppealPolicy", policy, ["decision_days", "notify_committee_after_days"])


def _countries(apps) -> None:
    import pycountry

    Country = apps.get_model("licensing", "Country")
    existing = set(Country.objects.values_list("code", flat=True))
    Country.objects.bulk_create(
        [
            Country(code=c.alpha_2, name=getattr(c, "common_name", None) or c.name)
            for c in pycountry.countries
            if c.alpha_2 not in existing
        ]
    )


def _country_lists(apps) -> dict:
    CountryList = apps.get_model("licensing", "CountryList")
    lists = {}
    for slug, (name, codes) in COUNTRY_LISTS.items():
        country_list, created = CountryList.objects.get_or_create(
            slug=slug, defaults={"name": name}
        )
        if created:
            country_list.countries.set(codes)
        lists[slug] = country_list
    return lists


def _control_entries(apps) -> None:
    ControlListEntry = apps.get_model("licensing", "ControlListEntry")
    for regime, entries in (("munitions", MUNITIONS), ("dual_use", DUAL_USE)):
        for code, description in entries:
            entry, created = ControlListEntry.objects.get_or_create(
                code=code, defaults={"regime": regime, "description": description}
            )
            if created:
                _history(apps, "ControlListEntry", entry, ["code", "regime", "description"])


def _routing_rules(apps, lists: dict) -> None:
    RoutingRule = apps.get_model("licensing", "RoutingRule")
    if RoutingRule.objects.exists():
        return
    fields = [f.attname for f in RoutingRule._meta.concrete_fields if f.name != "id"]
    for priority, name, action, ministry, message, rule_conditions in ROUTING_RULES:
        conditions = dict(rule_conditions)
        if "destination_list" in conditions:
            conditions["destination_list"] = lists[conditions["destination_list"]]
        rule = RoutingRule.objects.create(
            priority=priority,
            name=name,
            action=action,
            ministry=ministry,
            message=message,
            **conditions,
        )
        _history(apps, "RoutingRule", rule, fields)


def _deadline_policies(apps) -> None:
    DeadlinePolicy = apps.get_model("licensing", "DeadlinePolicy")
    EscalationStep = apps.get_model("licensing", "EscalationStep")
    for ministry, (days, reminder, steps) in DEADLINE_POLICIES.items():
        policy, created = DeadlinePolicy.objects.get_or_create(
            ministry=ministry, defaults={"review_days": days, "reminder_days_before": reminder}
        )
        if not created:
            continue
        _history(
            apps, "DeadlinePolicy", policy, ["ministry", "review_days", "reminder_days_before"]
        )
        for after, action in steps:
            step = EscalationStep.objects.create(policy=policy, days_after_due=after, action=action)
            _history(apps, "EscalationStep", step, ["policy_id", "days_after_due", "action"])
