"""Maximum-likelihood fits of the hybrid model to trial tables (twostep.core.fit)."""

import math

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
import torch

from twostep.core.agents import simulate
from twostep.core.config import TaskConfig
from twostep.core.fit import (
    choice_likelihoods,
    compare_models,
    fit,
    fit_table,
    minimize_together,
    negative_log_likelihood,
    prepare,
    recovery_summary,
    subject_episodes,
)
from twostep.errors import TwostepError

WANG = TaskConfig()


def test_a_tables_likelihood_is_the_one_worked_by_hand():
    # the four trials of tests/test_hybrid.py, as a trial table
    table = pd.DataFrame({"seed": 0, "episode": 0, "trial": range(4), "choice": [1, 1, 0, 0],
                          "state": [1, 0, 0, 1], "reward": [1, 0, 1, 0]})
    params = torch.tensor([[0.5, 0.5, 2.0, 0.3, 0.4]], dtype=torch.float64)
    nll = negative_log_likelihood(params, prepare(subject_episodes(table), common_prob=0.7))
    by_hand = -(math.log(0.5) + math.log(1 / (1 + math.exp(-0.53)))
                + math.log(1 / (1 + math.exp(0.385))) + math.log(1 / (1 + math.exp(-0.41))))
    assert nll.item() == pytest.approx(by_hand, abs=1e-12)


def test_fitting_a_simulated_hybrid_agent_finds_its_parameters():
    # 2 seeds x 200 episodes (20,000 trials each): standard errors about 0.01 (alpha, w),
    # 0.05 (lambda, kappa), 0.1 (beta); each estimate within its tolerance and 4 of them
    true = {"alpha": 0.4, "lam": 0.7, "beta": 6.0, "perseveration": 0.3, "w": 0.6}
    table = simulate("hybrid", WANG, episodes=200, seeds=2, **true)
    fits = fit_table(table, common_prob=WANG.common_prob)
    tolerance = {"alpha": 0.05, "lam": 0.2, "beta": 0.5, "perseveration": 0.2, "w": 0.05}
    for name, value in true.items():
        error = (fits[name] - value).abs()
        assert (error < tolerance[name]).all(), (name, fits[name].tolist())
        assert (error < 4 * fits[f"{name}_se"]).all(), (name, fits[f"{name}_se"].tolist())
    assert list(fits["seed"]) == [0, 1]
    assert (fits["n_trials"] == 20_000).all()
    bic = -2 * fits["log_likelihood"] + 5 * np.log(20_000)
    np.testing.assert_allclose(fits["bic"], bic)


def test_the_named_models_fix_w_and_pure_model_free_behaviour_prefers_mf():
    table = simulate("model-free", WANG, episodes=100, seeds=1)
    compared = compare_models(table, common_prob=WANG.common_prob).set_index("model")
    assert compared.loc["mf", "w"] == 0.0 and compared.loc["mb", "w"] == 1.0
    assert math.isnan(compared.loc["mb", "lam"])
    assert list(compared["n_parameters"]) == [4, 3, 5]
    assert compared.loc["mf", "bic"] < compared.loc["mb", "bic"]
    assert compared.loc["mf", "held_out_log_likelihood"] > compared.loc["mb",
                                                                        "held_out_log_likelihood"]
    # the hybrid nests mf: its likelihood is at least as high (to optimiser tolerance)
    assert compared.loc["hybrid", "log_likelihood"] >= compared.loc["mf", "log_likelihood"] - 1e-3


def test_a_parameter_at_its_bound_has_no_standard_error():
    table = simulate("model-based", WANG, episodes=100, seeds=2)
    fits = fit_table(table, "hybrid", common_prob=WANG.common_prob)
    at_one = fits["w"] >= 1 - 1e-6
    assert fits.loc[at_one, "w_se"].isna().all()
    assert fits.loc[~at_one, "w_se"].notna().all()


