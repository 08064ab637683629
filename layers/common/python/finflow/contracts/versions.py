"""The version of every cross-module contract (contracts/index.json records them).

A breaking change to a contract (`make contracts-check` says which) must raise its version in
the same change, and every reader it reaches must change with it. Ids: `event/<DetailType>`,
`view/<Name>`, `http/<module>`, `refusals/<callee>` and `token/AccessToken`, whose version is
the claims version Auth signs (`ver`, finflow.tokens: raise it with JWT_ACCEPTED_VERSIONS'
rollout window). A contract not listed here is at version 1.
"""

from __future__ import annotations

VERSIONS: dict[str, int] = {}


def version(contract_id: str) -> int:
    if contract_id == "token/AccessToken":
        from finflow.tokens import CLAIMS_VERSION

        return CLAIMS_VERSION
    return VERSIONS.get(contract_id, 1)
