"""Small helpers the pages share: people by full name, links that keep a list's query."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def person(user: Any, default: str = "-") -> str:
    """A person as people know them: the full name, else the username."""
    if user is None or user == "":
        return default
    return user.get_full_name() or user.get_username()


@register.simple_tag(takes_context=True)
def query_with(context: Any, **changes: Any) -> str:
    """This page's query string with `changes` applied (None drops a key): a list's filters
    and sort stay as they are when the page, the tab or the sort changes."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def days_left(count: Any) -> str:
    """Working days left before a due date, in words; negative counts are overdue."""
    if count is None or count == "":
        return ""
    count = int(count)
    if count < 0:
        return f"{-count} working day{'s' if count != -1 else ''} overdue"
    if count == 0:
        return "due today"
    return f"{count} working day{'s' if count != 1 else ''} left"
