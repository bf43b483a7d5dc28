"""docs/hooks.md is generated from vaultcache.hookspecs and must stay in step with it."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
from pathlib import Path

import pluggy
import pytest

from vaultcache import CachedResponse, build_pipeline, generate_key, hookspecs
from vaultcache.docs_hooks import DOCS_PATH, EXAMPLE_PLUGIN, hook_functions, main, render
from vaultcache.registry import PluginRegistry

pytestmark = pytest.mark.skipif(
    sys.flags.optimize >= 2, reason="docstrings are stripped under python -OO"
)


def _spec_names() -> list[str]:
    """Hook names as pluggy sees them, independently of docs_hooks' own discovery."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return sorted(
        name for name, caller in vars(manager.hook).items() if isinstance(caller, pluggy.HookCaller)
    )


def test_docs_path_is_in_the_repository() -> None:
    expected = Path(hookspecs.__file__).parent.parent / "docs" / "hooks.md"
    assert expected == DOCS_PATH


def test_committed_page_equals_render() -> None:
    assert DOCS_PATH.exists(), "run `python -m vaultcache.docs_hooks` to create docs/hooks.md"
    assert DOCS_PATH.read_text(encoding="utf-8") == render(), (
        "docs/hooks.md is out of date; run `python -m vaultcache.docs_hooks`"
    )


def test_render_is_deterministic_and_ends_with_one_newline() -> None:
    text = render()
    assert text == render()
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


def test_discovery_finds_every_hookspec() -> None:
    names = _spec_names()
    assert names  # guard against a vacuous pass
    assert sorted(f.__name__ for f in hook_functions()) == names


@pytest.mark.parametrize("name", _spec_names())
def test_every_hookspec_has_a_section_with_its_docstring(name: str) -> None:
    text = render()
    function = getattr(hookspecs, name)
    signature = str(inspect.signature(function)).replace("'", "")
    assert f"### `{name}{signature}`" in text
    doc = inspect.getdoc(function)
    assert doc, f"hook {name} has no docstring"
    section = text.split(f"### `{name}", 1)[1].split("\n### ", 1)[0]
    for line in doc.splitlines():
        assert line.rstrip().removesuffix("::") in section  # dedented, otherwise verbatim


def test_page_has_intro_plugin_api_and_example() -> None:
    text = render()
    intro = inspect.getdoc(hookspecs)
    assert intro is not None
    assert intro.splitlines()[0] in text
    assert f"`vaultcache.PLUGIN_API` is `{hookspecs.PLUGIN_API}`" in text
    assert "@hookimpl" in text
    assert "from vaultcache.plugin import" in text  # the one module plugins import
    assert "[project.entry-points.vaultcache]" in text
    # The reST literal block of the intro became a fenced Markdown block.
    assert "```\n[project.entry-points.vaultcache]\nbrotli = " in text
    assert "::" not in text.replace("python -m", "")


def test_example_plugin_works() -> None:
    module = types.ModuleType("vaultcache_deflate_example")
    exec(compile(EXAMPLE_PLUGIN, "<docs/hooks.md example>", "exec"), module.__dict__)
    registry = PluginRegistry(entry_points=False)
    registry.register(module, distribution="vaultcache-deflate", version="1.0")
    assert registry.failures() == []
    stage = registry.stage("deflate")
    assert stage.kind == "compression"
    assert str(stage.provider) == "vaultcache-deflate 1.0"

    pipeline = build_pipeline("deflate+signed", registry=registry, keys=[generate_key()])
    response = CachedResponse(url="https://example.org/", status_code=200, content=b"x" * 5000)
    stored = pipeline.dumps(response)
    assert len(stored) < 1000
    assert pipeline.loads(stored) == response


def test_main_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "docs" / "hooks.md"
    assert main(["--check", "--output", str(output)]) == 1  # missing
    assert "out of date" in capsys.readouterr().err
    assert main(["--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == render()
    assert main(["--check", "--output", str(output)]) == 0
    output.write_text(render() + "stale\n", encoding="utf-8")
    assert main(["--check", "--output", str(output)]) == 1
    assert output.read_text(encoding="utf-8").endswith("stale\n")  # --check writes nothing


def test_module_check_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vaultcache.docs_hooks", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
