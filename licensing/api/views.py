"""Thin API views: validate input, call one service, render for the caller's audience.

Visibility lives in the querysets (`licensing.selectors`), so an object the
caller may not see is a 404 before any service runs; a visible object the
caller may not act on is the service's `NotPermitted`, a 403.
"""

from __future__ import annotations

from io import BytesIO

from django.db.models import Prefetch, QuerySet
from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as drf_action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from licensing import actions, page_cache, policies
from licensing.api import filters, inputs
from licensing.api import serializers as s
from licensing.clock import local_today
from licensing.exceptions import InvalidInput
from licensing.license_document import license_pdf
from licensing.models import (
    Application,
    ControlListEntry,
    Country,
    Good,
    InformationRequest,
    License,
    LicenseGood,
    Notification,
    Review,
    ScreeningMatch,
)
from licensing.selectors import (
    amendment_changes,
    applications_visible_to,
    events_visible_to,
    licenses_visible_to,
    reviews_visible_to,
    screening_matches_visible_to,
    with_parties_and_matches,
)
from licensing.services.applications import application_create_draft
from licensing.services.common import acting_on
from licensing.services.shipments import shipment_check
from licensing.storage import document_response

ID = r"[0-9]+"
# The generated endpoints' method names (DRF's `self.action` while one runs).
ACTION_METHODS = tuple(
    action.name.replace("-", "_") for action in actions.ACTIONS if action.endpoint
)
RENDERED_RELATIONS = {
    "goods",
    "reviews",
    "information_requests",
    "routing",
    "other_parties",
    "screening_matches",
}


def _is_exporter(request: Request) -> bool:
    return policies.sees_exporter_view(request.user)


# One shape per audience, told apart by the `audience` field (the schema's discriminator).
APPLICATION_SHAPES = {
    "exporter": s.ExporterApplicationSerializer,
    "staff": s.StaffApplicationSerializer,
}
APPLICATION = PolymorphicProxySerializer(
    component_name="Application",
    serializers=APPLICATION_SHAPES,
    resource_type_field_name="audience",
)
APPLICATIONS = PolymorphicProxySerializer(
    component_name="Application",
    serializers=APPLICATION_SHAPES,
    resource_type_field_name="audience",
    many=True,
)
EVENTS = PolymorphicProxySerializer(
    component_name="Event",
    serializers={"exporter": s.ExporterEventSerializer, "staff": s.StaffEventSerializer},
    resource_type_field_name="audience",
    many=True,
)


def _action_endpoint(action: actions.Action, response: object):
    """`POST .../{id}/<name>/` for one registered action: who and when (403, 409) before the
    body (400), then the action's service, then the object as the caller sees it."""

    def endpoint(self, request: Request, pk: str) -> Response:
        with acting_on(action.target, int(pk), request.user, self.get_object) as obj:
            self.check_object_permissions(request, obj)
            action.require(obj, request.user)
            data: dict = {}
            if action.serializer is not None:
                serializer = action.serializer(
                    data=request.data, context={**self.get_serializer_context(), "target": obj}
                )
                serializer.is_valid(raise_exception=True)
                data = dict(serializer.validated_data)
            result = action.run(obj, request.user, data)
        if action.creates:
            return _render_application(request, result, status.HTTP_201_CREATED)
        return self._render(result if isinstance(result, type(obj)) else obj)

    endpoint.__name__ = action.name.replace("-", "_")
    endpoint.__doc__ = f"{action.label}. Answers the {action.target_name} as the caller sees it."
    endpoint = drf_action(
        detail=True,
        methods=["post"],
        url_path=action.name,
        url_name=action.name,
        filterset_class=None,
        ordering_fields=[],
    )(endpoint)
    # After @action, which replaces the function's kwargs where the schema is kept.
    if action.creates:
        response = {201: APPLICATION}
    return extend_schema(request=action.serializer, responses=response)(endpoint)


def rendered_applications(visible: QuerySet[Application]) -> QuerySet[Application]:
    """What an application's representation reads, in one query per relation: its
    relations as lists (`<relation>_list`, what the serializers read), its licence and
    appeal with the row."""
    return visible.select_related(
        "organisation",
        "marketing_license",
        "license",
        "amends_license",
        "appeal",
    ).prefetch_related(
        Prefetch(
            "goods",
            queryset=Good.objects.select_related("control_list_entry"),
            to_attr="goods_list",
        ),
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related("assigned_to"),
            to_attr="reviews_list",
        ),
        Prefetch(
            "information_requests",
            queryset=InformationRequest.objects.select_related("review", "asked_by", "answered_by"),
            to_attr="information_requests_list",
        ),
        Prefetch("routing", to_attr="routing_list"),
    )


