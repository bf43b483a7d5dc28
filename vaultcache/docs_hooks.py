"""Generate ``docs/hooks.md``, the plugin hook reference, from :mod:`vaultcache.hookspecs`.

The hookspec module is the contract: its docstring is the page's introduction and each hook's
docstring is that hook's section, so the reference cannot drift from the code. Run::

    python -m vaultcache.docs_hooks          # rewrite docs/hooks.md
    python -m vaultcache.docs_hooks --check  # exit 1 if docs/hooks.md is out of date

``tests/unit/test_docs_hooks.py`` fails when the committed page differs from :func:`render`.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vaultcache import hookspecs

__all__ = ["DOCS_PATH", "EXAMPLE_PLUGIN", "hook_functions", "main", "render"]

#: Where the page lives in a source checkout.
DOCS_PATH = Path(__file__).parent.parent / "docs" / "hooks.md"

#: The example plugin shown on the page; a test builds a pipeline with it, so it stays working.
EXAMPLE_PLUGIN = '''\
"""vaultcache_deflate/plugin.py: a raw-deflate compression stage."""

import zlib
from typing import Any

from vaultcache.plugin import (
    ConfigError,
    DecodeError,
    SizeLimitError,
    StageRegistrar,
    hookimpl,
)

VAULTCACHE_PLUGIN_API = 1  # the hook-spec version this plugin is written for


class DeflateStage:
    name = "deflate"
    kind = "compression"

    def __init__(self, level: int = 6, max_size: int = 256 * 1024 * 1024) -> None:
        self.level = level
        self.max_size = max_size

    def dumps(self, data: bytes) -> bytes:
        compressor = zlib.compressobj(self.level, wbits=-15)
        return compressor.compress(data) + compressor.flush()

    def loads(self, data: bytes) -> bytes:
        decompressor = zlib.decompressobj(wbits=-15)
        try:
            plain = decompressor.decompress(data, self.max_size + 1)  # bounded
        except zlib.error:
            raise DecodeError("not a deflate stream", stage=self.name) from None
        if len(plain) > self.max_size:
            raise SizeLimitError(self.name, self.max_size)
        if not decompressor.eof or decompressor.unused_data:
            raise DecodeError("truncated or trailing data", stage=self.name)
        return plain


def build_deflate(options: dict[str, Any], keys: None) -> DeflateStage:
    unknown = sorted(set(options) - {"level", "max_size"})
    if unknown:
        raise ConfigError(f"stage 'deflate' has no option {unknown[0]!r}")
    return DeflateStage(**options)


@hookimpl
def vaultcache_register_stages(registry: StageRegistrar) -> None:
    registry.add(
        "deflate",
        build_deflate,
        kind="compression",
        description="raw deflate (zlib without header)",
    )
'''

EXAMPLE_ENTRY_POINT = """\
[project.entry-points.vaultcache]
deflate = "vaultcache_deflate.plugin"
"""


def hook_functions() -> list[Callable[..., Any]]:
    """The hook specifications in :mod:`vaultcache.hookspecs`, in source order."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return [
        value
        for value in vars(hookspecs).values()
        if inspect.isfunction(value) and hasattr(value, marker)
    ]


def render() -> str:
    """The Markdown text of ``docs/hooks.md``."""
    if hookspecs.__doc__ is None:
        raise RuntimeError("docstrings are stripped (python -OO); render the docs without -OO")
    parts = [
        "# Plugin hooks",
        "<!-- Generated from vaultcache/hookspecs.py by `python -m vaultcache.docs_hooks`; "
        "do not edit by hand. -->",
        _markdown(inspect.getdoc(hookspecs) or ""),
        "## Plugin API version",
        f"`vaultcache.PLUGIN_API` is `{hookspecs.PLUGIN_API}`{_plugin_api_comment()}",
        "## Hooks",
    ]
    for function in hook_functions():
        parts.append(f"### `{function.__name__}{_signature(function)}`")
        parts.append(_markdown(inspect.getdoc(function) or "(undocumented)"))
    parts += [
        "## Example plugin",
        "A package that adds a `deflate` stage. The module:",
        f"```python\n{EXAMPLE_PLUGIN.rstrip()}\n```",
        "Its entry point, in the package's `pyproject.toml`:",
        f"```toml\n{EXAMPLE_ENTRY_POINT.rstrip()}\n```",
        "Once the package is installed, `vaultcache plugins` lists `deflate` with the package "
        'name, and specs such as `"deflate+aesgcm"` use it.',
    ]
    return "\n\n".join(part.strip("\n") for part in parts) + "\n"


def _signature(function: Callable[..., Any]) -> str:
    """The signature as written in the source (annotations are strings there)."""
    signature = inspect.signature(function, eval_str=False)
    params = ", ".join(
        f"{param.name}: {_annotation(param.annotation)}"
        if param.annotation is not inspect.Parameter.empty
        else param.name
        for param in signature.parameters.values()
    )
    returns = signature.return_annotation
    suffix = "" if returns is inspect.Signature.empty else f" -> {_annotation(returns)}"
    return f"({params}){suffix}"


def _annotation(annotation: object) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _markdown(text: str) -> str:
    """Turn docstring reST into Markdown: a paragraph ending in ``::`` introduces the
    indented block after it, which becomes a fenced code block."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        index += 1
        if not line.endswith("::"):
            out.append(line)
            continue
        head = line[:-2].rstrip()
        if head:
            out.append(f"{head}:")
        indent = _indent(line)
        block: list[str] = []
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > indent):
            block.append(lines[index])
            index += 1
        code = textwrap.dedent("\n".join(block)).strip("\n")
        if code:
            out += ["", "```", *code.splitlines(), "```", ""]
    return "\n".join(out).strip("\n")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _plugin_api_comment() -> str:
    """``: `` and the ``#:`` comment above ``PLUGIN_API`` in the hookspec source, or ``.``."""
    comment: list[str] = []
    for line in inspect.getsource(hookspecs).splitlines():
        if line.startswith("#:"):
            comment.append(line[2:].strip())
        elif line.startswith("PLUGIN_API"):
            break
        else:
            comment = []
    text = " ".join(comment)
    return f": {text[:1].lower()}{text[1:]}" if text else "."


def main(argv: Sequence[str] | None = None) -> int:
    """Write docs/hooks.md, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(
        prog="python -m vaultcache.docs_hooks",
        description="Generate docs/hooks.md from vaultcache.hookspecs.",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs; write nothing"
    )
    parser.add_argument(
        "--output", type=Path, default=DOCS_PATH, help=f"file to write (default: {DOCS_PATH})"
    )
    args = parser.parse_args(argv)
    path: Path = args.output
    text = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            print(f"{path} is out of date; run `python -m vaultcache.docs_hooks`", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
