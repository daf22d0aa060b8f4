"""Where `shared/` is: Shopify's real payloads (`fixtures/`) and its published references (`reference/`: the Admin
GraphQL schema, example webhook payloads per topic and version), which the simulators, the drift baseline and the
tests read. It sits beside the repository on developers' machines and in CI; a clone made elsewhere (say in /tmp)
finds it beside the repository it was cloned from, and `SHOPSYNC_SHARED_DIR` names it outright.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


@functools.cache
def shared_dir() -> Path:
    """`shared/` for this repository (located once per process)."""
    return locate_shared(REPOSITORY)


def locate_shared(repository: Path) -> Path:
    """`SHOPSYNC_SHARED_DIR`, else `shared/` beside `repository`, else beside the local repository it was cloned
    from (git's `origin`). The first candidate when none exists (callers say what is missing)."""
    given = os.environ.get("SHOPSYNC_SHARED_DIR")
    if given:
        return Path(given)
    beside = repository.parent / "shared"
    if beside.is_dir():
        return beside
    origin = subprocess.run(
        ["git", "-C", str(repository), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and "://" not in origin and ":" not in origin.split("/", 1)[0]:  # a local path, not a URL or scp host
        cloned_from = (repository / origin).resolve().parent / "shared"
        if cloned_from.is_dir():
            return cloned_from
    return beside
