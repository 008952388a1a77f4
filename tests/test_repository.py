"""The repository works on any machine: no tracked file points into one machine's folders.

A path into a work folder, a home folder or another checkout, in a test, a script or
committed benchmark output, works only where it was written. System paths a script legitimately uses
(``/usr/bin/env``, Debian's chromium, Virtuoso's packaged ini, ``/tmp`` for scratch) are not
machine-specific and are allowed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A folder that belongs to one machine or one person: a work folder, a home folder, the
# root user's home, a macOS home. Preceded by neither a word character nor a dot, so
# relative paths (``tests/home/x``) and URLs' paths (``https://host/home/``) do not count.
MACHINE_PATH = re.compile(r"(?<![\w.~/:-])/(?:work|home|root|Users)/[\w.-]+")


def _tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [REPO / name.decode() for name in names if name]


def test_the_pattern_finds_machine_paths_and_spares_the_rest() -> None:
    # Written in two parts, or this file would name machine folders itself.
    work, home = "/" + "work/main", "/" + "home/alice"
    assert MACHINE_PATH.search(f"see {work}/bench/x.py:10")
    assert MACHINE_PATH.search(f'Path("{home}/data")')
    assert not MACHINE_PATH.search("#!/usr/bin/env bash")
    assert not MACHINE_PATH.search("https://www.congress.gov/home/bill")
    assert not MACHINE_PATH.search("tests/work/file.ttl")


def test_no_tracked_file_points_into_a_machine_folder() -> None:
    found = []
    for path in _tracked_text_files():
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        for number, line in enumerate(text.splitlines(), 1):
            if match := MACHINE_PATH.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {match.group()}")
    assert found == [], "paths into one machine's folders:\n" + "\n".join(found)
