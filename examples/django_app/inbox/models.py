"""The host's own model: what its users did, written in the same transaction as convostate's change."""

from __future__ import annotations

from datetime import datetime

from django.db import models


class Activity(models.Model):
    """One action a user took, as the host keeps it for its own audit trail."""

    user_id: models.CharField[str, str] = models.CharField(max_length=200)
    action: models.CharField[str, str] = models.CharField(max_length=40)
    conversation_id: models.CharField[str, str] = models.CharField(max_length=200)
    at: models.DateTimeField[datetime, datetime] = models.DateTimeField(auto_now_add=True)
