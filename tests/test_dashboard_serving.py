"""The dashboard has no login, so it listens on 127.0.0.1 unless told otherwise
(README "Serving to others")."""

from __future__ import annotations

import re
import subprocess
import tomllib

from pipelines.config import PROJECT_ROOT


def make_run(*args: str) -> str:
    """The commands `make run` would execute (dry run: nothing is started)."""
    done = subprocess.run(["make", "-n", "run", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    commands = done.stdout.replace("\\\n", " ").splitlines()
    (line,) = [ln for ln in commands if "streamlit run" in ln]
    return line


def test_make_run_binds_to_loopback_by_default():
    assert re.search(r"--server\.address 127\.0\.0\.1(\s|$)", make_run())


def test_another_address_is_an_explicit_option():
    assert re.search(r"--server\.address 0\.0\.0\.0(\s|$)", make_run("ADDRESS=0.0.0.0"))


def test_streamlit_config_binds_to_loopback():
    """`streamlit run dashboard/app.py` from the repository root, without make."""
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"


def test_readme_documents_the_option_and_its_risk():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Serving to others", 1)[1].split("\n## ", 1)[0]
    assert "127.0.0.1" in section and "ADDRESS=0.0.0.0" in section
    assert "no login" in section and "Add article" in section
