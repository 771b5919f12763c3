"""Id generators: random by default, sequential where output must be repeatable (tests, the quickstart)."""

from __future__ import annotations

import itertools
import uuid


class RandomIds:
    """Ids such as ``conversation-3f2a9c1e8b7d``: unique across processes and servers."""

    def new_id(self, kind: str) -> str:
        return f"{kind}-{uuid.uuid4().hex[:12]}"


class SequentialIds:
    """Ids such as ``conversation-1``, counted per kind: repeatable, for tests and examples."""

    def __init__(self) -> None:
        self._counters: dict[str, itertools.count[int]] = {}

    def new_id(self, kind: str) -> str:
        counter = self._counters.setdefault(kind, itertools.count(1))
        return f"{kind}-{next(counter)}"
