"""Typed, validated experiment configuration, loaded once from YAML.

An experiment is three blocks, each a frozen pydantic model whose fields carry
their meaning in ``description``:

* ``task``: which two-step task and its probabilities;
* ``model``: the recurrent network (LSTM or reinstatement-gated epLSTM) and its memory;
* ``train``: A2C and its optimiser, the training budget, seeds and evaluation protocol.

Unknown keys, values out of range and malformed YAML raise :class:`TwostepError`
with one line naming the offending key. Bundled experiments live in
``twostep/configs/<name>.yaml``; see :func:`load_experiment`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from twostep.core.strict_yaml import parse_yaml
from twostep.errors import TwostepError
from twostep.files.read import read_text

MAX_CONFIG_BYTES = 1_000_000
"""A config is a few dozen lines; anything far larger is not one."""

RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A plain folder name: letters, digits, ``.``, ``_``, ``-``; no separators, not hidden."""


def check_run_name(name: str) -> str:
    """A run name must be usable as one folder name (``runs/<name>``), nothing more."""
    if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
        raise ValueError(f"must be a plain folder name (letters, digits, '.', '_', '-', "
                         f"starting with a letter or digit, at most 100), not {name!r}")
    return name


def _prob(default: float, description: str):
    return Field(default, ge=0.0, le=1.0, description=description)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TaskConfig(_Strict):
    """The two-step task (Daw 2011, as in Wang 2018) or its episodic variant (Ritter 2018)."""

    kind: Literal["two-step", "episodic-two-step"] = Field(
        "two-step", description="'two-step' (Wang 2018) or 'episodic-two-step' (Ritter 2018)."
    )
    trials: int = Field(100, gt=0, le=100_000, description="Trials per episode.")
    common_prob: float = _prob(0.8, "P(choice k leads to second-stage state k).")
    reward_prob_good: float = _prob(0.9, "P(reward) in the good second-stage state.")
    reward_prob_bad: float = _prob(0.1, "P(reward) in the other second-stage state.")
    reversal_prob: float = _prob(0.025, "P(good state swaps) at the start of each trial.")
    context_bits: int = Field(
        10, gt=0, le=20, description="Episodic task: length of the binary context vectors."
    )
    cue_sampling: Literal["once", "replacement"] = Field(
        "once",
        description="Episodic task: each uncued trial of a half cued exactly once ('once'), or "
        "cues drawn with replacement from that half's trials ('replacement', as the public "
        "reference implementation does: a trial may be cued twice or never).",
    )

    @model_validator(mode="after")
    def _episodic_fits(self) -> TaskConfig:
        if self.kind == "episodic-two-step":
            if self.trials % 4 != 0:
                raise ValueError("episodic-two-step needs trials divisible by 4 (two halves, "
                                 "each cued half split in two)")
            if 2**self.context_bits - 1 < self.trials // 2:
                raise ValueError(f"{self.context_bits} context bits give fewer than "
                                 f"{self.trials // 2} distinct non-zero contexts")
        return self

    @property
    def uncued_trials(self) -> int:
        """Episodic task: trials 0 .. uncued_trials-1 are uncued, the rest cued."""
        return self.trials // 2 if self.kind == "episodic-two-step" else self.trials


class ModelConfig(_Strict):
    """The recurrent actor-critic."""

    hidden_size: int = Field(48, gt=0, le=65_536, description="LSTM units.")
    cell: Literal["lstm", "eplstm"] = Field(
        "lstm", description="'lstm', or 'eplstm' with a reinstatement gate (Ritter 2018)."
    )
    retrieval: Literal["off", "1nn", "knn"] = Field(
        "off",
        description="epLSTM memory retrieval on cued trials: 'off' (incremental agent), "
        "'1nn' (nearest neighbour by cosine, the public reimplementations' choice) or 'knn' "
        "(a softmax over the cosine similarities of the k nearest).",
    )
    knn_k: int = Field(5, gt=0, le=100_000, description="Neighbours for 'knn' retrieval.")
    knn_temperature: float = Field(
        0.1, ge=1e-6, description="Softmax temperature over cosine similarities for 'knn' "
        "(at least 1e-6: smaller ones overflow the float32 softmax)."
    )
    cue_input: bool = Field(
        True, description="Episodic task: the cue's context bits are also an input."
    )
    detach_stored_values: bool = Field(
        False,
        description="Cut the gradient from values read out of memory back into the cell "
        "states that were stored (both public implementations cut it; by default it flows).",
    )

    @field_validator("retrieval", mode="before")
    @classmethod
    def _yaml_off_is_false(cls, value):
        # YAML 1.1 reads a bare `off` as the boolean false
        return "off" if value is False else value

    @model_validator(mode="after")
    def _retrieval_needs_gate(self) -> ModelConfig:
        if self.retrieval != "off" and self.cell != "eplstm":
            raise ValueError("retrieval needs cell: eplstm")
        return self


