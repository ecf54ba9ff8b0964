"""The linear read-outs of chapter 7: a ridge logistic fit by Newton's method, and R²."""

import numpy as np
import pytest
import statsmodels.api as sm

from twostep.analysis.readout import fit_logistic, predict_logistic, r_squared


def _logistic_data(n: int, weights: np.ndarray, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, len(weights) - 1))
    p = 1 / (1 + np.exp(-(weights[0] + X @ weights[1:])))
    return X, (rng.random(n) < p).astype(float)


def test_the_newton_fit_matches_statsmodels_maximum_likelihood_without_a_penalty():
    X, y = _logistic_data(5000, np.array([0.3, 1.0, -2.0, 0.5]))
    ours = fit_logistic(X, y, ridge=0.0)
    theirs = sm.Logit(y, sm.add_constant(X)).fit(disp=0).params
    np.testing.assert_allclose(ours, theirs, atol=1e-8)


def test_the_fit_recovers_the_weights_that_generated_the_data():
    # 20,000 samples: the standard errors are about 0.02-0.03, so 0.1 is 3-5 of them
    truth = np.array([0.5, 1.0, -2.0, 0.3])
    X, y = _logistic_data(20_000, truth, seed=1)
    np.testing.assert_allclose(fit_logistic(X, y), truth, atol=0.1)


def test_the_ridge_keeps_the_weights_finite_on_separable_data():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])  # perfectly separated at 0
    w = fit_logistic(X, y, ridge=1e-2)
    assert np.all(np.isfinite(w)) and w[1] > 0
    assert (predict_logistic(w, X) > 0.5).tolist() == [False, False, True, True]
    assert abs(fit_logistic(X, y, ridge=1.0)[1]) < abs(w[1])  # more penalty, smaller weight


def test_predict_logistic_is_the_sigmoid_of_the_linear_predictor():
    w = np.array([0.5, -1.0, 2.0])
    X = np.array([[0.0, 0.0], [1.0, 1.0], [-3.0, 0.5]])
    expected = 1 / (1 + np.exp(-(0.5 - X[:, 0] + 2 * X[:, 1])))
    np.testing.assert_allclose(predict_logistic(w, X), expected)


@pytest.mark.parametrize(("prediction", "expected"), [
    ([1.0, 2.0, 3.0, 4.0], 1.0),      # exact
    ([2.5, 2.5, 2.5, 2.5], 0.0),      # the target's mean
    ([4.0, 3.0, 2.0, 1.0], -3.0),     # worse than the mean
])
def test_r_squared_scores_a_prediction_against_the_target_mean(prediction, expected):
    assert r_squared(np.array(prediction), np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(expected)
