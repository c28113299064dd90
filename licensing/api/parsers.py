"""Request parsers: JSON that cannot be parsed is the client's error, whatever its shape."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _has_lone_surrogate(text: str) -> bool:
    """True when `text` holds half a UTF-16 pair (JSON's "\\ud800"), which no encoder takes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _strings(data: Any):
    """Every string in parsed JSON, keys included; iterative, so depth costs no stack."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class SafeJSONParser(JSONParser):
    """JSON the database and the encoder cannot take is a 400 ParseError, not a server error.

    - nested deeper than Python's recursion limit;
    - a lone surrogate escape such as "\\ud800": valid JSON syntax, but not a Unicode
      character, so it would fail later when encoded for the database or the response.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
        if any(_has_lone_surrogate(text) for text in _strings(data)):
            raise ParseError(
                "JSON parse error - a string holds a lone surrogate escape (such as \\ud800), "
                "which is not a Unicode character."
            )
        return data
