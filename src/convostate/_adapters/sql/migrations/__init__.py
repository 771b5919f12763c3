"""convostate's Alembic migrations: an Alembic script directory shipped inside the package."""
