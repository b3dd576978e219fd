"""Text from data or a remote server made safe to print: no terminal escapes, no secrets.

The lowest layer, beside :mod:`upsell_rules.errors`: every command that prints text it
did not write itself (account names, values, a webhook's error body, a URL) passes it
through :func:`printable`, and every URL through :func:`redact_url`.
"""

from __future__ import annotations

import hashlib
import io
import re
import urllib.parse
from typing import TextIO, cast

__all__ = [
    "for_terminal",
    "hide_credentials",
    "markdown_code",
    "markdown_text",
    "printable",
    "printable_lines",
    "redact_text",
    "redact_url",
    "terminal_safe",
]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: control characters appear as escapes.

    An account name holding ESC sequences could otherwise restyle, retitle or clear the
    terminal of whoever reads it, write the clipboard (OSC 52) or hide a link (OSC 8),
    and bidirectional overrides could make it read as something else; line breaks and
    tabs would break a layout. ``\\x1b[2J`` is shown as those six characters.
    """
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


_TERMINAL_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def terminal_safe(text: str) -> str:
    """Machine-readable output (CSV, JSON) safe to show on a terminal.

    Every control character but the line feed and the tab becomes a ``\\uXXXX``
    escape: JSON reads it back as the same character, and in CSV it is plain text. The
    escapes an account name could carry never reach the terminal.
    """
    return _TERMINAL_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class _TerminalText(io.TextIOBase):
    """A text stream to a terminal that passes everything through :func:`terminal_safe`."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self._out = out

    def write(self, text: str) -> int:
        self._out.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self._out.flush()

    def writable(self) -> bool:
        return True


def for_terminal(out: TextIO) -> TextIO:
    """``out``, or when it is a terminal, a stream over it writing :func:`terminal_safe`.

    CSV and JSON carry account names as they are; on a terminal an escape sequence among
    them would restyle, retitle or clear it. Piped or redirected output is not touched.
    """
    try:
        terminal = out.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return cast(TextIO, _TerminalText(out)) if terminal else out


def printable_lines(text: str) -> str:
    """:func:`printable` for a multi-line report: line breaks are kept, nothing else."""
    return "\n".join(printable(line) for line in text.split("\n"))


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|<>~@])")
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown (GitHub flavour): no image, link, HTML or emphasis.

    The punctuation Markdown reads inline is backslash-escaped, ``&`` becomes ``&amp;``
    (no entity), a bare ``https://`` or ``www.`` is broken so it is no autolink, and
    line breaks become spaces (a table row stays one row).
    """
    text = printable(" ".join(text.splitlines())).replace("&", "&amp;")
    text = _MARKDOWN.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: "\\" + m.group() if m.group() == "://" else
                         m.group()[:3] + "\\.", text)


def markdown_code(text: str) -> str:
    """``text`` for inside a single-backquote code span: backquotes replaced, printable."""
    return printable(" ".join(text.splitlines())).replace("`", "'")


def _host(host: str) -> str:
    """A host name with every label but the last two hidden (a secret may sit there)."""
    if not host or re.fullmatch(r"[0-9.]+|\[?[0-9a-fA-F:]+\]?", host) or host == "localhost":
        return host
    labels = host.split(".")
    return host if len(labels) <= 2 else "*." + ".".join(labels[-2:])


def redact_url(url: str, *, empty_path: str = "/") -> str:
    """A URL safe to print: scheme, the host's last two labels, the port, and a tag.

    Credentials, the path (its first segment too: some hooks put the secret there), the
    query and the host's leading labels go; ``#`` and eight hex digits of the URL's
    SHA-256 tell two URLs apart without showing either. ``empty_path`` is shown when the
    URL has no path at all. Never raises, even on a malformed port.
    """
    parts = urllib.parse.urlsplit(url.strip())
    host = _host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        port = None
        host += ":?"
    if port:
        host = f"{host}:{port}"
    tag = hashlib.sha256(url.encode("utf-8", "replace")).hexdigest()[:8]
    path = "/…" if parts.path.strip("/") or parts.query else empty_path
    scheme = parts.scheme if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,31}", parts.scheme) else "?"
    return printable(f"{scheme}://{host}{path} (#{tag})")


_USER_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@/\s]*@")
_SECRET_PARAM = re.compile(
    r"(?i)([?&;](?:sig|[a-z0-9_.-]*(?:password|passwd|pwd|secret|token|credential|"
    r"private_?key|api_?key|access_?key)[a-z0-9_.-]*)=)[^&#\s]*"
)


def hide_credentials(url: str) -> str:
    """A database URL with its password replaced by ``***``, wherever it is given.

    Unlike :func:`redact_url` the rest stays readable (user, host, database, table).
    Drivers take a password in the query too (``?password=``, Snowflake's
    ``private_key_file_pwd``, a ``token``): those values are hidden as well.
    """
    return _SECRET_PARAM.sub(r"\1***", _USER_PASSWORD.sub(r"\1***@", url))


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[^\s'\"]+")


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted and credentials after ``Bearer`` hidden."""
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group()), text)
    return printable(_BEARER.sub(lambda m: f"{m.group(1)} ***", text))
