"""Where a plugin's problem lies, and where the plugin comes from: the located text of
an exception or a function (``file:line``), a plugin's package folder and distribution."""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import traceback
from types import ModuleType
from typing import Any

import pluggy

#: The distribution whose entry points are the bundled plugins.
FIRST_PARTY_DIST = "upsell-rules"


def failure_text(exc: BaseException) -> str:
    """``TypeError: message`` (the class name alone when the message is empty), with a
    hint when plugin code tried to change the read-only signals it was given."""
    message = str(exc)
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    if isinstance(exc, TypeError) and message.startswith("'mappingproxy' object"):
        return f"{text} (the signals given to a plugin are read-only)"
    if isinstance(exc, AttributeError) and message.startswith("'tuple' object has no attr"):
        return (f"{text} (a list signal is given to a plugin as a read-only tuple: "
                "copy it with list(...) to change it)")
    return text


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def code_location(obj: Any) -> str:
    """``file:line`` of a function or module, or empty when unknown."""
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return ""
    if not source:
        return ""
    line = 1
    code = getattr(obj, "__code__", None)
    if code is not None:
        line = code.co_firstlineno
    return f"{display_path(source)}:{line}"


def source_dir(obj: Any) -> str:
    """The folder of the file an object was defined in, or empty."""
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        return ""
    return os.path.dirname(os.path.abspath(source)) if source else ""


def exception_location(exc: BaseException, near: str = "") -> str:
    """Where an exception was raised: the innermost frame in the plugin's own files
    (below ``near``) when there is one, else the innermost frame outside importlib."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{display_path(exc.filename)}:{exc.lineno or 1}"
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<") and "importlib" not in frame.filename
    ]
    if near:
        own = [f for f in frames if os.path.abspath(f.filename).startswith(near)]
        frames = own or frames
    if not frames:
        return ""
    return f"{display_path(frames[-1].filename)}:{frames[-1].lineno}"


def located(location: str, message: str) -> str:
    return f"{location}: {message}" if location else message


def package_dir(module_name: str) -> str:
    """The folder holding a module's files (its package folder), or empty."""
    try:
        spec = importlib.util.find_spec(module_name.split(":")[0].split(".")[0])
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.origin:
        return ""
    return os.path.dirname(os.path.abspath(spec.origin))


def is_first_party(entry: importlib.metadata.EntryPoint) -> bool:
    return normalise(distribution(entry)[0]) == FIRST_PARTY_DIST


def distribution(entry: importlib.metadata.EntryPoint) -> tuple[str, str]:
    """(name, version) of the distribution that declares ``entry`` (empty: none)."""
    dist = entry.dist
    return ("", "") if dist is None else _name_and_version(dist)


@functools.cache
def _name_and_version(dist: importlib.metadata.Distribution) -> tuple[str, str]:
    # Each ``dist.name`` or ``dist.version`` parses the distribution's METADATA file
    # again; every entry point of a distribution shares one ``dist``.
    metadata = dist.metadata
    return str(metadata["Name"] or ""), str(metadata["Version"] or "")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_of(module: ModuleType) -> tuple[str, str]:
    """(distribution, version) that installed ``module``'s top-level package, if any."""
    top = module.__name__.split(".")[0]
    try:
        names = importlib.metadata.packages_distributions().get(top, [])
    except Exception:  # broken metadata of some other package must not stop us
        names = []
    for name in names:
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "", str(getattr(module, "__version__", "") or "")


def validation_message(exc: pluggy.PluginValidationError, name: str, plugin: object) -> str:
    """One located line for a hook implementation whose arguments do not fit its hook."""
    text = str(exc)
    match = re.search(r"for hook '(\w+)'", text)
    location = ""
    if match:
        function = getattr(plugin, match.group(1), None)
        if function is not None:
            location = code_location(function)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = lines[-1] if lines else text
    hook = f" implements {match.group(1)}" if match else ""
    return located(location or code_location(plugin), f"plugin '{name}'{hook} wrongly: {reason}")
