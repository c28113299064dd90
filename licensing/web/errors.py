"""The error summary: every error of the forms that failed, each a link to its field.

A page that shows a failed form puts `page_errors` in its context; `base.html`
then prefixes the title with "Error: " and shows the summary above the content
(`licensing/_error_summary.html`, focused on load by `licensing/forms.js`), after
the GOV.UK Design System's error summary. The summary and the field say the same
words: each field's message names the field itself (`licensing.web.forms.say_errors`),
so the summary shows it as it is, in the order of the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import BadRequest
from django.forms.formsets import BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.html import escape
from django.views import defaults


@dataclass(frozen=True)
class PageError:
    href: str
    """`#id_<field>` on this page, or another page's field (`/applications/1/edit/#id_x`)."""
    message: str


def form_errors(
    form: forms.BaseForm,
    *,
    anchor: str,
    prefix: str = "",
    fields: Iterable[str] | None = None,
    own: bool = True,
) -> list[PageError]:
    """`form`'s errors in the order of its fields, its own (non-field) errors first (shown
    above its fields, unless not `own`) and linked to `anchor`; or only those of `fields`, in
    that order, for a page that lays the form out in parts with others between."""
    entries = []
    if own:
        entries = [PageError(f"#{anchor}", f"{prefix}{m}") for m in form.non_field_errors()]
    for field in (form[name] for name in fields) if fields is not None else form:
        for message in field.errors:
            target = field.id_for_label or field.auto_id or anchor
            entries.append(PageError(f"#{target}", str(message)))
    return entries


def formset_errors(formset: BaseFormSet, *, anchor: str, noun: str) -> list[PageError]:
    """Each row's errors (whose messages name the row: "the quantity of good 2"); a row's own
    errors named by its position (`Good 2: ...`); the set's own linked to `anchor`."""
    entries = [PageError(f"#{anchor}", str(m)) for m in formset.non_form_errors()]
    for position, form in enumerate(formset.forms, start=1):
        if form.errors:
            entries += form_errors(form, anchor=anchor, prefix=f"{noun} {position}: ")
    return entries


class BadQuery(BadRequest):
    """A query string no page links to and no person means (`?page=` past any list): a 400
    whose message says what was wrong (`bad_request`)."""


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: our own `BadQuery` says what was wrong; any other 400 (a suspicious
    request) keeps Django's page, which says nothing of it."""
    if not isinstance(exception, BadQuery):
        return defaults.bad_request(request, exception)
    message = escape(str(exception))
    return HttpResponseBadRequest(
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Error: bad request</title></head>\n"
        f"<body><h1>Bad request</h1><p>{message}</p></body></html>\n",
        content_type="text/html; charset=utf-8",
    )
