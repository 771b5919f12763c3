"""A Django inbox on convostate: a project (settings, urls) with one app, inbox (docs/embedding.md)."""
