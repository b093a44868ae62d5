"""Pytrees: arguments and results nested in tuples, lists and dicts.

`flatten(tree)` gives the leaves in a fixed order plus a `PyTreeDef`, a
hashable description of the nesting; `unflatten(treedef, leaves)` rebuilds
the tree. Containers are tuples (named tuples keep their class), lists,
dicts (visited in sorted key order, so `{"b": .., "a": ..}` and
`{"a": .., "b": ..}` flatten alike) and None (a container with no leaves, as
in JAX). Everything else is a leaf. Subclasses of list and dict flatten like
their base class and come back as it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from gradc.errors import GradcError

_NoneType = type(None)


class PyTreeDef:
    """The shape of a pytree with its leaves taken out; hashable, so it can
    key a cache. `kind` is the container type (None for a leaf), `keys` the
    sorted dict keys."""

    __slots__ = ("kind", "keys", "children", "num_leaves", "_hash")

    def __init__(self, kind: type | None, keys: tuple | None, children: tuple[PyTreeDef, ...]):
        self.kind = kind
        self.keys = keys
        self.children = children
        if kind is None:
            self.num_leaves = 1
        else:
            self.num_leaves = 0
            for child in children:
                self.num_leaves += child.num_leaves
        self._hash = hash((kind, keys, children))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, PyTreeDef)
            and self._hash == other._hash
            and self.kind is other.kind
            and self.keys == other.keys
            and self.children == other.children
        )

    def __repr__(self) -> str:
        return f"PyTreeDef({self._show()})"

    def _show(self) -> str:
        kind, children = self.kind, self.children
        if kind is None:
            return "*"
        if kind is _NoneType:
            return "None"
        if kind is dict:
            assert self.keys is not None
            return "{" + ", ".join(f"{k!r}: {c._show()}" for k, c in zip(self.keys, children)) + "}"
        inner = ", ".join(c._show() for c in children)
        if kind is list:
            return f"[{inner}]"
        if kind is tuple:
            return f"({inner},)" if len(children) == 1 else f"({inner})"
        return f"{kind.__name__}({inner})"

    def _build(self, leaves: Iterator[Any]) -> Any:
        kind = self.kind
        if kind is None:
            return next(leaves)
        if kind is _NoneType:
            return None
        values = [c._build(leaves) for c in self.children]
        if kind is tuple or kind is list:
            return kind(values)
        if kind is dict:
            assert self.keys is not None
            return dict(zip(self.keys, values))
        return kind(*values)  # a named tuple


LEAF = PyTreeDef(None, None, ())
_NONE = PyTreeDef(_NoneType, None, ())


def flatten(tree: Any) -> tuple[list[Any], PyTreeDef]:
    """The leaves of `tree` (depth first, dicts in sorted key order) and its
    structure."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(node: Any, leaves: list[Any]) -> PyTreeDef:
    kind = type(node)
    if kind not in _CONTAINERS and not isinstance(node, (tuple, list, dict)):  # noqa: UP038 (faster)
        leaves.append(node)  # the common case first: a leaf
        return LEAF
    if kind is tuple or kind is list:
        return PyTreeDef(kind, None, tuple([_flatten(c, leaves) for c in node]))
    if isinstance(node, dict):
        try:
            keys = tuple(sorted(node))
        except TypeError:
            raise GradcError(
                f"dict keys must be sortable to flatten a pytree, got keys {list(node)!r}"
            ) from None
        return PyTreeDef(dict, keys, tuple([_flatten(node[k], leaves) for k in keys]))
    if node is None:
        return _NONE
    if isinstance(node, tuple):
        base = kind if hasattr(kind, "_fields") else tuple
        return PyTreeDef(base, None, tuple([_flatten(c, leaves) for c in node]))
    return PyTreeDef(list, None, tuple([_flatten(c, leaves) for c in node]))


_CONTAINERS = frozenset({tuple, list, dict, _NoneType})


def unflatten(treedef: PyTreeDef, leaves: Sequence[Any]) -> Any:
    """Rebuild the tree `treedef` describes, with `leaves` in flatten's order."""
    if treedef.kind is None and len(leaves) == 1:
        return leaves[0]
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"{treedef} has {treedef.num_leaves} leaves, got {len(leaves)}")
    return treedef._build(iter(leaves))


def leaf_keys(treedef: PyTreeDef) -> list[tuple[Any, ...]]:
    """For each leaf, the keys (tuple/list indices, dict keys) leading to it."""
    out: list[tuple[Any, ...]] = []

    def walk(node: PyTreeDef, prefix: tuple[Any, ...]) -> None:
        if node.kind is None:
            out.append(prefix)
            return
        keys = node.keys if node.keys is not None else range(len(node.children))
        for key, child in zip(keys, node.children):
            walk(child, (*prefix, key))

    walk(treedef, ())
    return out


def format_path(root: str, keys: Sequence[Any]) -> str:
    """`format_path("args", (0, "w"))` is `args[0]['w']`."""
    return root + "".join(f"[{k!r}]" for k in keys)


__all__ = ["PyTreeDef", "LEAF", "flatten", "unflatten", "leaf_keys", "format_path"]