def test_standard_errors_match_a_finite_difference_hessian():
    table = simulate("hybrid", WANG, episodes=30, seeds=1, w=0.5, lam=0.5)
    data = subject_episodes(table)
    fitted = fit(data, common_prob=0.8)
    prepared = prepare(data, 0.8)
    theta = fitted.params[0].clone()
    step = 1e-4
    hessian = torch.zeros(5, 5, dtype=torch.float64)

    def nll(x):
        return negative_log_likelihood(x.view(1, 5), prepared).item()

    for i in range(5):
        for j in range(5):
            ei, ej = torch.zeros(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
            ei[i], ej[j] = step, step
            hessian[i, j] = (nll(theta + ei + ej) - nll(theta + ei - ej) - nll(theta - ei + ej)
                             + nll(theta - ei - ej)) / (4 * step * step)
    expected = torch.linalg.inv(hessian).diagonal().sqrt()
    torch.testing.assert_close(fitted.standard_errors[0], expected, rtol=1e-3, atol=0)


def test_problems_solved_together_take_the_iterates_they_take_alone():
    centres = np.array([[1.0, -2.0], [0.3, 0.5], [-1.0, 4.0]])
    scales = np.array([[1.0, 10.0], [3.0, 1.0], [1.0, 100.0]])

    def rosenbrock(x, c, s):
        value = (s[0] * (x[0] - c[0]) ** 2 + s[1] * (x[1] - x[0] ** 2 - c[1] + c[0] ** 2) ** 2)
        grad = np.array([2 * s[0] * (x[0] - c[0])
                         - 4 * s[1] * x[0] * (x[1] - x[0] ** 2 - c[1] + c[0] ** 2),
                         2 * s[1] * (x[1] - x[0] ** 2 - c[1] + c[0] ** 2)])
        return value, grad

    def together(x, which):
        pairs = [rosenbrock(xi, centres[k], scales[k]) for xi, k in zip(x, which, strict=True)]
        return np.array([p[0] for p in pairs]), np.stack([p[1] for p in pairs])

    x0 = np.zeros((3, 2))
    bounds = [(-5, 5), (None, 3)]
    results = minimize_together(together, x0, bounds)
    for k in range(3):
        alone = scipy.optimize.minimize(rosenbrock, x0[k], args=(centres[k], scales[k]),
                                        jac=True, method="L-BFGS-B", bounds=bounds)
        assert np.array_equal(results[k].x, alone.x)
        assert results[k].nit == alone.nit


def test_a_failing_objective_is_raised_once_every_problem_has_stopped():
    def broken(x, which):
        raise ValueError("no likelihood here")

    with pytest.raises(ValueError, match="no likelihood here"):
        minimize_together(broken, np.zeros((4, 2)), [(None, None)] * 2)


def test_fits_refuse_tables_they_cannot_read():
    table = simulate("random", WANG, episodes=2)
    with pytest.raises(TwostepError, match="needs the episodic task's 'cued' column"):
        fit_table(table, trials="uncued")
    with pytest.raises(TwostepError, match="unknown model 'td'"):
        fit_table(table, model="td")
    flipped = table.assign(common=1 - table["common"])
    with pytest.raises(TwostepError, match="state == choice"):
        fit_table(flipped)


def test_uneven_subjects_are_padded_not_scored():
    table = simulate("hybrid", WANG, episodes=3, seeds=2)
    shorter = table[~((table["seed"] == 1) & (table["episode"] == 2))]
    data = subject_episodes(shorter)
    assert data.scored.sum((1, 2)).tolist() == [300.0, 200.0]
    fits = fit_table(shorter, starts=2, common_prob=0.8)
    assert fits["n_trials"].tolist() == [300, 200]


def test_recovery_summary_reports_correlation_and_bias():
    fits = pd.DataFrame({"true_w": [0.0, 0.5, 1.0], "w": [0.1, 0.6, 1.1],
                         "w_se": [0.2, 0.05, math.nan]})
    summary = recovery_summary(fits, ["w"]).iloc[0]
    assert summary["r"] == pytest.approx(1.0)
    assert summary["bias"] == pytest.approx(0.1)
    assert summary["within_1_se"] == 0.5  # of the two fits with a standard error


def test_choice_likelihoods_multiply_to_the_fits_likelihood():
    table = simulate("hybrid", WANG, episodes=4, seeds=2)
    table["cued"] = (table["trial"] >= 50).astype(int)  # as on the episodic task
    fits = fit_table(table, trials="uncued", starts=2)
    per_trial = choice_likelihoods(table, fits, trials="uncued")
    assert (per_trial["cued"] == 0).all() and len(per_trial) == 2 * 4 * 50
    summed = np.log(per_trial["likelihood"]).groupby(per_trial["seed"]).sum()
    np.testing.assert_allclose(summed.to_numpy(), fits["log_likelihood"].to_numpy(), rtol=1e-9)

