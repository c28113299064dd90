"""A person's notifications: every one, paged, unread ones marked; opening one marks it read.

Only the recipient's own rows are read or marked, and only their read mark
changes (as `POST /api/v1/notifications/{id}/read/` does): no service needed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.backends import UNREAD_CAP
from licensing import policies
from licensing.models import Notification
from licensing.web.actions import form_endpoint
from licensing.web.queues import counted_page

PAGE_SIZE = 25


class Unread:
    """How many of a person's notifications are unread: counted once, when a page asks."""

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def count(self) -> int:
        """Up to UNREAD_CAP: counted with the session's user (accounts.backends) when it
        was loaded there."""
        preloaded = getattr(self.user, "unread_notifications", None)
        if preloaded is not None:
            return preloaded
        unread = Notification.objects.filter(recipient=self.user, read_at__isnull=True)
        return unread.order_by()[:UNREAD_CAP].count()

    @property
    def label(self) -> str:
        """The count as the header shows it: "99+" from UNREAD_CAP on."""
        return f"{UNREAD_CAP - 1}+" if self.count >= UNREAD_CAP else str(self.count)


def unread_count(request: HttpRequest) -> dict:
    """The header (a context processor): the unread count, counted only when a page shows
    it, and which links the person has (from the policies)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread": Unread(user),
        "nav_queue": policies.workspace(user) == "ministry",
        "nav_licenses": policies.sees_license_list(user),
    }


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(recipient=request.user).order_by("-created_at", "-id")
    if request.GET.get("unread"):
        mine = mine.filter(read_at__isnull=True)
    page = counted_page(request, mine, PAGE_SIZE)
    return render(
        request,
        "licensing/notifications.html",
        {
            "page": page,
            "notifications": page.object_list,
            "only_unread": bool(request.GET.get("unread")),
        },
    )


def _list_page(request: HttpRequest, *args: object) -> str:
    return reverse("notifications")


@form_endpoint(_list_page)
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark it read (the first reading time is kept) and go to its case, or back to the list."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if notification.application_id:
        return redirect("application-detail", pk=notification.application_id)
    return redirect("notifications")


@form_endpoint(_list_page)
def notification_read_all(request: HttpRequest) -> HttpResponse:
    marked = Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    messages.success(request, f"{marked} notification{'s' if marked != 1 else ''} marked as read.")
    return redirect("notifications")
