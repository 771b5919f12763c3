"""Finding users by name the way people type: any case, with or without accents, from any word's start."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from convostate._core.model import User


def fold(text: str) -> str:
    """Lower-case and strip accents, so "José", "jose" and "JOSÉ" compare equal (and "straße" ~ "strasse")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search(users: Iterable[User], text: str) -> list[User]:
    """Users whose name contains ``text``: those with a word starting with it first, then by name.

    An empty ``text`` lists everyone, so a picker can scroll through all users before anything is typed.
    """
    wanted = fold(text.strip())
    ranked = []
    for user in users:
        name = fold(user.name)
        if wanted not in name:
            continue
        starts_a_word = any(word.startswith(wanted) for word in name.split())
        ranked.append((not starts_a_word, name, user.id.value, user))
    return [user for *_, user in sorted(ranked, key=lambda row: row[:3])]
