"""One JSON wire format for convostate's values: events, conversations, commands and the facade's results.

Why one format: a host's JSON API and the SQL store (coming) both turn these values into JSON and back, and
they must agree, so that what the API shows is what the store keeps, and a document written by one release
is read, or knowingly refused, by the next. The format, pinned by ``tests/test_codec.py``:

- every JSON object is one convostate value and names its class in ``"type"`` (``"Closed"``,
  ``"Conversation"``, ``"Outcome"``), nested ones included; the top-level object also carries
  ``"schema": 1``, the version of this format, so that a future change is detected rather than misread;
- everything else is a plain JSON value: ids are their text; instants are ISO 8601 in UTC with the offset
  (``"2026-03-02T09:00:00.000123+00:00"``); enums are their value (``"open"``); sets are sorted arrays; an
  actor is ``"user:ana"``, ``"contact:maria"`` or ``"rule:<id>"``; a calendar duration is ISO 8601
  (``"P1W"``); an email's bytes are base64.

Decoding builds every value with its class's constructor, so its checks run. Anything else (an unknown
type, another schema, a missing or unexpected field, a wrong type, a time without an offset, text that is not
JSON) is refused with :class:`~convostate.InvalidInput`, which says what was expected and where.

:func:`problem` turns a refusal into the answer of a JSON API: an HTTP status and a problem-details body.
"""

from __future__ import annotations

from convostate._codec import SCHEMA as SCHEMA
from convostate._codec import TYPES as TYPES
from convostate._codec import from_data as from_data
from convostate._codec import from_json as from_json
from convostate._codec import to_data as to_data
from convostate._codec import to_json as to_json
from convostate._problem import PROBLEM_MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from convostate._problem import problem as problem

__all__ = ["PROBLEM_MEDIA_TYPE", "SCHEMA", "TYPES", "from_data", "from_json", "problem", "to_data", "to_json"]
