"""Theorem 1's protocol (Algorithm 1 of the paper): spherical online SGD, one pre-conditioned step, ridge.

(Being written; see issue #5.)
"""

__all__: list[str] = []
