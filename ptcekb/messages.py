"""Engine messages as a person reads them: one line, and SPARQL syntax errors in words.

Shared by the command line (``ptcekb.query``) and the service (its executor, updates, federation):
the same query gets the same message from both.
"""

from __future__ import annotations

import re

from .namespaces import PREFIXES


def one_line(message: str, limit: int = 300) -> str:
    """Parser messages can list every expected token over several lines: keep one readable line."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_ENGINE_ERROR = re.compile(r"error at (\d+):(\d+): expected (?:one of )?(.*)", re.DOTALL)
# An item of the engine's list of expected tokens: a quoted token, a bracketed character class or a word.
_EXPECTED_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\']|\'(?:[^\'\\]|\\.)*\')*\]|[^,\s]+')
_CHARACTER_CLASSES = ((re.compile(r"'0'\s*\.\.=\s*'9'"), "a digit"),
                      (re.compile(r"'[Aa]'\s*\.\.=\s*'[Zz]'"), "a letter"))


def syntax_error_message(engine_message: str, text: str) -> str:
    """A SPARQL syntax error as a person reads it: where (line, column, the text there) and what was
    expected, in words. Oxigraph lists every expected token, character classes included."""
    match = _ENGINE_ERROR.match(" ".join(engine_message.split()))
    if not match:
        return f"SPARQL syntax error: {one_line(engine_message)}"
    line, column = int(match.group(1)), int(match.group(2))
    lines = text.splitlines() or [""]
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    at = source[max(column - 1, 0):].strip()
    where = f"SPARQL syntax error at line {line}, column {column}"
    near = f" (near «{at[:40]}{'…' if len(at) > 40 else ''}»)" if at else " (at the end)"
    expected = _expected_in_words(match.group(3))
    if "Prefix not found" in match.group(3):
        prefix = re.match(r"[^\s:{}()<>\"']*:", source[max(column - 1, 0):] or "")
        name = prefix.group() if prefix else _prefix_before(source, column)
        return (f"{where}: the prefix {name!r} is not declared; add PREFIX {name} <…> to the query "
                f"(the default prefixes are {', '.join(p + ':' for p in PREFIXES)})")
    return f"{where}{near}: expected {expected}"


def _prefix_before(source: str, column: int) -> str:
    """The prefix of the prefixed name that ends at ``column`` (the engine points after it)."""
    found = re.search(r"([A-Za-z_][\w.-]*)?:[\w.-]*$", source[:max(column - 1, 0)].rstrip())
    return (found.group(1) or "") + ":" if found else ":"


def _expected_in_words(listing: str) -> str:
    words = []
    for item in _EXPECTED_ITEM.findall(listing):
        if item in ("Prefix", "not", "found", "[_]"):  # "Prefix not found" is said apart; [_] is any character
            continue
        if item.startswith("["):
            described = [word for pattern, word in _CHARACTER_CLASSES if pattern.search(item)]
            words.extend(described or [f"'{char}'" for char in re.findall(r"'((?:[^'\\]|\\.)+)'", item)])
        elif item.startswith('"'):
            words.append("«" + item[1:-1].replace('\\"', '"').replace("\\\\", "\\") + "»")
        else:
            words.append(item)
    words = list(dict.fromkeys(words))
    if not words:
        return "a term, a variable or a keyword"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