class TrainConfig(_Strict):
    """Synchronous batched A2C (Mnih 2016) over whole episodes."""

    seeds: int = Field(8, gt=0, le=100_000,
                       description="Independently initialised networks, trained together.")
    first_seed: int = Field(0, ge=0, le=2**62, description="Seeds are first_seed .. first_seed+seeds-1.")
    episodes: int = Field(20000, gt=0, le=10**18, description="Training episodes per seed.")
    batch_size: int = Field(64, gt=0, le=10**7, description="Episodes per seed per update.")
    lr: float = Field(1e-2, gt=0, description="RMSProp learning rate.")
    rmsprop_alpha: float = Field(0.99, gt=0, lt=1, description="RMSProp smoothing constant.")
    rmsprop_eps: float = Field(1e-5, gt=0, description="RMSProp epsilon.")
    warmup_updates: int = Field(0, ge=0, le=10**18, description="Linear learning-rate warm-up, in updates.")
    max_grad_norm: float | None = Field(
        1.0, gt=0, description="Clip each seed's gradient norm at this value (null: no clip)."
    )
    gamma: float = Field(0.9, ge=0, le=1, description="Discount per trial.")
    value_weight: float = Field(0.05, ge=0, description="Weight of the value loss.")
    entropy_weight: float = Field(0.05, ge=0, description="Weight of the entropy bonus.")
    checkpoint_every: int = Field(25, gt=0, le=10**18, description="Updates between checkpoints.")
    eval_episodes: int = Field(300, gt=0, le=10**9, description="Frozen-weight test episodes per seed.")
    snapshot_every: int | None = Field(
        None, gt=0, le=10**18, description="Keep a copy of the weights every this many updates "
        "(RUN_DIR/snapshots/), to evaluate along training (null: none)."
    )
    engine: Literal["auto", "compiled", "reference"] = Field(
        "auto", description="How an update is computed: 'compiled' (hand-written backward pass "
        "over the whole episode, fused kernels; CPU only), 'reference' (step-by-step autograd; "
        "any device) or 'auto' (compiled on the CPU, reference elsewhere). Both give the same "
        "losses and gradients within float rounding; a run's identity records the engine used."
    )

    @property
    def updates(self) -> int:
        """Optimiser steps: the episode budget divided into batches (rounded up)."""
        return math.ceil(self.episodes / self.batch_size)


class ExperimentConfig(_Strict):
    """One experiment: a task, a model and a training protocol."""

    name: str = Field(description="Short name, used for run folders: a plain folder name.")
    description: str = Field("", description="What the experiment reproduces, and how it deviates.")
    task: TaskConfig = TaskConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()

    @field_validator("name")
    @classmethod
    def _plain_folder_name(cls, value: str) -> str:
        return check_run_name(value)

    @model_validator(mode="after")
    def _model_fits_task(self) -> ExperimentConfig:
        if self.model.retrieval != "off" and self.task.kind != "episodic-two-step":
            raise ValueError("retrieval needs the episodic-two-step task")
        return self

    def with_changes(self, name: str | None = None, **sections: dict) -> ExperimentConfig:
        """A validated copy with fields of whole sections replaced.

        >>> config.with_changes(name="episodic-1nn", model={"retrieval": "1nn"},
        ...                     train={"seeds": 4})
        """
        data = self.model_dump()
        if name is not None:
            data["name"] = name
        for section, fields in sections.items():
            if section not in ("task", "model", "train"):
                raise TwostepError(f"unknown config section '{section}'")
            data[section].update(fields)
        return parse_experiment(data, source="changes")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(), sort_keys=False)


