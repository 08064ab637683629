"""5. Package sizes against Lambda's limits, and the cost per million transfers."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

UNZIPPED_LIMIT = 250 * 1024 * 1024  # function + all layers, unzipped
ZIPPED_LIMIT = 50 * 1024 * 1024  # direct upload of one zip

# us-east-1 list prices, read 2026-11 (pricing pages of AWS Lambda, API Gateway, Aurora):
PRICES = {
    "lambda_gb_s_x86": 0.0000166667,
    "lambda_gb_s_arm": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "apigw_rest_request": 3.50 / 1e6,
    "aurora_acu_hour": 0.12,
}
PRICES_DATE = "AWS list prices for us-east-1 as published in 2025 (unchanged at the time of writing)"


def _size(folder: Path) -> tuple[int, int]:
    raw, buf = 0, io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                raw += p.stat().st_size
                z.write(p, p.relative_to(folder))
    return raw, len(buf.getvalue())


def sizes() -> dict:
    from devserver.system import built_modules
    from infra_cdk import assets

    common = _size(assets.common_layer())
    deps_dir = assets.deps_layer()  # built once per dependency list (pip --platform, as for a synth)
    deps = _size(deps_dir)
    rows = []
    for m in built_modules():
        code = _size(assets.module_code(m.key))
        rows.append(
            {
                "module": m.key,
                "code": code,
                "total_unzipped": code[0] + common[0] + deps[0],
                "largest_zip": max(code[1], common[1], deps[1]),
            }
        )
    return {"common": common, "deps": deps, "rows": rows}


def memory_mb() -> dict[str, int]:
    """Memory of each API function as the infrastructure configures it (FunctionSpec default)."""
    import re

    from bench.env import ROOT

    # read, not imported: importing the CDK app takes seconds
    m = re.search(r"memory_mb: int = (\d+)", (ROOT / "infra_cdk" / "lambdas.py").read_text())
    return {"default": int(m.group(1)) if m else 512}


def cost_per_million(spent: dict, gateway: int, transfers: int, db_tps: float, acu: float = 2.0) -> dict:
    """spent: {function: (invocations, seconds)} and `gateway`, the requests that went through
    the API gateway, both measured over `transfers` transfers (a call between modules that
    invokes its callee directly is an invocation, not a gateway request)."""
    mem_gb = memory_mb()["default"] / 1024
    invocations = sum(n for n, _ in spent.values()) / transfers * 1e6
    # billed duration: each function's own time; a caller waiting on a callee is billed too,
    # so the nested seconds are counted in both, as Lambda bills them
    seconds = sum(s for _, s in spent.values()) / transfers * 1e6
    gateway_requests = gateway / transfers * 1e6
    lam_x86 = seconds * mem_gb * PRICES["lambda_gb_s_x86"] + invocations * PRICES["lambda_request"]
    lam_arm = seconds * mem_gb * PRICES["lambda_gb_s_arm"] + invocations * PRICES["lambda_request"]
    apigw = gateway_requests * PRICES["apigw_rest_request"]
    acu_hours = 1e6 / db_tps / 3600 * acu
    aurora = acu_hours * PRICES["aurora_acu_hour"]
    return {
        "memory_gb": mem_gb,
        "invocations": invocations,
        "gb_seconds": seconds * mem_gb,
        "gateway_requests": gateway_requests,
        "lambda_x86": lam_x86,
        "lambda_arm": lam_arm,
        "apigw": apigw,
        "acu_hours": acu_hours,
        "aurora": aurora,
        "acu": acu,
        "total_x86": lam_x86 + apigw + aurora,
        "total_arm": lam_arm + apigw + aurora,
    }
