"""The error summary: every error of the forms that failed, each a link to its field.

A page that shows a failed form puts `page_errors` in its context; `base.html`
then prefixes the title with "Error: " and shows the summary above the content
(`licensing/_error_summary.html`, focused on load by `licensing/forms.js`), after
the GOV.UK Design System's error summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import BadRequest
from django.forms.formsets import BaseFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.html import escape
from django.views import defaults

GENERIC = {"This field is required.": "Enter {label}."}


@dataclass(frozen=True)
class PageError:
    href: str
    """`#id_<field>` on this page, or another page's field (`/applications/1/edit/#id_x`)."""
    message: str


def _label(field: forms.BoundField) -> str:
    return str(field.label or field.name.replace("_", " ")).rstrip(":")


def _sentence(field: forms.BoundField, message: str) -> str:
    """The field's name with its error, so the summary reads without the form beside it."""
    label = _label(field)
    template = GENERIC.get(str(message))
    if template:
        return template.format(label=label[0].lower() + label[1:])
    return f"{label}: {message}"


def form_errors(form: forms.BaseForm, *, anchor: str, prefix: str = "") -> list[PageError]:
    """`form`'s errors in field order; its own (non-field) errors link to `anchor`."""
    entries = [PageError(f"#{anchor}", f"{prefix}{m}") for m in form.non_field_errors()]
    for field in form:
        for message in field.errors:
            target = field.id_for_label or field.auto_id or anchor
            entries.append(PageError(f"#{target}", prefix + _sentence(field, message)))
    return entries


def formset_errors(formset: BaseFormSet, *, anchor: str, noun: str) -> list[PageError]:
    """Each row's errors, named by its position (`Good 2: ...`); the set's own to `anchor`."""
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
