"""The helpdesk for asyncio hosts (FastAPI, Starlette, aiohttp, an async worker): :class:`AsyncHelpdesk`
has every method of :class:`~convostate.Helpdesk`, awaitable, on the same pipeline.

On the memory store each call runs in a worker thread; on a database (``pip install 'convostate[async]'``)
through SQLAlchemy's asyncio extension, in a greenlet that hands the loop back whenever the driver waits.
See docs/async.md.
"""

from __future__ import annotations

from convostate._async_batch import AsyncBatch as AsyncBatch
from convostate._async_helpdesk import AsyncHelpdesk as AsyncHelpdesk
from convostate._async_helpdesk import open_sql_store as open_sql_store

__all__ = ["AsyncBatch", "AsyncHelpdesk", "open_sql_store"]