def _application_serializer(request: Request):
    if _is_exporter(request):
        return s.ExporterApplicationSerializer
    return s.StaffApplicationSerializer


def _render_application(request: Request, application: Application, code: int) -> Response:
    """An application (a new amendment draft) as the caller sees it."""
    found = rendered_applications(applications_visible_to(request.user)).get(pk=application.pk)
    with_parties_and_matches([found], matches=policies.sees_screening(request.user))
    serializer = _application_serializer(request)(found, context={"request": request})
    return Response(serializer.data, status=code)


def action_endpoints(model: type, response: object):
    """Give a viewset one generated endpoint per registered action on `model`."""

    def add(viewset: type) -> type:
        for action in actions.actions_for(model):
            if action.endpoint:
                setattr(viewset, action.name.replace("-", "_"), _action_endpoint(action, response))
        return viewset

    return add


# Reference data


class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Country.objects.all()
    serializer_class = s.CountrySerializer
    filterset_class = filters.CountryFilter
    ordering_fields = ["code", "name"]
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z]{2}"

    def get_object(self) -> Country:
        self.kwargs["code"] = self.kwargs["code"].upper()  # /countries/de/ is Germany too
        return super().get_object()


class ControlListEntryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = ControlListEntry.objects.all()
    serializer_class = s.ControlListEntrySerializer
    filterset_class = filters.ControlListEntryFilter
    ordering_fields = ["code", "regime"]
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9]{1,20}"


# Applications


