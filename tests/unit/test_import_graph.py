"""vaultcache's modules import each other without a cycle, and no layer imports a higher one.

The graph is read from the source with :mod:`ast`: every ``import`` and ``from ... import``,
at module level and inside functions (a function-local import is still a dependency), but
not those under ``if TYPE_CHECKING:``, which never run. As import-linter counts it, an import
is an arrow to the module it names: ``from a.b import c`` is an arrow to ``a.b.c`` when ``c``
is a module, else to ``a.b``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

import vaultcache

PACKAGE = Path(vaultcache.__file__).parent

Graph = Mapping[str, frozenset[str]]

#: The layers of DESIGN.md, lowest first. A module may import modules of its own layer and of
#: the layers below it; it is in the layer that names the longest prefix of its dotted name
#: under vaultcache (``backends.memory`` before ``backends``).
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer.split())
    for layer in (
        "_version clock errors crypto_key_text private_files coalescing cache_keys context_values "
        "environment refresh",
        "allow_list session_options registrars hookspecs registry crypto_keys models",
        "policy redaction redirect_chain crypto_key_sources cache_key_function request_context",
        "backends.errors backends.options backends.usage backends.location backends.base"
        " backends.sqlite_options backends.sqlite_files backends.sqlite_connections"
        " backends.sqlite_schema backends.sqlite_lru backends.filesystem_files"
        " backends.filesystem_lock backends.filesystem_lru backends.memory backends.sqlite"
        " backends.filesystem retention",
        "serializers docs_hooks",
        "entries dictionaries saving maintenance cache_stats cache_chunks cache_views cache_queries"
        " cache streaming",
        "backends compat importers archive cache_access",
        "config",
        "session",
        "patcher plugin testing",
        "cli",
    )
)
#: The package's face re-exports from every layer; nothing inside imports it.
TOP = "vaultcache"


def module_name(path: Path) -> str:
    """The dotted name of the module at `path` under the vaultcache package."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_package() -> dict[str, tuple[str, bool]]:
    """Every module of vaultcache -> (its source, whether it is a package's ``__init__``)."""
    return {
        module_name(path): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_statements(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under `node` that can run (TYPE_CHECKING branches left out)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child):
            for statement in child.orelse:
                yield from _import_statements(ast.Module(body=[statement], type_ignores=[]))
        else:
            yield from _import_statements(child)


def _imported(
    statement: ast.Import | ast.ImportFrom,
    importer: str,
    is_package: bool,
    known: Mapping[str, object],
) -> Iterator[str]:
    """The modules of `known` that `statement`, in module `importer`, imports."""
    if isinstance(statement, ast.Import):
        yield from (alias.name for alias in statement.names if alias.name in known)
        return
    base = statement.module or ""
    if statement.level:
        here = importer.split(".") if is_package else importer.split(".")[:-1]
        anchor = here[: len(here) - statement.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    for alias in statement.names:
        submodule = f"{base}.{alias.name}"
        if submodule in known:
            yield submodule
        elif base in known:
            yield base


def import_graph(sources: Mapping[str, tuple[str, bool]]) -> dict[str, frozenset[str]]:
    """Module -> the modules of `sources` it imports; `sources` maps each module to its
    source text and whether it is a package's ``__init__``."""
    graph = {}
    for name, (text, is_package) in sources.items():
        found = {
            target
            for statement in _import_statements(ast.parse(text))
            for target in _imported(statement, name, is_package, sources)
        }
        graph[name] = frozenset(found - {name})
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of `graph` as ``[a, b, ..., a]``, or None when it has none."""
    finished: set[str] = set()
    for start in sorted(graph):
        if start in finished:
            continue
        path = [start]
        pending = [iter(sorted(graph[start]))]
        while pending:
            following = next(pending[-1], None)
            if following is None:
                pending.pop()
                finished.add(path.pop())
            elif following in path:
                return [*path[path.index(following) :], following]
            elif following not in finished and following in graph:
                path.append(following)
                pending.append(iter(sorted(graph[following])))
    return None


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the layer `module` belongs to (None: the package's face)."""
    if module == TOP:
        return None
    parts = module.split(".")[1:]
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        for index, layer in enumerate(LAYERS):
            if prefix in layer:
                return index
    raise AssertionError(f"{module} is in no layer of LAYERS: add {parts[0]!r} to one")


def upward_imports(graph: Graph) -> list[str]:
    """Each arrow of `graph` from a module to one of a higher layer, as ``"a -> b"``."""
    found = []
    for module, targets in sorted(graph.items()):
        below = layer_of(module)
        for target in sorted(targets):
            above = layer_of(target)
            if below is not None and (above is None or above > below):
                found.append(f"{module} -> {target}")
    return found


# -- the package --------------------------------------------------------------------------------


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph(read_package()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_no_module_imports_a_higher_layer() -> None:
    assert upward_imports(import_graph(read_package())) == []


def test_the_graph_sees_the_imports_that_run() -> None:
    graph = import_graph(read_package())
    assert "vaultcache.cache" in graph["vaultcache.backends.caches"]  # from-import of a name
    assert "vaultcache.backends.filesystem" in graph["vaultcache.backends.caches"]  # a module
    assert "vaultcache.backends.base" not in graph["vaultcache.cache"]  # TYPE_CHECKING only


# -- the finders, on planted graphs -------------------------------------------------------------


def _sources(**modules: str) -> dict[str, tuple[str, bool]]:
    """Fake modules of a package ``p``: name -> source; ``p`` itself is the package face."""
    return {"p": ("", True), **{f"p.{name}": (text, False) for name, text in modules.items()}}


@pytest.mark.parametrize(
    ("modules", "cycle"),
    [
        ({"a": "import p.b", "b": "from p import a"}, ["p.a", "p.b", "p.a"]),
        ({"a": "def f():\n    from p.b import x", "b": "from p.a import y"}, ["p.a", "p.b", "p.a"]),
        (
            {"a": "from p import b", "b": "import p.c", "c": "class C:\n    import p.a"},
            ["p.a", "p.b", "p.c", "p.a"],
        ),
        ({"a": "from . import b", "b": "from .a import x"}, ["p.a", "p.b", "p.a"]),
        (
            {"a": "if TYPE_CHECKING:\n    pass\nelse:\n    import p.b", "b": "import p.a"},
            ["p.a", "p.b", "p.a"],
        ),
    ],
)
def test_a_planted_cycle_is_found(modules: dict[str, str], cycle: list[str]) -> None:
    assert find_cycle(import_graph(_sources(**modules))) == cycle


@pytest.mark.parametrize(
    "modules",
    [
        {"a": "import p.b", "b": "import os"},
        {"a": "from p import b", "b": "if TYPE_CHECKING:\n    from p.a import A"},
        {"a": "import p.b\nimport p.c", "b": "import p.c", "c": ""},
        {"a": "from p.b import name", "b": "import typing"},
    ],
)
def test_an_acyclic_graph_has_no_cycle(modules: dict[str, str]) -> None:
    assert find_cycle(import_graph(_sources(**modules))) is None


def test_an_import_of_a_higher_layer_is_found() -> None:
    graph = {
        "vaultcache.errors": frozenset({"vaultcache.cli.main"}),
        "vaultcache.cli.main": frozenset({"vaultcache.errors", "vaultcache.session"}),
        "vaultcache.session": frozenset({"vaultcache"}),
    }
    assert upward_imports(graph) == [
        "vaultcache.errors -> vaultcache.cli.main",
        "vaultcache.session -> vaultcache",
    ]
