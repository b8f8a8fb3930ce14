"""One place reads the ``PTCEKB_*`` variables (config.Settings), and README's configuration table lists
exactly those; a bad value is one line naming the variable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ptcekb.config import VARIABLES, Settings
from ptcekb.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def readme_variables() -> set[str]:
    """The variables named in the first column of README's table under "## Configuration"."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # after the header and the rule
    return {name for row in rows for name in re.findall(r"`(PTCEKB_\w+)`", row.split("|")[1])}


def test_readme_lists_the_settings_variables():
    assert readme_variables() == set(VARIABLES)


def test_every_variable_is_a_settings_field():
    assert set(VARIABLES.values()) <= set(Settings.model_fields)


def test_only_config_reads_ptcekb_variables():
    """Outside config.py a variable's name appears only inside messages and docs: never as a string of its
    own (a key to look up, a constant to pass) nor on a line that reads the environment."""
    readers = []
    for path in sorted((ROOT / "ptcekb").rglob("*.py")):
        if path == ROOT / "ptcekb" / "config.py":
            continue
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"PTCEKB_\w+", node.value):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
        for number, line in enumerate(text.splitlines(), 1):
            if re.search(r"\b(environ|getenv)\b", line) and "PTCEKB_" in line:
                readers.append(f"{path.relative_to(ROOT)}:{number} {line.strip()}")
    assert not readers, f"read PTCEKB_* variables through config.Settings, not os.environ: {readers}"


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("PTCEKB_QUERY_TIMEOUT", "soon", "PTCEKB_QUERY_TIMEOUT must be a number of seconds, not 'soon'"),
    ("PTCEKB_BODY_TIMEOUT", "0", "PTCEKB_BODY_TIMEOUT must be positive, not '0'"),
    ("PTCEKB_ROW_CAP", "many", "PTCEKB_ROW_CAP must be an integer, not 'many'"),
    ("PTCEKB_QUERY_WORKERS", "0", "PTCEKB_QUERY_WORKERS must be at least 1, not '0'"),
    ("PTCEKB_HEAVY_WORKERS", "0", "PTCEKB_HEAVY_WORKERS must be at least 1, not '0'"),
    ("PTCEKB_HEAVY_AFTER", "-1", "PTCEKB_HEAVY_AFTER must be positive, not '-1'"),
    ("PTCEKB_WORKER_MEMORY", "1M", "PTCEKB_WORKER_MEMORY must be at least 256M"),
    ("PTCEKB_PUBLIC_URL", "ftp://example.org/", "PTCEKB_PUBLIC_URL must be an http(s) URL"),
])
def test_a_bad_value_is_one_line_naming_the_variable(variable, value, message):
    with pytest.raises(UserError) as raised:
        Settings.from_env({variable: value})
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_flags_win_and_unset_values_fall_back():
    settings = Settings.from_env({"PTCEKB_STORE": "elsewhere", "PTCEKB_QUERY_WORKERS": "8", "PTCEKB_BODY_TIMEOUT": "",
                                  "PTCEKB_NETWORK_GUARD": "off"}, store="var/mine", base_iri=None)
    assert settings.store == Path("var/mine") and settings.store_url is None
    assert settings.query_workers_max == 8  # never fewer than the workers always running
    assert settings.body_timeout == 30.0 and settings.network_guard is False
    remote = Settings.from_env({"PTCEKB_STORE": "http://127.0.0.1:7878/query"})
    assert remote.store_url == "http://127.0.0.1:7878/query" and remote.store_update_url is None
