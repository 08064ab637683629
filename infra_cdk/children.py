"""A construct's children with their types: jsii answers `IConstruct | None` for `default_child`
and `try_find_child`, so each use says which resource it expects and fails clearly otherwise."""

from __future__ import annotations

from typing import TypeVar

from constructs import Construct

T = TypeVar("T")


def default_child(construct: Construct, kind: type[T]) -> T:
    """The L1 resource behind an L2 construct (to set what the L2 does not expose)."""
    child = construct.node.default_child
    if not isinstance(child, kind):
        raise TypeError(f"{construct.node.path}: default child is {type(child).__name__}, not {kind.__name__}")
    return child


def existing_child(scope: Construct, id: str, kind: type[T]) -> T | None:
    """`scope`'s child `id` if one was made already (one per stack, shared by its functions)."""
    child = scope.node.try_find_child(id)
    if child is None:
        return None
    if not isinstance(child, kind):
        raise TypeError(f"{scope.node.path}/{id} is {type(child).__name__}, not {kind.__name__}")
    return child
