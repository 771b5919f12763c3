"""The SQL store: one SQLAlchemy Core adapter for SQLite (the embedded default) and PostgreSQL."""
