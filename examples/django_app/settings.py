"""The example project's settings: one app, and its database, which convostate's tables share.

``CONVOSTATE_DJANGO_DB`` is the SQLite file (default ``helpdesk.sqlite3``); with ``CONVOSTATE_POSTGRES_URL``
set (``postgresql+psycopg://user@host:5432/dbname``), a second database, ``postgres``, is configured too,
which ``CONVOSTATE_DATABASE`` can name (the tests run on both).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "an example's key: set DJANGO_SECRET_KEY in production")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
INSTALLED_APPS = ["django_app.inbox"]
ROOT_URLCONF = "django_app.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASE_ROUTERS = ["django_app.inbox.desk.OneDatabase"]

CONVOSTATE_DATABASE = os.environ.get("CONVOSTATE_DATABASE", "default")
"""The database alias convostate's tables live in, and every model with them (``OneDatabase``)."""
CONVOSTATE_ACCOUNT = "default"
"""convostate's account in that database (the tests give each test its own)."""
CONVOSTATE_SMTP_URL = os.environ.get("CONVOSTATE_SMTP_URL")
"""Where exports are sent (``smtp://relay.internal:25``); without it they wait in the outbox."""

DATABASES: dict[str, dict[str, object]] = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("CONVOSTATE_DJANGO_DB", "helpdesk.sqlite3"),
        # A view is one transaction with convostate's writes in it (docs/embedding.md).
        "ATOMIC_REQUESTS": True,
        # Writers take SQLite's write lock when they begin, as convostate's own SQLite engine does, so two
        # requests never deadlock on upgrading a read lock; and wait for it up to 20 s.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        "TEST": {"NAME": os.environ.get("CONVOSTATE_DJANGO_TEST_DB")},
    }
}
if postgres := os.environ.get("CONVOSTATE_POSTGRES_URL"):
    url = urlsplit(postgres)
    DATABASES["postgres"] = {
        "ENGINE": "django.db.backends.postgresql",  # psycopg 3
        "NAME": url.path.lstrip("/"),
        "USER": url.username or "",
        "PASSWORD": url.password or "",
        "HOST": url.hostname or "",
        "PORT": url.port or "",
        "ATOMIC_REQUESTS": True,
        "TEST": {"NAME": "convostate_django_example"},
    }
