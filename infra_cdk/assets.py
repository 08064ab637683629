"""Lambda code and layer folders, built without Docker and cached under `.local/cdk-assets/`.

- a module's code: `functions/__init__.py`, `functions/catalog.py`, `functions/<module>/`
  and the deploy-time handlers (`infra_cdk/runtime` as package `deploy_runtime`);
- the common layer: `layers/common` as it is (`python/finflow`);
- the dependencies layer: `pip install --no-deps --platform <PLATFORMS[arch]> --only-binary=:all:`
  of the runtime lock's pins (`requirements/runtime.lock`, `make lock`) that apply to the Lambda
  runtime's CPython on that architecture, one per Lambda architecture side by side
  (`deps-<arch>-<hash>`), cached by a hash of the lock and the platforms so a synth downloads
  nothing once the cache exists, and only a new lock builds a new layer.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".local" / "cdk-assets"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
LAMBDA_PYTHON = "3.13"
# pip's platform tags per Lambda architecture. aarch64 also takes manylinux_2_28 (the python3.13
# runtime is Amazon Linux 2023, glibc 2.34): psycopg-binary 3.3 ships aarch64 wheels only under
# that tag, and with manylinux2014 alone pip silently falls back to psycopg 3.2.
PLATFORMS = {"x86_64": ("manylinux2014_x86_64",), "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64")}
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def lambda_environment(arch: str) -> dict[str, str]:
    """The environment markers of the Lambda runtime on an architecture (CPython on Linux)."""
    return {
        "python_version": LAMBDA_PYTHON,
        "python_full_version": f"{LAMBDA_PYTHON}.0",
        "implementation_name": "cpython",
        "implementation_version": f"{LAMBDA_PYTHON}.0",
        "platform_python_implementation": "CPython",
        "platform_machine": {"x86_64": "x86_64", "arm64": "aarch64"}[arch],
        "platform_system": "Linux",
        "sys_platform": "linux",
        "os_name": "posix",
    }


def runtime_pins(arch: str = "x86_64") -> list[str]:
    """The runtime lock's `name==version` pins that apply in Lambda on `arch`. The lock is
    universal (one file for every Python and platform); pip would judge its markers by the
    Python that runs it, not by the runtime the layer is for."""
    env = lambda_environment(arch)
    pins = []
    for line in RUNTIME_LOCK.read_text().splitlines():
        if not line.strip() or line.startswith((" ", "#")):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            pins.append(f"{req.name}{req.specifier}")
    return pins


def deps_layer_key(arch: str = "x86_64") -> str:
    digest = hashlib.sha256(RUNTIME_LOCK.read_bytes())
    digest.update("\n".join([LAMBDA_PYTHON, *PLATFORMS[arch]]).encode())
    return digest.hexdigest()[:16]


def _publish(built: Path, final: Path) -> Path:
    """Move a finished folder into place; if a concurrent synth got there first, keep theirs.
    Readers only ever see complete folders, so parallel test runs share the cache safely."""
    try:
        built.rename(final)
    except OSError:
        shutil.rmtree(built, ignore_errors=True)
    return final


def deps_layer(arch: str = "x86_64") -> Path:
    """The dependencies layer folder (`python/...`) for a Lambda architecture (`x86_64` or
    `arm64`), built once per runtime lock."""
    out = CACHE / f"deps-{arch}-{deps_layer_key(arch)}"
    if out.is_dir():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-deps-", dir=CACHE))
    target = building / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",  # the lock is the whole closure: nothing resolved anew
            *(arg for tag in PLATFORMS[arch] for arg in ("--platform", tag)),
            "--only-binary=:all:",
            "--python-version",
            LAMBDA_PYTHON,
            "--implementation",
            "cp",
            "--target",
            str(target),
            *runtime_pins(arch),
        ],
        check=True,
    )
    for junk in target.rglob("__pycache__"):
        shutil.rmtree(junk, ignore_errors=True)
    for stale in CACHE.glob("deps-*"):  # this architecture's layers of older locks (and unlabelled ones)
        if stale.name.startswith(f"deps-{arch}-") or (arch == "x86_64" and stale.name.count("-") == 1):
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
    final = _publish(building, CACHE / f"code-{key}-{_tree_digest(building)}")
    _prune(f"code-{key}-", keep=final)
    return final


def _prune(prefix: str, keep: Path) -> None:
    """Earlier versions of a cached folder, once no synth can still be reading them."""
    for stale in CACHE.glob(f"{prefix}*"):
        if stale != keep and time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


def _tree_digest(folder: Path) -> str:
    """A folder's files, names and bytes, hashed (bytecode left out)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def bundled_code(key: str) -> Path:
    """A module's code with both layers' contents beside it, for targets that do not apply
    layers (LocalStack's community edition): one folder, importable as it is in AWS."""
    code, deps = module_code(key), deps_layer()
    name = f"bundle-{key}-{code.name.rsplit('-', 1)[-1]}-{deps.name.rsplit('-', 1)[-1]}-{_tree_digest(common_layer())}"
    final = CACHE / name
    if final.is_dir():
        return final
    building = Path(tempfile.mkdtemp(prefix=f"building-bundle-{key}-", dir=CACHE))
    for source in (deps / "python", common_layer() / "python", code):  # hard links: the deps are 50+ MB
        shutil.copytree(source, building, ignore=_IGNORE, copy_function=os.link, dirs_exist_ok=True)
    _prune(f"bundle-{key}-", keep=final)
    return _publish(building, final)


if __name__ == "__main__":
    for arch in PLATFORMS:
        print(f"dependencies layer ({arch}): {deps_layer(arch).relative_to(ROOT)}")