@extend_schema_view(
    list=extend_schema(responses=APPLICATIONS),
    retrieve=extend_schema(responses=APPLICATION),
    create=extend_schema(request=inputs.ApplicationInputSerializer, responses={201: APPLICATION}),
    partial_update=extend_schema(request=inputs.ApplicationInputSerializer, responses=APPLICATION),
    destroy=extend_schema(responses={204: None}),
)
@action_endpoints(Application, APPLICATION)
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_class = filters.ApplicationFilter
    ordering_fields = ["created_at", "submitted_at", "reference", "status"]
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[Application]:
        if getattr(self, "swagger_fake_view", False):
            return Application.objects.none()
        visible = applications_visible_to(self.request.user)
        if self.action in ("documents", "events", "changes", "document_file", *ACTION_METHODS):
            return visible  # only to find the application; its parts are rendered apart
        return self._rendered(visible)

    def _rendered(self, visible: QuerySet[Application]) -> QuerySet[Application]:
        return rendered_applications(visible)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        """The application as the caller sees it, read again only once the data changed
        (`licensing.page_cache`: kept under its version); a 404 is never kept."""

        def read() -> dict:
            return super(ApplicationViewSet, self).retrieve(request, *args, **kwargs).data

        path = request.get_full_path()
        pk = int(kwargs["pk"])  # the version's key names the row, whatever the digits
        return Response(page_cache.cached_data(request, pk, ("application", path), read))

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):
            return s.ExporterApplicationSerializer
        return _application_serializer(self.request)

    def get_serializer(self, *args, **kwargs):
        """Every representation starts here: the parties (and matches) of the rows first,
        read only for rows whose counters say they have some."""
        if args and isinstance(args[0], Application | list):
            rows = args[0] if isinstance(args[0], list) else [args[0]]
            with_parties_and_matches(rows, matches=not _is_exporter(self.request))
        return super().get_serializer(*args, **kwargs)

    def _render(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        """The application as the caller sees it; a service that returned it with everything
        it read and wrote (creation, submission) spares reading it all again."""
        written = getattr(application, "written", None)
        if written is not None and written.keys() >= RENDERED_RELATIONS:
            # The lists the serializers read, as `rendered_applications` leaves them; its
            # licence and appeal, none (`written` says so).
            for relation in RENDERED_RELATIONS:
                setattr(application, f"{relation}_list", written[relation])
        else:
            visible = applications_visible_to(self.request.user)
            application = self._rendered(visible).get(pk=application.pk)
        return Response(self.get_serializer(application).data, status=code)

    def _input(self, serializer_class, **kwargs):
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer

    def create(self, request: Request) -> Response:
        fields, goods, parties = self._input(inputs.ApplicationInputSerializer).service_arguments()
        application = application_create_draft(
            user=request.user, fields=fields, goods=goods or (), other_parties=parties or ()
        )
        return self._render(application, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        application = self.get_object()
        edit = actions.get(Application, "edit")
        edit.require(application, request.user)
        fields, goods, parties = self._input(
            inputs.ApplicationInputSerializer, partial=True
        ).service_arguments()
        edit.run(
            application,
            request.user,
            {"fields": fields, "goods": goods, "other_parties": parties},
        )
        return self._render(application)

    def destroy(self, request: Request, pk: str) -> Response:
        actions.get(Application, "delete").run(self.get_object(), request.user, {})
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], request=None, responses=s.DocumentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": inputs.DocumentUploadSerializer},
        responses={201: s.DocumentSerializer},
    )
    @drf_action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        filterset_class=None,
        ordering_fields=[],
    )
    def documents(self, request: Request, pk: str) -> Response:
        application = self.get_object()
        if request.method == "POST":
            upload = actions.get(Application, "upload")
            upload.require(application, request.user)
            data = self._input(upload.serializer).validated_data
            document = upload.run(application, request.user, dict(data))
            return Response(s.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(application.documents.select_related("uploaded_by"))
        return self.get_paginated_response(s.DocumentSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            302: OpenApiResponse(
                description="Documents kept in object storage: a redirect to a short-lived "
                "presigned URL for the file."
            ),
        },
    )
    @drf_action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<document_id>[0-9]+)/file",
        filterset_class=None,
        ordering_fields=[],
        pagination_class=None,
    )
    def document_file(self, request: Request, pk: str, document_id: str) -> HttpResponseBase:
        """The document itself, as uploaded; only to those who may see the application."""
        application = self.get_object()
        document = get_object_or_404(application.documents, pk=document_id)
        # Permission checked above; the file itself, an X-Accel-Redirect, or a presigned URL.
        return document_response(document)

    @extend_schema(request=None, responses=s.ChangeSerializer(many=True))
    @drf_action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        ordering_fields=[],
        pagination_class=None,
    )
    def changes(self, request: Request, pk: str) -> Response:
        """What an amendment changed from the application (or licence) it amends: fields, and
        goods by position (1 for the first). Empty for an application that amends nothing."""
        application = self.get_object()
        return Response(s.ChangeSerializer(amendment_changes(application), many=True).data)

    @extend_schema(request=None, responses=EVENTS)
    @drf_action(detail=True, methods=["get"], filterset_class=None, ordering_fields=[])
    def events(self, request: Request, pk: str) -> Response:
        application = self.get_object()
        serializer_class = (
            s.ExporterEventSerializer if _is_exporter(request) else s.StaffEventSerializer
        )
        page = self.paginate_queryset(events_visible_to(request.user, application))
        return self.get_paginated_response(serializer_class(page, many=True).data)


# Reviews


@action_endpoints(Review, s.QueueReviewSerializer)
class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's ministry queue (administrators: every ministry's)."""

    serializer_class = s.QueueReviewSerializer
    filterset_class = filters.ReviewFilter
    ordering_fields = ["due_date", "received_on", "id", "status"]
    ordering = ["due_date", "id"]
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[Review]:
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return reviews_visible_to(self.request.user).select_related("application", "assigned_to")

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": local_today()}

    def _render(self, review: Review) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data)


# Screening matches


@action_endpoints(ScreeningMatch, s.ScreeningMatchSerializer)
class ScreeningMatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Parties resembling screening list entries, on the applications the caller sees
    (staff only: an exporter finds none)."""

    serializer_class = s.ScreeningMatchSerializer
    filterset_class = filters.ScreeningMatchFilter
    ordering_fields = ["found_at", "id", "score"]
    ordering = ["-found_at", "-id"]
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[ScreeningMatch]:
        if getattr(self, "swagger_fake_view", False):
            return ScreeningMatch.objects.none()
        return (
            screening_matches_visible_to(self.request.user)
            .select_related("application", "resolved_by")
            .prefetch_related(
                Prefetch(
                    "application__reviews",
                    queryset=Review.objects.only(
                        # `status` too: the FSM mixin reads it from every row it builds
                        "id",
                        "application_id",
                        "ministry",
                        "status",
                    ),
                )
            )
        )

    def _render(self, match: ScreeningMatch) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=match.pk)).data)


