"""The documentation is executable: every ```python block in docs/*.md and README.md runs, so the docs stay
true; and every link between the pages leads to a page (and a heading) that exists.

Each block runs in a fresh namespace (not one namespace per page): every example is self-contained and can
be pasted on its own, importing what it needs from ``convostate`` and ``pendulum`` and showing its results
with ``assert``. A block whose info string is ``python no-run`` is shown but not run. A failing block is
reported with its page and line, and its traceback shows the lines of the Markdown file.
"""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from convostate.core import status_machine

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))
README = DOCS.parent / "README.md"

_OPENING_FENCE = re.compile(r"(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)")
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")

PAGES_BEING_WRITTEN: frozenset[str] = frozenset()
"""Pages other changes are adding right now: a link to one of them is accepted while it does not exist
yet, and checked like any other (heading anchors included) once it does. Empty this set once they exist."""


@attrs.frozen
class Block:
    """One fenced code block: the words of its info string, its first line of code (1-based) and its code."""

    info: tuple[str, ...]
    line: int
    code: str

    @property
    def language(self) -> str:
        return self.info[0] if self.info else ""

    @property
    def runs(self) -> bool:
        return self.language == "python" and "no-run" not in self.info[1:]


def fenced_blocks(markdown: str) -> list[Block]:
    """The fenced code blocks of ``markdown`` in order (CommonMark fences: ``` or ~~~, indented 0-3)."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = _OPENING_FENCE.fullmatch(lines[index])
        index += 1
        if opening is None:
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        closing = re.compile(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*")
        first, body = index, []
        while index < len(lines) and closing.fullmatch(lines[index]) is None:
            line = lines[index]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
            index += 1
        index += 1  # past the closing fence (the end of the file closes an unclosed block)
        blocks.append(Block(tuple(opening["info"].split()), first + 1, "\n".join(body) + "\n"))
    return blocks


def run_block(page: Path, block: Block) -> None:
    # Blank lines in front make the compiled line numbers those of the Markdown file.
    source = "\n" * (block.line - 1) + block.code
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    try:
        exec(compile(source, str(page), "exec"), namespace)
    except Exception as error:
        message = f"{page.name}: the python block at line {block.line} failed: {error!r}"
        raise AssertionError(message) from error


def test_the_parser_finds_python_blocks_and_skips_no_run_and_other_languages() -> None:
    markdown = "\n".join(
        [
            "# Title",
            "```python",
            "x = 1",
            "```",
            "````python no-run",
            "```",
            "raise SystemExit",
            "````",
            "```mermaid",
            "stateDiagram-v2",
            "```",
            "  ```python",
            "  y = 2",
            "  ```",
        ]
    )
    blocks = fenced_blocks(markdown)
    assert [(block.language, block.line, block.runs) for block in blocks] == [
        ("python", 3, True),
        ("python", 6, False),
        ("mermaid", 10, False),
        ("python", 13, True),
    ]
    assert blocks[1].code == "```\nraise SystemExit\n"
    assert blocks[3].code == "y = 2\n"


def test_a_failing_block_fails_the_test_with_its_page_and_line() -> None:
    page = DOCS / "example.md"
    with pytest.raises(AssertionError, match=r"example\.md: the python block at line 7 failed"):
        run_block(page, Block(("python",), 7, "assert 1 + 1 == 3\n"))


def test_there_are_pages_to_check() -> None:
    assert PAGES, f"no Markdown pages in {DOCS}"


@pytest.mark.parametrize("page", [*PAGES, README], ids=lambda page: page.name)
def test_every_python_block_of_the_page_runs(page: Path) -> None:
    runnable = [block for block in fenced_blocks(page.read_text(encoding="utf-8")) if block.runs]
    assert runnable, f"{page.name} has no runnable ```python example"
    for block in runnable:
        run_block(page, block)


def test_the_status_diagram_in_the_docs_is_the_machine_the_decider_uses() -> None:
    blocks = fenced_blocks((DOCS / "status.md").read_text(encoding="utf-8"))
    diagrams = [block.code.strip() for block in blocks if block.language == "mermaid"]
    assert diagrams == [status_machine().to_mermaid()]


def test_the_index_links_every_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]*)?\)", index))
    assert linked >= {page.name for page in PAGES if page.name != "index.md"}


def prose(markdown: str) -> str:
    """``markdown`` without its fenced code blocks, whose brackets are code, not links."""
    lines = markdown.splitlines()
    for block in fenced_blocks(markdown):
        code_lines = block.code.count("\n")
        for index in range(block.line - 2, min(block.line + code_lines, len(lines))):
            lines[index] = ""
    return "\n".join(lines)


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown``: lower case, punctuation dropped, spaces as -."""
    headings = re.findall(r"^#{1,6} +(.+?) *#*$", prose(markdown), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def broken_links(page: Path) -> list[str]:
    """Every relative link of ``page`` whose file, or heading within it, does not exist."""
    broken = []
    for match in _LINK.finditer(prose(page.read_text(encoding="utf-8"))):
        target = match["target"]
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            if linked.name not in PAGES_BEING_WRITTEN or linked.parent != DOCS:
                broken.append(f"{page.name}: {target} (no such file)")
            continue
        if anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
            broken.append(f"{page.name}: {target} (no such heading)")
    return broken


def test_the_link_checker_finds_missing_pages_and_headings(tmp_path: Path) -> None:
    (tmp_path / "here.md").write_text("# Here\n\n## Every instant is kept in UTC\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](here.md) [ok](here.md#every-instant-is-kept-in-utc) [web](https://example.com/x.md)\n"
        "[gone](gone.md) [bad](here.md#nowhere)\n```python\nx = [1](2)\n```\n",
        encoding="utf-8",
    )

    assert broken_links(page) == [
        "page.md: gone.md (no such file)",
        "page.md: here.md#nowhere (no such heading)",
    ]


@pytest.mark.parametrize("page", [*PAGES, README], ids=lambda page: page.name)
def test_every_link_of_the_page_leads_somewhere(page: Path) -> None:
    assert broken_links(page) == []
