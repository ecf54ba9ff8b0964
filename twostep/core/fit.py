r"""Maximum-likelihood fits of the hybrid model (:mod:`twostep.core.hybrid`) to trial tables.

Any trial table can be fitted: every seed (or subject) of it at once, each with its own
parameters. The likelihood of a subject's choices is the product over its scored
trials of :math:`P(c_t)` under the model, its values replayed from each episode's start
(values reset every episode, as the agents' do).

**Named models.** ``"mf"``: pure model-free, :math:`w = 0` (:math:`\alpha, \lambda,
\beta, \kappa` free); ``"mb"``: pure model-based, :math:`w = 1` (:math:`\alpha, \beta,
\kappa`; :math:`\lambda` plays no part); ``"hybrid"``: all five.

**How the optimum is found.** Each (start, subject) pair is its own box-constrained
problem, :math:`\alpha, \lambda, w \in [0, 1]`, :math:`\beta \ge 0`, solved by
L-BFGS-B (:func:`scipy.optimize.minimize`) in the natural parameters, with gradients
from autograd. Bounds rather than a transform (:math:`w = \sigma(u)`) because the agents
that matter sit *on* the bounds (:math:`w = 0` or 1, :math:`\lambda = 1`), where a
transform sends :math:`u` to infinity and L-BFGS crawls. The problems run side by side,
one thread each, and whenever all are waiting their likelihoods are computed together
as one batch of episodes (:func:`minimize_together`): every problem keeps its own line
search and stopping rule, while the work is batched. Several random starts
(:func:`random_starts`) are screened on the first ``screen_episodes`` episodes; the best
per subject is then fitted on all of them.

**Standard errors** are the square roots of the diagonal of the inverse Hessian of the
negative log-likelihood in the natural parameters at the optimum (the observed
information; Hessian by autograd), over the parameters that are not at a bound. A
parameter at a bound has no standard error (NaN), nor has one the data do not
determine (a Hessian that is not positive definite, e.g. :math:`\lambda` when
:math:`w = 1`).

**Summaries.** Log-likelihood :math:`\ell`, :math:`\mathrm{BIC} = -2\ell + k \ln n` for
:math:`k` free parameters and :math:`n` scored choices, the per-trial likelihood
:math:`e^{\ell / n}` (the geometric mean probability of the observed choices), and the
held-out log-likelihood of whole episodes (:func:`held_out_log_likelihood`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.optimize
import torch

from twostep.core.hybrid import PARAMETERS, RecordedTrials, choice_log_likelihood, record
from twostep.errors import TwostepError

MODELS: dict[str, dict] = {
    "mf": {"free": ("alpha", "lam", "beta", "perseveration"), "fixed": {"w": 0.0}},
    "mb": {"free": ("alpha", "beta", "perseveration"), "fixed": {"w": 1.0, "lam": 1.0}},
    "hybrid": {"free": PARAMETERS, "fixed": {}},
}
"""The named models: free parameters, and the values of the fixed ones."""

BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "alpha": (0.0, 1.0), "lam": (0.0, 1.0), "beta": (0.0, None),
    "perseveration": (None, None), "w": (0.0, 1.0)}
"""Each parameter's range (None: unbounded)."""

SCREEN_OPTIONS = {"maxiter": 50, "ftol": 1e-9}
"""The screening of starts only picks a basin: a few dozen iterations, a loose tolerance."""

TRIAL_SELECTIONS = ("all", "uncued", "cued")
"""Which trials' choices are scored (values are updated on every trial)."""


@dataclass
class SubjectEpisodes:
    """A trial table as tensors ``[N, E, T]``: N subjects (seeds), E episodes, T trials.

    Subjects with fewer episodes than others are padded with unscored episodes.
    ``scored`` (float 0/1) marks the trials whose choices count in the likelihood.
    """

    subjects: list
    choice: torch.Tensor
    state: torch.Tensor
    reward: torch.Tensor
    scored: torch.Tensor

    def select(self, episodes) -> SubjectEpisodes:
        """These episodes (a slice or an index tensor) of every subject."""
        return SubjectEpisodes(self.subjects, *(x[:, episodes] for x in (
            self.choice, self.state, self.reward, self.scored)))

    def repeat(self, times: int) -> SubjectEpisodes:
        """Every subject ``times`` times over (subject ``i`` of copy ``r`` at ``r N + i``)."""
        return SubjectEpisodes(self.subjects * times, *(x.repeat(times, 1, 1) for x in (
            self.choice, self.state, self.reward, self.scored)))


