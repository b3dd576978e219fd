"""Plugin discovery and control: entry points, -p, --plugin, the environment, disabling,
failure isolation, misspelled hooks, duplicate names and defaults that user plugins win."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import AS_OF, run_cli
from upsell_rules.plugin.build import build_registry
from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.registry import BUILTIN_NAME, CORE_PLUGINS, PluginRequest, PluginSelection
from upsell_rules.plugin.types import Derivation, Sink, Source, UpsellType

RULESET = "rulesets/upsell_timing.yaml"


def write_plugin(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def files(*paths: Path) -> PluginSelection:
    return PluginSelection(tuple(PluginRequest(str(p), "--plugin") for p in paths))


GOOD = """
    from upsell_rules.plugin.types import Derivation
    from upsell_rules.plugin.hookspecs import hookimpl

    __version__ = "1.2.3"

    @hookimpl
    def upsell_rules_derivations(register):
        register(Derivation("always_seven", "Seven.", "number", lambda params: lambda s, d: 7))
"""

BROKEN_IMPORT = """
    import os

    raise RuntimeError("cannot reach the CRM")
"""

MISSPELLED = """
    from upsell_rules.plugin.hookspecs import hookimpl

    @hookimpl
    def upsell_rules_derivatoins(register):
        pass
"""


# --- where plugins come from -----------------------------------------------------------


def test_bundled_plugins_load_through_entry_points() -> None:
    registry = build_registry()
    assert registry.problems == [] and registry.fatal == []
    for name in ("files", "signals", "seat", "plan", "addon", "anniversary", "sql", "events",
                 "tickets", "webhook"):
        assert registry.info[name].origin == "entry point (bundled)", name
        assert registry.info[name].distribution == "upsell-rules"
    assert all(registry.info[name].origin == "built in" for name in CORE_PLUGINS)
    assert registry.info["files"].provides["source"] == ["csv", "json", "jsonl", "parquet"]


def test_plugin_from_a_file(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "seven", GOOD)
    registry = build_registry(selection=files(path))
    assert registry.problems == []
    assert "always_seven" in registry.derivations
    info = registry.info["seven"]
    assert info.origin == f"--plugin {path}"
    assert info.version == "1.2.3"
    assert info.hooks == ["upsell_rules_derivations"]
    assert registry.provider("derivation", "always_seven") == "seven"


def test_plugin_by_module_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_plugin(tmp_path, "my_seven_plugin", GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    selection = PluginSelection((PluginRequest("my_seven_plugin", "-p"),))
    registry = build_registry(selection=selection)
    assert registry.info["my_seven_plugin"].origin == "-p"
    assert "always_seven" in registry.derivations
    sys.modules.pop("my_seven_plugin", None)


def test_environment_variables_load_and_disable(tmp_path: Path) -> None:
    selection = PluginSelection.from_env({
        "UPSELL_RULES_PLUGINS": f" {tmp_path / 'a.py'}, some.module ,no:seat",
        "UPSELL_RULES_DISABLE_PLUGINS": "plan, all",
    })
    assert selection.requests == (
        PluginRequest(str(tmp_path / "a.py"), "UPSELL_RULES_PLUGINS"),
        PluginRequest("some.module", "UPSELL_RULES_PLUGINS"),
    )
    assert selection.disabled == ("seat", "plan")
    assert selection.autoload is False


def test_disable_a_bundled_plugin_by_name() -> None:
    registry = build_registry(selection=PluginSelection(disabled=("seat",)))
    assert "seat" not in registry.upsell_types
    assert "seat" not in registry.info
    assert registry.disabled == ["seat"]
    assert "plan" in registry.upsell_types


def test_disabling_an_unknown_name_is_reported_with_a_suggestion() -> None:
    registry = build_registry(selection=PluginSelection(disabled=("sigals",)))
    assert registry.problems == [
        "cannot disable plugin 'sigals' (-p no:sigals): no plugin has that name "
        "(did you mean 'signals'?)"
    ]


def test_the_core_cannot_be_disabled() -> None:
    registry = build_registry(selection=PluginSelection(disabled=(BUILTIN_NAME,)))
    assert "python" in registry.engines
    assert "cannot be disabled" in registry.problems[0]


def test_autoload_off_keeps_bundled_plugins_and_named_ones(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "seven", GOOD)
    registry = build_registry(selection=PluginSelection(
        (PluginRequest(str(path), "--plugin"),), autoload=False))
    assert "csv" in registry.sources and "always_seven" in registry.derivations


def test_p_with_an_entry_point_name_loads_that_entry_point() -> None:
    selection = PluginSelection((PluginRequest("seat", "-p"),))
    registry = build_registry(selection=selection)
    assert registry.info["seat"].origin == "-p"
    assert registry.problems == []


# --- failures are isolated and located -------------------------------------------------


def test_a_plugin_that_raises_on_import_is_one_located_warning(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "crm_sync", BROKEN_IMPORT)
    registry = build_registry(selection=files(path))
    assert registry.problems == [
        f"{path}:4: plugin 'crm_sync' (--plugin {path}) failed to load: "
        "RuntimeError: cannot reach the CRM"
    ]
    assert registry.fatal == []
    assert "csv" in registry.sources  # everything else still loads


def test_a_misspelled_hook_leaves_the_plugin_out_with_one_located_error(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "typo", MISSPELLED)
    registry = build_registry(selection=files(path))
    message = (
        f"{path}:4: plugin 'typo' implements unknown hook 'upsell_rules_derivatoins' "
        "(did you mean 'upsell_rules_derivations'?) (a misspelling, or a hook of another "
        "upsell-rules version); the plugin is left out"
    )
    assert registry.problems == [message]
    assert registry.failed["typo"][1] == message
    assert registry.fatal == []
    assert "typo" not in registry.info and "csv" in registry.sources


def test_an_unmarked_hook_function_is_checked_too(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "unmarked", """
        def upsell_rules_sourcess(register):
            pass
    """)
    registry = build_registry(selection=files(path))
    assert len(registry.problems) == 1
    assert "unknown hook 'upsell_rules_sourcess'" in registry.problems[0]
    assert registry.problems[0].startswith(f"{path}:2: plugin 'unmarked'")
    assert "unmarked" in registry.failed


def test_a_hook_with_wrong_arguments_is_located_and_left_out(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "badargs", """
        from upsell_rules.plugin.hookspecs import hookimpl

        @hookimpl
        def upsell_rules_sinks(register, options):
            pass
    """)
    registry = build_registry(selection=files(path))
    assert len(registry.problems) == 1 and registry.fatal == []
    message = registry.problems[0]
    assert message.startswith(f"{path}:4: plugin 'badargs' implements upsell_rules_sinks")
    assert "options" in message
    assert registry.failed["badargs"][1] == message


def test_a_hook_that_raises_names_the_plugin_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "flaky", """
        from upsell_rules.plugin.hookspecs import hookimpl

        @hookimpl
        def upsell_rules_derivations(register):
            raise KeyError("config")
    """)
    registry = build_registry(selection=files(path))
    assert registry.problems == [
        f"{path}:6: plugin 'flaky' failed in upsell_rules_derivations: KeyError: 'config'"
    ]
    assert "latest" in registry.derivations


def test_a_missing_plugin_file_is_reported(tmp_path: Path) -> None:
    registry = build_registry(selection=files(tmp_path / "nope.py"))
    assert registry.problems == [
        f"{tmp_path / 'nope.py'}: plugin file not found (--plugin {tmp_path / 'nope.py'})"
    ]


# --- names: duplicates are errors, defaults lose to user plugins ------------------------


def _module(name: str, **hooks: object) -> ModuleType:
    module = ModuleType(name)
    for hook, function in hooks.items():
        setattr(module, hook, function)
    return module


def test_the_same_name_from_two_plugins_names_both() -> None:
    def one(register):  # type: ignore[no-untyped-def]
        register(UpsellType("seats_plus", "Seats+", "growth"))

    first = _module("first_plugin", upsell_rules_upsell_types=hookimpl(one))
    second = _module("second_plugin", upsell_rules_upsell_types=hookimpl(one))
    registry = build_registry([first, second])
    assert registry.fatal == [
        "upsell type 'seats_plus' is registered by two plugins, 'second_plugin' and "
        "'first_plugin'; choose one: leave the other out with -p no:first_plugin or "
        "-p no:second_plugin (or UPSELL_RULES_DISABLE_PLUGINS=NAME)"
    ]


def test_a_user_plugin_replaces_a_bundled_default_quietly() -> None:
    def mine(register):  # type: ignore[no-untyped-def]
        register(Derivation("latest", "My latest.", "number", lambda p: lambda s, d: 42))

    module = _module("my_latest", upsell_rules_derivations=hookimpl(mine))
    registry = build_registry([module])
    assert registry.problems == []
    assert registry.provider("derivation", "latest") == "my_latest"
    assert "derivation 'latest' (overridden by plugin 'my_latest')" in (
        registry.info["signals"].overridden
    )


def test_a_user_sink_replaces_the_builtin_stdout() -> None:
    def sinks(register):  # type: ignore[no-untyped-def]
        register(Sink("stdout", "Quiet.", lambda decisions, context: None))  # type: ignore[arg-type,return-value]

    registry = build_registry([_module("quiet", upsell_rules_sinks=hookimpl(sinks))])
    assert registry.provider("sink", "stdout") == "quiet"
    assert registry.problems == []


def test_a_nameless_extension_is_reported() -> None:
    def sources(register):  # type: ignore[no-untyped-def]
        register(Source("", "No name.", lambda p: False, lambda p: iter(())))

    registry = build_registry([_module("nameless", upsell_rules_sources=hookimpl(sources))])
    assert len(registry.problems) == 1
    assert "plugin 'nameless' registered a source without a name (name='' (str))" in (
        registry.problems[0]
    )
    assert "nameless" in registry.failed


# --- the CLI: every command takes the options --------------------------------------------


def test_every_command_takes_the_plugin_options() -> None:
    import click

    from upsell_rules.cli.main import cli

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert len(names) >= 16
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert {"-p", "--plugin"} <= options, name
    group_options = {opt for param in cli.params for opt in getattr(param, "opts", [])}
    assert {"-p", "--plugin"} <= group_options


def test_cli_broken_import_warns_once_and_the_run_goes_on(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "crm_sync", BROKEN_IMPORT)
    result = run_cli("dry-run", RULESET, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                     "--format", "jsonl", "--plugin", str(path))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "crm_sync" in line]
    assert warnings == [
        f"upsell-rules: error: {path}:4: plugin 'crm_sync' (--plugin {path}) failed to "
        "load: RuntimeError: cannot reach the CRM"
    ]
    assert len(result.stdout.splitlines()) == 50


def test_cli_misspelled_hook_is_one_located_error_and_the_plugin_is_left_out(
    tmp_path: Path,
) -> None:
    path = write_plugin(tmp_path, "typo", MISSPELLED)
    result = run_cli("validate", RULESET, "--plugin", str(path))
    assert result.returncode == 0, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("upsell-rules: error")]
    assert errors == [
        f"upsell-rules: error: {path}:4: plugin 'typo' implements unknown hook "
        "'upsell_rules_derivatoins' (did you mean 'upsell_rules_derivations'?) (a "
        "misspelling, or a hook of another upsell-rules version); the plugin is left out"
    ]
    listing = run_cli("plugins", "--plugin", str(path))
    assert listing.returncode == 1
    assert "typo" in listing.stdout and "left out" in listing.stdout


def test_cli_env_var_loads_a_plugin_file_and_group_level_p_disables(tmp_path: Path) -> None:
    path = write_plugin(tmp_path, "seven", GOOD)
    result = run_cli("-p", "no:anniversary", "plugins", "--format", "json",
                     env={"UPSELL_RULES_PLUGINS": str(path)})
    payload = json.loads(result.stdout)
    names = {p["name"]: p for p in payload["plugins"]}
    assert names["seven"]["origin"] == f"UPSELL_RULES_PLUGINS {path}"
    assert "anniversary" not in names
    assert payload["disabled"] == ["anniversary"]


def test_cli_disable_all_third_party(tmp_path: Path, example_plugin_site: Path) -> None:
    env = {"PYTHONPATH": str(example_plugin_site)}
    on = json.loads(run_cli("plugins", "--format", "json", env=env).stdout)
    off = json.loads(run_cli("plugins", "--format", "json",
                             env={**env, "UPSELL_RULES_DISABLE_PLUGINS": "all"}).stdout)
    assert "example" in {p["name"] for p in on["plugins"]}
    assert "example" not in {p["name"] for p in off["plugins"]}
    assert "files" in {p["name"] for p in off["plugins"]}
    # ... and -p brings one back by its entry-point name.
    back = json.loads(run_cli("plugins", "--format", "json", "-p", "example",
                              env={**env, "UPSELL_RULES_DISABLE_PLUGINS": "all"}).stdout)
    assert {p["name"]: p["origin"] for p in back["plugins"]}["example"] == "-p"


def fake_distribution(site: Path, name: str, module_body: str) -> None:
    """An installed distribution (metadata and an entry point) whose module is ``name``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{name}.py").write_text(textwrap.dedent(module_body), encoding="utf-8")
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
                                   encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[upsell_rules]\n{name} = {name}\n",
                                           encoding="utf-8")


