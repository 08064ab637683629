"""Lambda code and layer folders, built without Docker and cached under `.local/cdk-assets/`.

- a module's code: `functions/__init__.py`, `functions/catalog.py`, `functions/<module>/`
  and the deploy-time handlers (`infra_cdk/runtime` as package `deploy_runtime`);
- the common layer: `layers/common` as it is (`python/finflow`);
- the dependencies layer: `pip install --platform manylinux2014_x86_64 --only-binary=:all:`
  of pyproject's runtime dependencies for the Lambda runtime's CPython, cached by a hash
  of that list so a synth downloads nothing once the cache exists.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".local" / "cdk-assets"
LAMBDA_PYTHON = "3.13"
PLATFORM = "manylinux2014_x86_64"
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def runtime_dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def deps_layer_key() -> str:
    spec = "\n".join(sorted(runtime_dependencies()) + [LAMBDA_PYTHON, PLATFORM])
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


def _publish(built: Path, final: Path) -> Path:
    """Move a finished folder into place; if a concurrent synth got there first, keep theirs.
    Readers only ever see complete folders, so parallel test runs share the cache safely."""
    try:
        built.rename(final)
    except OSError:
        shutil.rmtree(built, ignore_errors=True)
    return final


def deps_layer() -> Path:
    """The dependencies layer folder (`python/...`), built once per dependency list."""
    out = CACHE / f"deps-{deps_layer_key()}"
    if out.is_dir():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-deps-", dir=CACHE))
    target = building / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--platform", PLATFORM, "--only-binary=:all:", "--python-version", LAMBDA_PYTHON,
         "--implementation", "cp", "--target", str(target), *runtime_dependencies()],
        check=True)
    for junk in target.rglob("__pycache__"):
        shutil.rmtree(junk, ignore_errors=True)
    for stale in CACHE.glob("deps-*"):  # layers of older dependency lists
        shutil.rmtree(stale, ignore_errors=True)
    return _publish(building, out)


def common_layer() -> Path:
    return ROOT / "layers" / "common"


def handler_present(handler: str) -> bool:
    """Whether a catalog handler's file exists in this build ("functions.kyc.api.handler")."""
    module_path = handler.rpartition(".")[0].replace(".", "/")
    return (ROOT / f"{module_path}.py").is_file()


def module_code(key: str) -> Path:
    """One module's code folder, named by a hash of its content (a few hundred KB, rebuilt each synth)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"building-{key}-", dir=CACHE))
    (building / "functions").mkdir()
    for name in ("__init__.py", "catalog.py"):
        shutil.copy2(ROOT / "functions" / name, building / "functions" / name)
    source = ROOT / "functions" / key
    if source.is_dir():
        shutil.copytree(source, building / "functions" / key, ignore=_IGNORE)
    shutil.copytree(ROOT / "infra_cdk" / "runtime", building / "deploy_runtime", ignore=_IGNORE)
    digest = hashlib.sha256()
    for path in sorted(p for p in building.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(building)).encode() + b"\0" + path.read_bytes())
    final = _publish(building, CACHE / f"code-{key}-{digest.hexdigest()[:16]}")
    for stale in CACHE.glob(f"code-{key}*"):  # earlier versions, once no synth can still be reading them
        if stale != final and time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    return final

if __name__ == "__main__":
    print(f"dependencies layer: {deps_layer().relative_to(ROOT)}")