def subject_episodes(table: pd.DataFrame, subject: str = "seed", trials: str = "all"
                     ) -> SubjectEpisodes:
    """The tensors of a trial table; ``trials`` picks the scored choices
    (:data:`TRIAL_SELECTIONS`; ``"uncued"`` and ``"cued"`` need a ``cued`` column)."""
    if trials not in TRIAL_SELECTIONS:
        raise TwostepError(f"trials must be one of {', '.join(TRIAL_SELECTIONS)}, not {trials!r}")
    if trials != "all" and "cued" not in table:
        raise TwostepError(f"trials={trials!r} needs the episodic task's 'cued' column")
    if table.empty:
        raise TwostepError("no trials to fit")
    table = table.sort_values([subject, "episode", "trial"], kind="stable")
    subjects = list(pd.unique(table[subject]))
    episodes = table[[subject, "episode"]].drop_duplicates()
    row = episodes[subject].map({s: i for i, s in enumerate(subjects)}).to_numpy()
    column = episodes.groupby(subject, sort=False).cumcount().to_numpy()
    lookup = pd.DataFrame({subject: episodes[subject].to_numpy(),
                           "episode": episodes["episode"].to_numpy(), "_row": row,
                           "_column": column})
    merged = table.merge(lookup, on=[subject, "episode"])
    shape = (len(subjects), int(column.max()) + 1, int(table["trial"].max()) + 1)
    where = (merged["_row"].to_numpy(), merged["_column"].to_numpy(), merged["trial"].to_numpy())

    def grid(values: np.ndarray) -> torch.Tensor:
        out = np.zeros(shape, dtype=np.int64)
        out[where] = values
        return torch.from_numpy(out)

    scored = np.ones(len(merged), dtype=np.int64)
    if trials != "all":
        scored = (merged["cued"].to_numpy() == (trials == "cued")).astype(np.int64)
    if not scored.any():
        raise TwostepError(f"no {trials} trials to fit")
    # trials after the last scored one change no likelihood: leave them out
    last = int(merged["trial"].to_numpy()[scored > 0].max()) + 1
    return SubjectEpisodes(subjects, *(grid(values)[..., :last] for values in (
        merged["choice"].to_numpy(), merged["state"].to_numpy(), merged["reward"].to_numpy())),
        grid(scored)[..., :last].double())


@dataclass
class Prepared:
    """What the likelihood reads: the recorded trials and the scored mask ``[T, N, E]``."""

    trials: RecordedTrials
    scored: torch.Tensor

    def subjects(self, index: torch.Tensor) -> Prepared:
        return Prepared(self.trials.subjects(index), self.scored[:, index])


def prepare(data: SubjectEpisodes, common_prob=0.8, learn_transitions: bool = False
            ) -> Prepared:
    """``data`` as the likelihood reads it; ``common_prob`` a number or one per subject."""
    return Prepared(record(data.choice, data.state, data.reward, common_prob, learn_transitions),
                    data.scored.permute(2, 0, 1).contiguous())


def negative_log_likelihood(params: torch.Tensor, prepared: Prepared) -> torch.Tensor:
    """Minus each subject's log-likelihood of its scored choices, ``[N]``, for parameters
    ``[N, 5]`` (:data:`~twostep.core.hybrid.PARAMETERS` order)."""
    return -(choice_log_likelihood(params, prepared.trials) * prepared.scored).sum((0, 2))


def full_parameters(free: torch.Tensor, model: str) -> torch.Tensor:
    """``[K, 5]`` parameters from a model's free ones ``[K, k]`` and its fixed values."""
    spec = MODELS[model]
    columns, k = [], 0
    for name in PARAMETERS:
        if name in spec["free"]:
            columns.append(free[:, k])
            k += 1
        else:
            columns.append(free.new_full(free.shape[:1], spec["fixed"][name]))
    return torch.stack(columns, -1)


