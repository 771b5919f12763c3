"""Phone numbers to E.164, the one spelling a provider's webhook can be matched against.

With the ``phone`` extra (Google's libphonenumber, as the ``phonenumbers`` package) any spelling a person
writes is understood, national ones given the account's ``phone_region``; without it, only a number with its
``+`` country code, whose spaces, dots, dashes and brackets are dropped. The extra is optional because the
core stays light and a texting provider already hands numbers over in E.164.
"""

from __future__ import annotations

import importlib.util
import re

from convostate._core.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s().\-]")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")

_HAVE_PHONENUMBERS = importlib.util.find_spec("phonenumbers") is not None


def e164(raw: str, region: str | None, *, parse: bool = _HAVE_PHONENUMBERS) -> str:
    """``raw`` as E.164, or InvalidInput saying why it is not a phone number. ``parse``: with the
    ``phonenumbers`` package (the default when it is installed)."""
    if parse:
        return _parsed(raw, region)
    plain = _SEPARATORS.sub("", raw)
    if _E164.fullmatch(plain):
        return plain
    raise InvalidInput(
        f"phone {raw!r} is not an international number such as '+1 555 555 0100'; to accept national "
        "spellings, install convostate[phone] and set the account's phone_region"
    )


def _parsed(raw: str, region: str | None) -> str:
    import phonenumbers  # noqa: PLC0415 (the phone extra, when installed)

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        hint = "" if region else " (with no phone_region set, a number needs its + country code)"
        raise InvalidInput(f"phone {raw!r} is not a phone number ({error}){hint}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(f"phone {raw!r} has the wrong number of digits for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
