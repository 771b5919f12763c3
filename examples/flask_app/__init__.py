"""A Flask inbox on convostate: ``app.py`` is the app, ``test_app.py`` its tests (docs/embedding.md)."""