def random_starts(starts: int, subjects: int, generator: torch.Generator) -> torch.Tensor:
    """``[R, N, 5]`` starting points: the first is the middle of the ranges (0.5, 0.5, 5,
    0, 0.5); the others draw alpha, lambda and w uniformly in [0.1, 0.9], beta
    log-uniformly in [1, 20] and kappa uniformly in [-1, 1]."""
    u = torch.rand(starts, subjects, 5, generator=generator, dtype=torch.float64)
    theta = torch.stack([0.1 + 0.8 * u[..., 0], 0.1 + 0.8 * u[..., 1],
                         torch.exp(u[..., 2] * math.log(20)), 2 * u[..., 3] - 1,
                         0.1 + 0.8 * u[..., 4]], -1)
    theta[0] = torch.tensor([0.5, 0.5, 5.0, 0.0, 0.5], dtype=torch.float64)
    return theta


class _Stopped(Exception):
    """Ends one problem's minimisation after the batched objective has failed."""


Objective = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def minimize_together(objective: Objective, x0: np.ndarray, bounds: Sequence,
                      options: dict | None = None) -> list[scipy.optimize.OptimizeResult]:
    """Solve ``K = len(x0)`` independent L-BFGS-B problems, their objectives evaluated
    together.

    Each problem runs :func:`scipy.optimize.minimize` in a thread of its own; when every
    unfinished problem is waiting for a value, ``objective(x [k, d], which [k])`` returns
    the values ``[k]`` and gradients ``[k, d]`` of the ``k`` problems ``which`` at their
    points ``x``. A problem's iterates are those it would take alone.
    """
    condition = threading.Condition()
    pending: dict[int, np.ndarray] = {}
    answers: dict[int, tuple[float, np.ndarray] | None] = {}
    running = set(range(len(x0)))
    results: list = [None] * len(x0)
    failure: list[BaseException] = []

    def solve(k: int) -> None:
        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            with condition:
                pending[k] = np.array(x, dtype=np.float64)
                condition.notify_all()
                condition.wait_for(lambda: k in answers)
                answer = answers.pop(k)
            if answer is None:
                raise _Stopped
            return answer

        try:
            results[k] = scipy.optimize.minimize(fun, x0[k], jac=True, method="L-BFGS-B",
                                                 bounds=bounds, options=options)
        except _Stopped:
            pass
        except BaseException as err:  # noqa: BLE001 (raised in the caller's thread)
            failure.append(err)
        finally:
            with condition:
                running.discard(k)
                condition.notify_all()

    threads = [threading.Thread(target=solve, args=(k,), daemon=True) for k in range(len(x0))]
    for thread in threads:
        thread.start()
    with condition:
        while running:
            condition.wait_for(lambda: all(k in pending for k in running))
            which = sorted(pending)
            if not which:
                continue
            answer = None
            if not failure:
                try:
                    values, gradients = objective(np.stack([pending[k] for k in which]),
                                                  np.array(which))
                    answer = list(zip(values.tolist(), gradients, strict=True))
                except BaseException as err:  # noqa: BLE001 (raised once every thread ends)
                    failure.append(err)
            for i, k in enumerate(which):
                answers[k] = None if answer is None else answer[i]
            pending.clear()
            condition.notify_all()
    for thread in threads:
        thread.join()
    if failure:
        raise failure[0]
    return results


