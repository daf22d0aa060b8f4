"""shared/ is found beside the repository, beside the repository a clone came from, or where SHOPSYNC_SHARED_DIR
says: a clone made elsewhere (CI's /tmp/ci-check) reads the same fixtures and references."""

from __future__ import annotations

import subprocess
from pathlib import Path

from simulators.shared import locate_shared


def _git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True)


def _origin_with_shared(root: Path) -> Path:
    origin = root / "work" / "main"
    origin.mkdir(parents=True)
    (root / "work" / "shared" / "fixtures").mkdir(parents=True)
    _git("-C", str(origin), "init", "-q")
    _git(
        "-C",
        str(origin),
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    return origin


def test_shared_beside_the_repository_comes_first(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPSYNC_SHARED_DIR", raising=False)
    origin = _origin_with_shared(tmp_path)
    assert locate_shared(origin) == tmp_path / "work" / "shared"


def test_a_clone_elsewhere_finds_shared_beside_the_repository_it_came_from(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPSYNC_SHARED_DIR", raising=False)
    origin = _origin_with_shared(tmp_path)
    clone = tmp_path / "elsewhere" / "ci-check"
    _git("clone", "-q", str(origin), str(clone))
    assert not (clone.parent / "shared").exists()
    assert locate_shared(clone) == (tmp_path / "work" / "shared").resolve()


def test_the_environment_names_it_outright(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPSYNC_SHARED_DIR", str(tmp_path / "mine"))
    assert locate_shared(_origin_with_shared(tmp_path)) == tmp_path / "mine"


def test_a_clone_of_a_remote_url_falls_back_to_beside_itself(tmp_path, monkeypatch):
    monkeypatch.delenv("SHOPSYNC_SHARED_DIR", raising=False)
    repo = tmp_path / "r"
    repo.mkdir()
    _git("-C", str(repo), "init", "-q")
    _git("-C", str(repo), "remote", "add", "origin", "https://example.com/shop/sync.git")
    assert locate_shared(repo) == tmp_path / "shared"
