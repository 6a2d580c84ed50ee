"""Deeper networks for deep hierarchical targets, trained layer by layer.

(Being written; see issue #5.)
"""

__all__: list[str] = []