# Licenses


@action_endpoints(License, s.LicenseSerializer)
class LicenseViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.LicenseSerializer
    filterset_class = filters.LicenseFilter
    ordering_fields = ["issued_at", "valid_until", "number"]
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[License]:
        if getattr(self, "swagger_fake_view", False):
            return License.objects.none()
        visible = licenses_visible_to(self.request.user)
        if self.action == "shipments":
            return visible  # only to find the licence; it is rendered apart
        rendered = self._rendered(visible)
        if self.action == "document":
            return rendered.select_related(
                "destination", "application__end_user_country", "application__consignee_country"
            )
        return rendered

    def _rendered(self, visible: QuerySet[License]) -> QuerySet[License]:
        """What the licence's representation reads: its goods in one more query."""
        return visible.select_related("application", "organisation", "replaces").prefetch_related(
            Prefetch("goods", queryset=LicenseGood.objects.select_related("control_list_entry"))
        )

    def _render(self, license: License) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=license.pk)).data)

    @extend_schema(methods=["GET"], request=None, responses=s.ShipmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request=inputs.ShipmentInputSerializer,
        responses={201: s.RecordedShipmentSerializer, 200: s.RecordedShipmentSerializer},
        description="Record a shipment: 201 with it and the licence's goods as they now stand; "
        "200 with the shipment already recorded under this reference when the body is the "
        "same (nothing deducted again); 409 when the reference was used with another body "
        "(`code` `reference_reused`), when a line exceeds what remains (`exceeds_remaining`), "
        "when the shipping date is outside the validity (`outside_validity`), or when the "
        "licence is not active.",
    )
    @drf_action(detail=True, methods=["get", "post"], filterset_class=None, ordering_fields=[])
    def shipments(self, request: Request, pk: str) -> Response:
        """The shipments drawn against the licence, newest first."""
        license = self.get_object()
        if request.method == "POST":
            reference = request.data.get("reference") if isinstance(request.data, dict) else None
            # Who and when (403, 409) before the body (400), a retry of a recorded one aside.
            shipment_check(license=license, user=request.user, reference=reference)
            serializer = inputs.ShipmentInputSerializer(data=request.data)
            if not serializer.is_valid():
                raise InvalidInput(inputs.line_errors(serializer.errors))
            ship = actions.get(License, "ship")
            shipment = ship.run(license, request.user, dict(serializer.validated_data))
            visible = licenses_visible_to(request.user)
            shipment.license = self._rendered(visible).get(pk=license.pk)  # as it now stands
            return Response(
                s.RecordedShipmentSerializer(shipment, context=self.get_serializer_context()).data,
                status=status.HTTP_200_OK if shipment.replayed else status.HTTP_201_CREATED,
            )
        page = self.paginate_queryset(license.shipments.prefetch_related("lines"))
        return self.get_paginated_response(s.ShipmentSerializer(page, many=True).data)

    @extend_schema(request=None, responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @drf_action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        ordering_fields=[],
        pagination_class=None,
    )
    def document(self, request: Request, pk: str) -> FileResponse:
        """The licence document (PDF), with a QR code of its verification address."""
        license = self.get_object()
        pdf = license_pdf(license, verification_url=s.verification_url(license))
        return FileResponse(
            BytesIO(pdf),
            content_type="application/pdf",
            as_attachment=True,
            filename=f"{license.number}.pdf",
        )


# Notifications


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own in-app notifications, newest first."""

    serializer_class = s.NotificationSerializer
    filterset_class = filters.NotificationFilter
    ordering_fields = ["created_at"]
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user).order_by(
            "-created_at", "-id"
        )

    @extend_schema(request=None)
    @drf_action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark as read (idempotent: the first reading time is kept)."""
        notification = self.get_object()
        if notification.read_at is None:
            # Only the recipient's own row, and only its read mark: no service needed.
            Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
                read_at=timezone.now()
            )
            notification.refresh_from_db(fields=["read_at"])
        return Response(self.get_serializer(notification).data)
