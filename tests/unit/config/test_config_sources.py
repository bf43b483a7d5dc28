"""Where settings come from: explicit path > VAULTCACHE_CONFIG > ./vaultcache.toml > pyproject."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vaultcache.config import Settings, load_settings
from vaultcache.errors import ConfigError

Write = Callable[..., Path]


@pytest.fixture
def every_source(write: Write, tmp_path: Path) -> dict[str, Path]:
    """One config file per source, each setting a different cache name."""
    return {
        "explicit": write('name = "explicit"', "elsewhere/explicit.toml"),
        "variable": write('name = "variable"', "elsewhere/variable.toml"),
        "cwd": write('name = "cwd"'),
        "pyproject": write('[tool.vaultcache]\nname = "pyproject"', "pyproject.toml"),
    }


def test_explicit_path_wins_over_everything(every_source: dict[str, Path], tmp_path: Path) -> None:
    environ = {"VAULTCACHE_CONFIG": str(every_source["variable"])}
    settings = load_settings(every_source["explicit"], environ=environ, cwd=tmp_path)
    assert settings.name == "explicit"
    assert settings.source == every_source["explicit"]


def test_config_variable_wins_over_the_working_directory(
    every_source: dict[str, Path], tmp_path: Path
) -> None:
    environ = {"VAULTCACHE_CONFIG": str(every_source["variable"])}
    settings = load_settings(environ=environ, cwd=tmp_path)
    assert (settings.name, settings.source) == ("variable", every_source["variable"])


def test_vaultcache_toml_in_cwd_wins_over_pyproject(
    every_source: dict[str, Path], tmp_path: Path
) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert (settings.name, settings.source) == ("cwd", every_source["cwd"])


def test_pyproject_tool_table_is_used_last(every_source: dict[str, Path], tmp_path: Path) -> None:
    every_source["cwd"].unlink()
    settings = load_settings(environ={}, cwd=tmp_path)
    assert (settings.name, settings.source) == ("pyproject", every_source["pyproject"])


def test_an_empty_config_variable_counts_as_unset(
    every_source: dict[str, Path], tmp_path: Path
) -> None:
    settings = load_settings(environ={"VAULTCACHE_CONFIG": "  "}, cwd=tmp_path)
    assert settings.name == "cwd"


def test_default_search_uses_the_process_environment_and_cwd(
    every_source: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULTCACHE_CONFIG", str(every_source["variable"]))
    assert load_settings().name == "variable"
    monkeypatch.delenv("VAULTCACHE_CONFIG")
    assert load_settings().name == "cwd"


def test_relative_paths_are_taken_from_cwd(write: Write, tmp_path: Path) -> None:
    write('name = "relative"', "conf/a.toml")
    assert load_settings("conf/a.toml", environ={}, cwd=tmp_path).name == "relative"
    environ = {"VAULTCACHE_CONFIG": "conf/a.toml"}
    assert load_settings(environ=environ, cwd=tmp_path).name == "relative"


def test_explicit_path_may_be_a_pathlike(write: Write, tmp_path: Path) -> None:
    path = write('name = "p"', "p.toml")
    assert load_settings(path, environ={}).name == "p"
    assert load_settings(str(path), environ={}).name == "p"


# -- pyproject.toml ----------------------------------------------------------------------------


def test_nearest_pyproject_with_the_table_wins(write: Write, tmp_path: Path) -> None:
    write('[tool.vaultcache]\nname = "root"', "pyproject.toml")
    middle = write('[tool.vaultcache]\nname = "middle"', "a/pyproject.toml")
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    settings = load_settings(environ={}, cwd=deep)
    assert (settings.name, settings.source) == ("middle", middle)


def test_pyproject_without_the_table_is_skipped(write: Write, tmp_path: Path) -> None:
    root = write('[tool.vaultcache]\nname = "root"', "pyproject.toml")
    write('[project]\nname = "sub"\n[tool.ruff]\nline-length = 99', "sub/pyproject.toml")
    settings = load_settings(environ={}, cwd=tmp_path / "sub")
    assert (settings.name, settings.source) == ("root", root)


def test_vaultcache_toml_is_only_looked_for_in_cwd(write: Write, tmp_path: Path) -> None:
    write('name = "parent"')
    (tmp_path / "child").mkdir()
    settings = load_settings(environ={}, cwd=tmp_path / "child")
    assert settings.name != "parent"


def test_errors_in_a_pyproject_name_the_tool_table_key(write: Write, tmp_path: Path) -> None:
    path = write("[tool.vaultcache.expiry]\nexpire_aftr = 1", "pyproject.toml")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, cwd=tmp_path)
    assert caught.value.file == str(path)
    assert caught.value.key == "tool.vaultcache.expiry.expire_aftr"


def test_unknown_top_level_key_in_a_pyproject(write: Write, tmp_path: Path) -> None:
    write("[tool.vaultcache]\nnmae = 'x'", "pyproject.toml")
    with pytest.raises(ConfigError, match="did you mean 'name'") as caught:
        load_settings(environ={}, cwd=tmp_path)
    assert caught.value.key == "tool.vaultcache.nmae"


def test_tool_vaultcache_must_be_a_table(write: Write, tmp_path: Path) -> None:
    write('[tool]\nvaultcache = "sqlite"', "pyproject.toml")
    with pytest.raises(ConfigError, match="expected a table, got string") as caught:
        load_settings(environ={}, cwd=tmp_path)
    assert caught.value.key == "tool.vaultcache"


def test_explicit_pyproject_reads_its_tool_table(write: Write, tmp_path: Path) -> None:
    path = write('[tool.vaultcache]\nname = "from-tool"', "proj/pyproject.toml")
    assert load_settings(path, environ={}).name == "from-tool"


def test_explicit_pyproject_without_the_table_is_an_error(write: Write) -> None:
    path = write('[project]\nname = "x"', "proj/pyproject.toml")
    with pytest.raises(ConfigError, match=r"no \[tool.vaultcache\] table") as caught:
        load_settings(path, environ={})
    assert caught.value.file == str(path)


# -- nothing found, or not readable ------------------------------------------------------------


def test_no_file_anywhere_gives_the_defaults(tmp_path: Path) -> None:
    if any((parent / "pyproject.toml").exists() for parent in tmp_path.parents):
        pytest.skip("a pyproject.toml above the temporary directory")
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings == Settings()
    assert settings.source is None


def test_missing_explicit_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found") as caught:
        load_settings(tmp_path / "nope.toml", environ={})
    assert caught.value.file == str(tmp_path / "nope.toml")


def test_missing_file_named_by_the_variable_says_so(tmp_path: Path) -> None:
    environ = {"VAULTCACHE_CONFIG": str(tmp_path / "gone.toml")}
    with pytest.raises(ConfigError, match="named by VAULTCACHE_CONFIG") as caught:
        load_settings(environ=environ, cwd=tmp_path)
    assert caught.value.file == str(tmp_path / "gone.toml")


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        load_settings(tmp_path, environ={})


def test_a_vaultcache_toml_directory_in_cwd_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "vaultcache.toml").mkdir()
    assert load_settings(environ={}, cwd=tmp_path).source != tmp_path / "vaultcache.toml"


def test_toml_syntax_error_names_the_file_and_line(write: Write) -> None:
    path = write('name = "ok"\nbackend = "sqlite"\n\n[expiry]\nexpire_after = 1h\n')
    with pytest.raises(ConfigError, match="invalid TOML at line 5") as caught:
        load_settings(path, environ={})
    assert caught.value.file == str(path)
    assert str(caught.value).startswith(str(path))


def test_toml_error_at_the_end_of_the_file_names_the_last_line(write: Write) -> None:
    path = write('name = "ok"\nvalues = [1, 2')
    with pytest.raises(ConfigError, match="invalid TOML at line 2"):
        load_settings(path, environ={})


def test_toml_error_in_a_searched_pyproject(write: Write, tmp_path: Path) -> None:
    path = write("[tool.vaultcache\n", "pyproject.toml")
    with pytest.raises(ConfigError, match="invalid TOML at line 1") as caught:
        load_settings(environ={}, cwd=tmp_path)
    assert caught.value.file == str(path)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not valid UTF-8") as caught:
        load_settings(path, environ={})
    assert caught.value.file == str(path)


def test_deeply_nested_arrays_are_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_settings(path, environ={})
