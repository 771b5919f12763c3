"""Sync adapters over the asyncio facade and store, for the suites written against sync code (the store
conformance suites, the facade's state machine): an event loop of their own in a background thread, and
handles whose every call runs a coroutine on it and waits for the result.

A store on an asyncio engine is only usable inside a greenlet on the loop that owns its connections, so
:class:`SyncStore` runs each of its calls there; :class:`SyncHelpdesk` awaits each ``AsyncHelpdesk`` method.
Many threads may call one handle at once: their calls interleave on the loop as coroutines would.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from convostate import Store
from convostate.aio import AsyncHelpdesk

T = TypeVar("T")


class LoopThread:
    """An event loop running in a daemon thread until :meth:`stop`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="async-runner", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def in_greenlet(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``function`` run inside a greenlet on the loop, as ``AsyncHelpdesk`` runs a SQL store's calls."""
        from sqlalchemy.util import greenlet_spawn  # noqa: PLC0415 (the SQL variants only)

        return self.run(greenlet_spawn(function, *args, **kwargs))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _store_methods() -> list[str]:
    return sorted(
        name for name in dir(Store) if not name.startswith("_") and callable(getattr(Store, name, None))
    )


class SyncStore:
    """A sync handle on a store over an asyncio engine: each method runs in a greenlet on ``runner``'s
    loop. ``inner`` is the store itself (what ``AsyncHelpdesk(store=...)`` takes)."""

    def __init__(self, inner: Any, runner: LoopThread) -> None:
        self.inner = inner
        self.runner = runner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _store_method(name: str) -> Callable[..., Any]:
    def call(self: SyncStore, *args: Any, **kwargs: Any) -> Any:
        return self.runner.in_greenlet(getattr(self.inner, name), *args, **kwargs)

    call.__name__ = name
    return call


for _name in _store_methods():  # explicit methods, so isinstance(handle, Store) holds
    setattr(SyncStore, _name, _store_method(_name))


class SyncHelpdesk:
    """The sync facade's interface over an ``AsyncHelpdesk``: each method call awaits the async one on
    ``runner``'s loop (properties pass through)."""

    def __init__(self, desk: AsyncHelpdesk, runner: LoopThread) -> None:
        self.desk = desk
        self.runner = runner

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.desk, name)
        if not inspect.iscoroutinefunction(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.runner.run(found(*args, **kwargs))

        return call
