"""The demo's report: one section per part of the story, each with its check mark and its figures."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

PASSED, FAILED, SKIPPED = "✓", "✗", "–"
SHOWN_PROBLEMS = 8
WIDTH = 116


@dataclass
class Section:
    title: str
    passed: bool | None  # None: skipped (a part of the story not built yet)
    figures: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float | None = None
    block: list[str] = field(default_factory=list)  # a command's output, shown as printed (after the figures)

    @property
    def mark(self) -> str:
        return SKIPPED if self.passed is None else PASSED if self.passed else FAILED

    @property
    def failed(self) -> bool:
        return self.passed is False


def section(title: str, figures: list[str], problems: Iterable[str]) -> Section:
    """Passed when nothing is wrong: every figure the step compared agreed."""
    found = list(problems)
    return Section(title, not found, figures, found)


def render(sections: list[Section]) -> str:
    lines = ["", "demo report"]
    for s in sections:
        lines.append(f"{s.mark} {s.title}" + (f" ({s.seconds:.0f} s)" if s.seconds is not None else ""))
        for figure in s.figures:
            lines += textwrap.wrap(figure, WIDTH, initial_indent="    ", subsequent_indent="      ")
        lines += [f"      {line}".rstrip() for line in s.block]
        for problem in s.problems[:SHOWN_PROBLEMS]:
            lines += textwrap.wrap(problem, WIDTH, initial_indent="    ! ", subsequent_indent="      ")
        if len(s.problems) > SHOWN_PROBLEMS:
            lines.append(f"    ! ... {len(s.problems) - SHOWN_PROBLEMS} more")
    failed = [s.title for s in sections if s.failed]
    skipped = sum(1 for s in sections if s.passed is None)
    passed = sum(1 for s in sections if s.passed)
    if failed:
        lines.append(f"demo: FAILED ({len(failed)} of {len(sections)} sections: {'; '.join(failed)})")
    else:
        lines.append(f"demo: OK, {passed} sections passed" + (f", {skipped} skipped" if skipped else ""))
    return "\n".join(lines)


def exit_code(sections: list[Section]) -> int:
    return 1 if any(s.failed for s in sections) else 0
