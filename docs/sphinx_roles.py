"""A griffe extension for the API reference (mkdocs.yml): convostate's docstrings name other objects in
Sphinx's roles (``:class:`~convostate.Store```), which read well in ``help()`` and in an editor's hover, but
Markdown would print them raw. Each becomes inline code, shortened as the role asks (``~`` keeps the last
part), so the docstrings stay as they are for every other reader."""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|data|attr|mod|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")


def _code(match: re.Match[str]) -> str:
    target = match["target"]
    return f"`{target.rsplit('.', 1)[-1] if match['tilde'] else target}`"


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_code, obj.docstring.value)
