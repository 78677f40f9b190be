"""The lock files say what pyproject.toml asks for (run `make lock` after changing it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# A pin and its first hash: pip installs in hash-checking mode only if every
# pin carries one.
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+) \\\n    --hash=sha256:[0-9a-f]{64}", re.M)


def pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    found = {canonicalize_name(n): v for n, v in _PIN.findall(text)}
    assert len(found) == len(re.findall(r"^\S+==", text, re.M)), f"a pin without hashes in {name}"
    return found


def requirements(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(r) for r in listed]


def test_every_runtime_dependency_is_pinned_within_its_range():
    locked = pins("requirements.lock")
    for req in requirements():
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is not in requirements.lock: run make lock"
        assert req.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={locked[name]}, outside {req}: run make lock"
        )
        for extra in req.extras:
            # psycopg[binary] brings psycopg-binary.
            assert canonicalize_name(f"{req.name}-{extra}") in locked


def test_the_test_lock_adds_test_tools_to_the_same_runtime_pins():
    runtime = pins("requirements.lock")
    test = pins("requirements-test.lock")
    assert {n: test.get(n) for n in runtime} == runtime
    for req in requirements("test"):
        name = canonicalize_name(req.name)
        assert name in test, f"{req.name} is not in requirements-test.lock: run make lock"
        assert req.specifier.contains(test[name], prereleases=True)