def _minimize(prepared: Prepared, model: str, x0: np.ndarray, options: dict
              ) -> tuple[np.ndarray, np.ndarray, int]:
    """Minimise each subject's NLL from its row of ``x0`` ``[N, k]`` (free parameters);
    returns the optima ``[N, k]``, their NLLs ``[N]`` and the number of batched
    evaluations."""
    bounds = [BOUNDS[name] for name in MODELS[model]["free"]]
    batch: dict[tuple, Prepared] = {}
    evaluations = 0

    def objective(x: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nonlocal evaluations
        key = tuple(which)
        if key not in batch:  # the batch shrinks as problems finish
            batch.clear()
            batch[key] = prepared.subjects(torch.from_numpy(which))
        free = torch.from_numpy(x).requires_grad_(True)
        nll = negative_log_likelihood(full_parameters(free, model), batch[key])
        (gradient,) = torch.autograd.grad(nll.sum(), free)
        evaluations += 1
        return nll.detach().numpy(), gradient.numpy()

    results = minimize_together(objective, x0, bounds, options)
    return (np.stack([r.x for r in results]), np.array([r.fun for r in results]),
            evaluations)


def hessian(params: torch.Tensor, prepared: Prepared, index: Sequence[int]) -> torch.Tensor:
    """Each subject's Hessian of its NLL in the parameters ``index``, ``[N, k, k]``
    (subjects share no parameter, so one backward pass per parameter gives every block)."""
    params = params.detach().clone().requires_grad_(True)
    nll = negative_log_likelihood(params, prepared).sum()
    (gradient,) = torch.autograd.grad(nll, params, create_graph=True)
    rows = [torch.autograd.grad(gradient[:, i].sum(), params, retain_graph=True)[0][:, index]
            for i in index]
    return torch.stack(rows, dim=1).detach()


def at_bound(name: str, value: float, tolerance: float = 1e-6) -> bool:
    """Whether ``value`` lies on one of parameter ``name``'s bounds."""
    low, high = BOUNDS[name]
    return (low is not None and value <= low + tolerance) or (
        high is not None and value >= high - tolerance)


def standard_errors(params: torch.Tensor, prepared: Prepared, model: str) -> torch.Tensor:
    """``[N, 5]`` standard errors (module doc); NaN where there is none."""
    free = [PARAMETERS.index(name) for name in MODELS[model]["free"]]
    blocks = hessian(params, prepared, free)
    se = torch.full_like(params, math.nan)
    for n in range(params.shape[0]):
        inside = [j for j, i in enumerate(free) if not at_bound(PARAMETERS[i], float(params[n, i]))]
        if not inside:
            continue
        block = blocks[n][inside][:, inside]
        cholesky, info = torch.linalg.cholesky_ex(block)
        if info != 0:
            continue
        covariance = torch.cholesky_inverse(cholesky)
        se[n, [free[j] for j in inside]] = torch.diagonal(covariance).sqrt()
    return se


@dataclass
class Fit:
    """A model fitted to every subject: tensors with one row per subject."""

    model: str
    subjects: list
    params: torch.Tensor  # [N, 5], PARAMETERS order; fixed ones at their values
    standard_errors: torch.Tensor  # [N, 5]
    log_likelihood: torch.Tensor  # [N]
    n_trials: torch.Tensor  # [N], scored choices
    common_prob: torch.Tensor  # [N], the planner's P(common)
    evaluations: int  # batched likelihood evaluations, starts and final fit together

    @property
    def n_parameters(self) -> int:
        return len(MODELS[self.model]["free"])

    @property
    def bic(self) -> torch.Tensor:
        return -2 * self.log_likelihood + self.n_parameters * torch.log(self.n_trials)

    def table(self, subject: str = "seed") -> pd.DataFrame:
        """One row per subject: each parameter and its standard error (``<name>_se``),
        ``log_likelihood``, ``n_trials``, ``n_parameters``, ``bic``,
        ``per_trial_likelihood`` and ``common_prob``. The model-based model has no
        lambda (NaN)."""
        frame = pd.DataFrame({subject: self.subjects, "model": self.model})
        for i, name in enumerate(PARAMETERS):
            frame[name] = self.params[:, i].numpy()
            frame[f"{name}_se"] = self.standard_errors[:, i].numpy()
        if self.model == "mb":
            frame["lam"] = math.nan
        n = self.n_trials.numpy()
        frame["log_likelihood"] = self.log_likelihood.numpy()
        frame["n_trials"] = n.astype(np.int64)
        frame["n_parameters"] = self.n_parameters
        frame["bic"] = self.bic.numpy()
        frame["per_trial_likelihood"] = np.exp(frame["log_likelihood"] / n)
        frame["common_prob"] = self.common_prob.numpy()
        return frame


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise TwostepError(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")


def fit(data: SubjectEpisodes, model: str = "hybrid", common_prob=0.8,
        learn_transitions: bool = False, starts: int = 8, seed: int = 0,
        screen_episodes: int = 20, start: torch.Tensor | None = None,
        with_standard_errors: bool = True, options: dict | None = None) -> Fit:
    """Fit ``model`` to every subject of ``data`` (module doc).

    Args:
        common_prob: the planner's P(common transition): a number or one per subject.
        starts: random starts per subject (:func:`random_starts`), screened on the first
            ``screen_episodes`` episodes.
        seed: seeds the starts' generator.
        start: ``[N, 5]`` parameters to start from instead of screening random starts.
        options: for :func:`scipy.optimize.minimize` (L-BFGS-B).
    """
    _check_model(model)
    if starts < 1:
        raise TwostepError(f"starts must be positive, not {starts}")
    options = {"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-6, "maxcor": 20, **(options or {})}
    free = [PARAMETERS.index(name) for name in MODELS[model]["free"]]
    N = len(data.subjects)
    common = torch.as_tensor(common_prob, dtype=torch.float64).expand(N).clone()
    evaluations = 0
    if start is None:
        theta = random_starts(starts, N, torch.Generator().manual_seed(seed))[..., free]
        screen = prepare(data.select(slice(0, screen_episodes)).repeat(starts),
                         common.repeat(starts), learn_transitions)
        x, nll, evaluations = _minimize(screen, model, theta.reshape(starts * N, -1).numpy(),
                                        {**options, **SCREEN_OPTIONS})
        best = nll.reshape(starts, N).argmin(0)
        x0 = x.reshape(starts, N, -1)[best, np.arange(N)]
    else:
        low = [BOUNDS[PARAMETERS[i]][0] for i in free]
        high = [BOUNDS[PARAMETERS[i]][1] for i in free]
        x0 = np.clip(start[:, free].numpy(), [-np.inf if b is None else b for b in low],
                     [np.inf if b is None else b for b in high])
    prepared = prepare(data, common, learn_transitions)
    x, nll, more = _minimize(prepared, model, x0, options)
    params = full_parameters(torch.from_numpy(x), model)
    se = (standard_errors(params, prepared, model) if with_standard_errors
          else torch.full_like(params, math.nan))
    return Fit(model, data.subjects, params, se, -torch.from_numpy(nll),
               data.scored.sum((1, 2)), common, evaluations + more)


def observed_common_prob(table: pd.DataFrame) -> float:
    """The fraction of common transitions in a table: the planner's P(common) when the
    task's is not given."""
    return float(table["common"].mean())


def check_transition_coding(table: pd.DataFrame) -> None:
    """The model reads a transition as common when the state reached is the one the
    choice commonly leads to, state ``k`` for choice ``k``; refuse a table coded otherwise."""
    wrong = (table["common"] == 1) != (table["state"] == table["choice"])
    if wrong.any():
        raise TwostepError(f"{int(wrong.sum()):,} trial(s) have 'common' different from "
                           "state == choice; the model needs choice k to lead commonly to "
                           "state k")


def fit_table(table: pd.DataFrame, model: str = "hybrid", trials: str = "all",
              subject: str = "seed", common_prob: float | None = None, **options
              ) -> pd.DataFrame:
    """Fit ``model`` to every ``subject`` of a trial table: one row per subject
    (:meth:`Fit.table`). ``common_prob`` defaults to :func:`observed_common_prob`;
    ``options`` go to :func:`fit`."""
    _check_model(model)
    check_transition_coding(table)
    if common_prob is None:
        common_prob = observed_common_prob(table)
    data = subject_episodes(table, subject, trials)
    return fit(data, model, common_prob, **options).table(subject)


def fitted_w(table: pd.DataFrame) -> pd.Series:
    """The hybrid model's fitted model-based weight w of every seed of a trial table,
    indexed by seed (uncued trials on the episodic task, as ``fit`` does by default)."""
    trials = "uncued" if "cued" in table.columns and table["cued"].any() else "all"
    fits = fit_table(table, "hybrid", trials=trials)
    return fits.set_index("seed")["w"]


def held_out_log_likelihood(data: SubjectEpisodes, model: str = "hybrid", folds: int = 2,
                            common_prob=0.8, learn_transitions: bool = False,
                            start: torch.Tensor | None = None, **options) -> torch.Tensor:
    """Each subject's log-likelihood of held-out episodes, ``[N]``: episode ``j`` is in
    fold ``j mod folds``, and each fold is scored with the parameters fitted to the others
    (from ``start`` when given, else from random starts)."""
    E = data.choice.shape[1]
    if E < folds:
        raise TwostepError(f"{E} episode(s) cannot be split into {folds} folds")
    fold = torch.arange(E) % folds
    total = torch.zeros(len(data.subjects), dtype=torch.float64)
    for k in range(folds):
        rest = data.select(torch.nonzero(fold != k).squeeze(-1))
        held_out = data.select(torch.nonzero(fold == k).squeeze(-1))
        fitted = fit(rest, model, common_prob, learn_transitions, start=start,
                     with_standard_errors=False, **options)
        with torch.no_grad():
            total -= negative_log_likelihood(
                fitted.params, prepare(held_out, fitted.common_prob, learn_transitions))
    return total


def compare_models(table: pd.DataFrame, models: Sequence[str] = ("mf", "mb", "hybrid"),
                   trials: str = "all", subject: str = "seed", common_prob: float | None = None,
                   folds: int = 2, **options) -> pd.DataFrame:
    """Every model fitted to every subject (:func:`fit_table`'s rows, stacked), with
    ``held_out_log_likelihood`` and ``held_out_per_trial_likelihood`` from ``folds``-fold
    cross-validation by episode (each fold started from the fit to every episode)."""
    check_transition_coding(table)
    if common_prob is None:
        common_prob = observed_common_prob(table)
    data = subject_episodes(table, subject, trials)
    frames = []
    for model in models:
        _check_model(model)
        fitted = fit(data, model, common_prob, **options)
        held_out = held_out_log_likelihood(data, model, folds, common_prob, start=fitted.params,
                                           **options)
        frame = fitted.table(subject)
        frame["held_out_log_likelihood"] = held_out.numpy()
        frame["held_out_per_trial_likelihood"] = np.exp(held_out.numpy() / frame["n_trials"])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def choice_likelihoods(table: pd.DataFrame, fits: pd.DataFrame, trials: str = "all",
                       subject: str = "seed") -> pd.DataFrame:
    """The trial table (scored trials only) with ``likelihood``: :math:`P(c_t)` of each
    observed choice under its subject's fitted parameters (a row of ``fits``)."""
    data = subject_episodes(table, subject, trials)
    rows = fits.set_index(subject).loc[data.subjects]
    params = torch.tensor(rows[list(PARAMETERS)].fillna(1.0).to_numpy(), dtype=torch.float64)
    prepared = prepare(data, torch.tensor(rows["common_prob"].to_numpy()))
    with torch.no_grad():
        log_p = choice_log_likelihood(params, prepared.trials).permute(1, 2, 0)  # [N, E, T]
    ordered = table.sort_values([subject, "episode", "trial"], kind="stable")
    ordered = ordered[ordered["trial"] < data.choice.shape[2]]
    episode = ordered.groupby(subject, sort=False)["episode"].transform(
        lambda e: pd.factorize(e)[0])
    index = (ordered[subject].map({s: i for i, s in enumerate(data.subjects)}).to_numpy(),
             episode.to_numpy(), ordered["trial"].to_numpy())
    out = ordered.assign(likelihood=np.exp(log_p.numpy()[index]))
    scored = data.scored.numpy()[index] > 0
    return out[scored].reset_index(drop=True)


def recovery_summary(fits: pd.DataFrame, parameters: Sequence[str] = PARAMETERS
                     ) -> pd.DataFrame:
    """How well fits recover known parameters: for each ``name`` with a ``true_<name>``
    column, the correlation ``r`` of true and fitted values, the ``bias`` (mean of fitted
    minus true), the median absolute error and the fraction of fits within one and two
    standard errors (over fits that have one)."""
    rows = []
    for name in parameters:
        true, fitted = fits[f"true_{name}"], fits[name]
        error = fitted - true
        se = fits[f"{name}_se"]
        has_se = se.notna()
        rows.append({"parameter": name, "r": float(np.corrcoef(true, fitted)[0, 1]),
                     "bias": float(error.mean()),
                     "median_absolute_error": float(error.abs().median()),
                     "within_1_se": float((error.abs() <= se)[has_se].mean()),
                     "within_2_se": float((error.abs() <= 2 * se)[has_se].mean())})
    return pd.DataFrame(rows)