def test_cli_installed_plugin_that_raises_on_import(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "broken_crm", BROKEN_IMPORT)
    result = run_cli("dry-run", RULESET, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                     "--format", "jsonl", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "error" in line]
    assert warnings == [
        f"upsell-rules: error: {site / 'broken_crm.py'}:4: plugin 'broken_crm' (entry point "
        "broken_crm) failed to load: RuntimeError: cannot reach the CRM"
    ]
    assert len(result.stdout.splitlines()) == 50
    # -p no:NAME silences it.
    quiet = run_cli("validate", RULESET, "-p", "no:broken_crm", env={"PYTHONPATH": str(site)})
    assert quiet.returncode == 0 and "error" not in quiet.stderr


def test_cli_installed_plugin_with_a_misspelled_hook_is_left_out(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(site, "typo_plugin", MISSPELLED)
    result = run_cli("dry-run", RULESET, "--data", "samples/accounts.csv", "--as-of", AS_OF,
                     "--format", "jsonl", env={"PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith(
        f"upsell-rules: error: {site / 'typo_plugin.py'}:4: plugin 'typo_plugin' implements "
        "unknown hook 'upsell_rules_derivatoins' (did you mean 'upsell_rules_derivations'?)"
    )
    assert len(result.stdout.splitlines()) == 50