OPTIONAL_DEFAULTS: dict[tuple[str, str], object] = {
    ("task", "cue_sampling"): "once",
    ("model", "detach_stored_values"): False,
    ("train", "snapshot_every"): None,
}
"""Options added after runs were first cached: a config that leaves them at these
defaults trains exactly as before, so :func:`training_content` leaves them out and
its run keeps its cache key."""


def training_content(config: ExperimentConfig) -> dict:
    """What training depends on (task, model, train), for cache keys: the config less
    :data:`OPTIONAL_DEFAULTS` options left at their defaults, and less ``train.engine``,
    which a run's identity records as resolved for its device instead
    (:func:`twostep.runs.store.run_dir_for`)."""
    content = config.model_dump(include={"task", "model", "train"})
    for (section, key), default in OPTIONAL_DEFAULTS.items():
        if content[section].get(key) == default:
            del content[section][key]
    del content["train"]["engine"]
    return content


def _format_validation_error(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif not isinstance(first.get("input"), dict | list) and first["type"] != "value_error":
        message += f", got {first['input']!r}"[:80]
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{source}: {where}: {message}{more}"


def parse_experiment(data: object, source: str = "config", strict: bool = False
                     ) -> ExperimentConfig:
    """Validate a plain mapping (as read from YAML) into an :class:`ExperimentConfig`.

    ``strict``: no coercion (``true`` is not 1, ``"3"`` is not 3), as for files.
    """
    if not isinstance(data, dict):
        raise TwostepError(f"{source}: expected a mapping of keys to values at the top level")
    try:
        return ExperimentConfig.model_validate(data, strict=strict)
    except ValidationError as err:
        raise TwostepError(_format_validation_error(err, source)) from None


SECTIONS: dict[str, type[BaseModel]] = {"task": TaskConfig, "model": ModelConfig,
                                        "train": TrainConfig}
"""The config's sections, by name, as :func:`with_settings` addresses them."""


def parse_setting(text: str) -> tuple[str, str, object]:
    """``section.field=value`` as ``(section, field, value)``; the value is read as one YAML
    value by a config file's rules (``1e-3`` is a number, ``null`` is none).

    Raises :class:`TwostepError` with one line naming an unknown section or field.
    """
    key, equals, raw = text.partition("=")
    section, dot, field = key.strip().partition(".")
    if not equals or not dot or not section or not field:
        raise TwostepError(f"--set {text}: expected section.field=value, e.g. train.seeds=4")
    if section not in SECTIONS:
        raise TwostepError(f"--set {text}: unknown section '{section}' (task, model or train)")
    if field not in SECTIONS[section].model_fields:
        raise TwostepError(f"--set {text}: unknown field '{section}.{field}'")
    value = parse_yaml(raw, f"--set {key}")
    if isinstance(value, dict | list):
        raise TwostepError(f"--set {text}: expected one value, not a "
                           f"{'mapping' if isinstance(value, dict) else 'list'}")
    return section, field, value


def with_settings(config: ExperimentConfig, settings: Iterable[str]) -> ExperimentConfig:
    """``config`` with every ``section.field=value`` of ``settings`` applied (the last of two
    for one field wins), validated as strictly as a config file; the command line's
    ``--set``.

    >>> with_settings(config, ["train.seeds=2", "model.retrieval=knn", "train.lr=1e-3"])
    """
    settings = list(settings)
    if not settings:
        return config
    data = config.model_dump()
    for text in settings:
        section, field, value = parse_setting(text)
        data[section][field] = value
    return parse_experiment(data, source="--set", strict=True)


def bundled_experiments() -> list[str]:
    """Names of the experiments shipped with the package."""
    folder = resources.files("twostep") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_experiment(name_or_path: str | Path) -> ExperimentConfig:
    """Load a bundled experiment by name (``wang2018``) or a YAML file by path."""
    text: str
    source = str(name_or_path)
    if str(name_or_path) in bundled_experiments():
        text = (resources.files("twostep") / "configs" / f"{name_or_path}.yaml").read_text()
    else:
        path = Path(name_or_path)
        if not path.exists():
            names = ", ".join(bundled_experiments())
            raise TwostepError(f"unknown experiment '{name_or_path}': not a bundled name "
                               f"({names}) nor an existing YAML file")
        if path.is_dir():
            raise TwostepError(f"{path} is a folder, not a YAML file")
        text = read_text(path, MAX_CONFIG_BYTES, "config file")
    return parse_experiment(parse_yaml(text, source), source=source, strict=True)
