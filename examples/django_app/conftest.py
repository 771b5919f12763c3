"""pytest-django on the example project: its settings, and a SQLite test database in a file (not in memory),
so that requests on several threads share it as app servers do."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_app.settings")
os.environ.setdefault("CONVOSTATE_DJANGO_TEST_DB", str(Path(tempfile.mkdtemp()) / "test-helpdesk.sqlite3"))
django.setup()
