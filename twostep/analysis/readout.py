r"""Linear read-outs: what a network's hidden state says about a quantity it never saw.

Chapter 7 asks whether the trained LSTM's hidden state :math:`h_t` holds the ideal
observer's belief that a second-stage state is good. A logistic read-out answers the
yes/no version (which state is good), fitted by Newton's method with a small ridge
penalty that keeps the weights finite when the classes separate:

.. math::  \operatorname{logit} P(y = 1 \mid x) = w_0 + x^\top w, \qquad
   \min_w \; -\sum_n \log P(y_n \mid x_n) + \tfrac{\lambda}{2} \lVert w \rVert^2

(the intercept :math:`w_0` is penalised too, as in the chapter). Each Newton step solves
:math:`(X_1^\top S X_1 + \lambda I)\,\Delta = X_1^\top (p - y) + \lambda w` with
:math:`X_1 = [1, X]` and :math:`S = \operatorname{diag}(p (1 - p))`. :func:`r_squared`
scores a linear read-out of the belief itself.
"""

from __future__ import annotations

import numpy as np


def fit_logistic(X: np.ndarray, y: np.ndarray, ridge: float = 1e-2, steps: int = 25) -> np.ndarray:
    """Ridge-penalised logistic regression of ``y`` (0/1) on ``X``, by ``steps`` Newton steps.

    Args:
        X: predictors ``[N, D]`` (standardise them first: the penalty is the same for all).
        y: outcomes ``[N]``, 0 or 1.
        ridge: :math:`\\lambda`, the weight of the penalty :math:`\\lambda/2 \\lVert w \\rVert^2`.

    Returns:
        ``[D + 1]``: the intercept, then one weight per column of ``X``.
    """
    X1 = np.column_stack([np.ones(len(X)), X])
    w = np.zeros(X1.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X1 @ w))
        gradient = X1.T @ (p - y) + ridge * w
        hessian = (X1 * (p * (1 - p))[:, None]).T @ X1 + ridge * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def predict_logistic(w: np.ndarray, X: np.ndarray) -> np.ndarray:
    """:math:`P(y = 1 \\mid x)` ``[N]`` under the weights of :func:`fit_logistic`."""
    return 1 / (1 + np.exp(-(w[0] + X @ w[1:])))


def r_squared(prediction: np.ndarray, target: np.ndarray) -> float:
    """The share of ``target``'s variance that ``prediction`` explains: 1 exact, 0 no better
    than ``target``'s mean (negative: worse)."""
    return 1 - ((target - prediction) ** 2).sum() / ((target - target.mean()) ** 2).sum()
