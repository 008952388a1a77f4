"""Wheel build step: put the pinned YASGUI build inside the wheel, so `pip install` gives the
whole query page.

YASGUI comes from the npm registry through ``service/pactgraph/ui/package-lock.json`` (npm
checks every package against the lock file's integrity hashes); nothing of it is committed.
Building a wheel therefore needs npm; installing one does not. The files land in the wheel at
the same place they have in a checkout (``pactgraph/ui/node_modules/@zazuko/yasgui/``), so the
service finds them the same way in both. Editable installs (``scripts/setup.sh``) skip this:
the checkout's own ``node_modules`` serves them.

Set ``PACTGRAPH_WHEEL_WITHOUT_EDITOR=1`` to build a wheel without the editor when npm is not
available (the query page then says how to install it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

UI = Path("service") / "pactgraph" / "ui"
YASGUI = Path("node_modules") / "@zazuko" / "yasgui"
# What the service serves (pactgraph.serve.ui.VENDOR_FILES) and the package's manifest, which
# carries its version and its licence (MIT).
SHIPPED = ("build/yasgui.min.js", "build/yasgui.min.css", "build/yasgui.min.js.map", "package.json")
# Chart.js, for the results' Chart view (pactgraph.serve.ui.VENDOR_FILES), likewise with its
# manifest (version, MIT licence).
CHARTJS = Path("node_modules") / "chart.js"
CHARTJS_SHIPPED = (
    "dist/chart.umd.min.js", "dist/chart.umd.min.js.map", "package.json", "LICENSE.md"
)


class YasguiBuildHook(BuildHookInterface):
    """Install YASGUI from the lock file and force-include its build in the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        ui = Path(self.root) / UI
        lock = ui / "package-lock.json"
        installed = ui / "node_modules" / ".package-lock.json"
        if not installed.exists() or lock.stat().st_mtime > installed.stat().st_mtime:
            npm = shutil.which("npm")
            if npm is None:
                if os.environ.get("PACTGRAPH_WHEEL_WITHOUT_EDITOR") == "1":
                    self.app.display_warning("npm not found: building the wheel without YASGUI")
                    return
                raise RuntimeError(
                    "building the pactgraph wheel needs npm to put the query editor (YASGUI, "
                    f"pinned in {UI}/package-lock.json) inside it; install Node.js and npm, or "
                    "set PACTGRAPH_WHEEL_WITHOUT_EDITOR=1 to build without the editor"
                )
            subprocess.run(
                [npm, "ci", "--prefix", str(ui), "--ignore-scripts", "--no-audit", "--no-fund",
                 "--no-update-notifier", "--loglevel=error"],
                stdin=subprocess.DEVNULL,
                check=True,
            )
        for package, names in ((YASGUI, SHIPPED), (CHARTJS, CHARTJS_SHIPPED)):
            for name in names:
                source = ui / package / name
                build_data["force_include"][str(source)] = f"pactgraph/ui/{package / name}"
