"""The project installs as packages from its lock, and the Lambda dependencies layer is the runtime lock."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra_cdk import assets

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEV_LOCK, RUNTIME_LOCK = ROOT / "requirements" / "dev.lock", ROOT / "requirements" / "runtime.lock"


def _pins(lock: Path) -> dict[str, set[str]]:
    """name -> pinned versions (a universal lock may pin two, under exclusive markers)."""
    pins: dict[str, set[str]] = {}
    for line in lock.read_text().splitlines():
        if line.strip() and not line.startswith((" ", "#")):
            req = Requirement(line)
            pins.setdefault(canonicalize_name(req.name), set()).update(s.version for s in req.specifier)
    return pins


def _declared() -> list[Requirement]:
    groups = [PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"].values()]
    return [r for r in map(Requirement, sum(groups, [])) if canonicalize_name(r.name) != "finflow"]


def test_the_lock_pins_every_declared_dependency_within_its_bounds():
    """A dependency added or bounded in pyproject.toml without `make lock` fails here."""
    pins = _pins(DEV_LOCK)
    stale = [
        f"{req} (locked: {sorted(pins.get(canonicalize_name(req.name), [])) or 'missing'})"
        for req in _declared()
        if not any(req.specifier.contains(v, prereleases=True) for v in pins.get(canonicalize_name(req.name), ()))
    ]
    assert not stale, "run `make lock`: " + ", ".join(stale)


def test_the_runtime_lock_has_the_runtime_dependencies_at_the_versions_tested():
    runtime, dev = _pins(RUNTIME_LOCK), _pins(DEV_LOCK)
    declared = {canonicalize_name(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    assert declared <= set(runtime)
    assert {name: v for name, v in runtime.items() if dev.get(name) != v} == {}
    assert not {"pytest", "moto", "aws-cdk-lib"} & set(runtime)  # nothing of the dev tools reaches Lambda


@pytest.mark.parametrize("arch", sorted(assets.PLATFORMS))
def test_the_layer_installs_the_runtime_locks_pins_that_apply_in_lambda(arch):
    pins = dict(p.split("==") for p in assets.runtime_pins(arch))
    runtime = _pins(RUNTIME_LOCK)
    for req in PYPROJECT["project"]["dependencies"]:
        name = canonicalize_name(Requirement(req).name)
        assert {pins[name]} == runtime[name]
    assert "psycopg-binary" in pins  # CPython on Linux: its marker holds
    assert "tzdata" not in pins  # sys_platform == 'win32' only


def test_the_layer_is_cached_by_the_runtime_locks_content(tmp_path, monkeypatch):
    lock = tmp_path / "runtime.lock"
    lock.write_text(RUNTIME_LOCK.read_text())
    monkeypatch.setattr(assets, "RUNTIME_LOCK", lock)
    before = {arch: assets.deps_layer_key(arch) for arch in assets.PLATFORMS}
    assert before["x86_64"] != before["arm64"]

    lock.write_text(RUNTIME_LOCK.read_text().replace("\nboto3==", "\nboto3==0.0.1+", 1))

    assert all(assets.deps_layer_key(arch) != key for arch, key in before.items())


def test_a_built_wheel_imports_without_the_checkout(tmp_path):
    """`pip install .` (not editable): the packages, Alembic's migrations and the scripts."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("pyproject.toml", "functions", "devserver", "layers/common/python/finflow"):
        copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy2
        (source / part).parent.mkdir(parents=True, exist_ok=True)
        copy(ROOT / part, source / part, **({"ignore": ignore} if copy is shutil.copytree else {}))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("finflow-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path / "site")
        entry_points = next(n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt"))
        scripts = zf.read(entry_points).decode()
    for script in ("finflow-dev", "finflow-trace", "finflow-chaos", "finflow-redrive"):
        assert f"{script} = devserver." in scripts

    check = textwrap.dedent(
        """
        import importlib, sys
        sys.path.insert(0, sys.argv[1])
        import finflow, functions.catalog
        from alembic.script import ScriptDirectory
        from finflow.migrations import alembic_config
        assert finflow.__file__.startswith(sys.argv[1]), finflow.__file__
        for key in ("auth", "wallet", "notification"):
            assert ScriptDirectory.from_config(alembic_config(key)).get_heads(), key
        for target in ("devserver.__main__", "devserver.trace", "devserver.chaos", "devserver.redrive"):
            assert callable(importlib.import_module(target).main), target
        from functions.notification.store_mongo import CA_FILE
        assert CA_FILE.is_file()
        """
    )
    # -I: no PYTHONPATH, no current directory; the editable install's finder comes after sys.path
    ran = subprocess.run(
        [sys.executable, "-I", "-c", check, str(tmp_path / "site")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
