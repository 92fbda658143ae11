"""The users' files storage in a test's own directory."""

from pathlib import Path


def stored_user_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
