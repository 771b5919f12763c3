"""The example's routes: the same as the Flask example's (docs/embedding.md)."""

from __future__ import annotations

from django.urls import path

from django_app.inbox import views

urlpatterns = [
    path("webhooks/inbound", views.inbound),
    path("tabs", views.badges),
    path("tabs/<str:name>", views.tab),
    path("conversations/<str:conversation>/assign", views.assign),
    path("conversations/<str:conversation>/close", views.close),
    path("conversations/<str:conversation>/star", views.star),
    path("conversations/<str:conversation>/read", views.read),
    path("conversations/<str:conversation>/export", views.export),
    path("contacts/<str:contact>", views.contact_info),
]
