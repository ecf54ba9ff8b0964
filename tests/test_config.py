import re

import pytest

from twostep.core.config import bundled_experiments, load_experiment, parse_experiment
from twostep.errors import TwostepError


def test_bundled_wang2018_has_the_papers_task_probabilities():
    config = load_experiment("wang2018")
    assert (config.task.common_prob, config.task.reward_prob_good, config.task.reward_prob_bad,
            config.task.reversal_prob) == (0.8, 0.9, 0.1, 0.025)
    assert config.model.hidden_size == 48
    assert config.train.seeds == 8


def test_every_bundled_experiment_loads():
    names = bundled_experiments()
    assert "wang2018" in names
    for name in names:
        assert load_experiment(name).name == name


def test_updates_are_the_episode_budget_divided_into_batches():
    config = load_experiment("wang2018").with_changes(train={"episodes": 100, "batch_size": 32})
    assert config.train.updates == 4


@pytest.mark.parametrize("text, fragment", [
    ("name: x\ntask: {common_prob: 1.5}\n", "task.common_prob"),
    ("name: x\ntask: {reward_prob_bad: -0.1}\n", "task.reward_prob_bad"),
    ("name: x\ntrain: {seeds: 0}\n", "train.seeds"),
    ("name: x\nmodel: {hidden_size: -3}\n", "model.hidden_size"),
    ("name: x\ntrain: {batchsize: 3}\n", "unknown key"),
    ("name: x\ntask: [1, 2\n", "malformed YAML"),
    ("- just\n- a list\n", "mapping"),
    ("name: x\nmodel: {retrieval: 1nn}\n", "retrieval needs"),
])
def test_bad_config_files_raise_one_line_errors(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(TwostepError) as info:
        load_experiment(path)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_unknown_experiment_name_lists_the_bundled_ones():
    with pytest.raises(TwostepError, match="wang2018"):
        load_experiment("no-such-experiment")


def test_overrides_are_validated():
    with pytest.raises(TwostepError, match="train.episodes"):
        load_experiment("wang2018").with_changes(train={"episodes": -5})


def test_config_round_trips_through_yaml(tmp_path):
    config = load_experiment("wang2018")
    path = tmp_path / "copy.yaml"
    path.write_text(config.to_yaml())
    assert load_experiment(path) == config


def test_parse_rejects_a_missing_name():
    with pytest.raises(TwostepError, match="name"):
        parse_experiment({"task": {}})


def test_with_changes_replaces_fields_and_validates():
    config = load_experiment("ritter2018-episodic")
    changed = config.with_changes(name="one-nn", model={"retrieval": "1nn"}, train={"seeds": 2})
    assert (changed.name, changed.model.retrieval, changed.train.seeds) == ("one-nn", "1nn", 2)
    assert changed.task == config.task
    with pytest.raises(TwostepError, match="model.knn_k"):
        config.with_changes(model={"knn_k": 0})


def test_options_left_at_their_defaults_keep_a_runs_cache_key(tmp_path):
    from twostep.runs.store import run_dir_for

    config = load_experiment("ritter2018-episodic-fitted")
    same = config.with_changes(model={"detach_stored_values": False},
                               task={"cue_sampling": "once"}, train={"snapshot_every": None})
    assert run_dir_for(same, tmp_path) == run_dir_for(config, tmp_path)
    for changes in ({"model": {"detach_stored_values": True}},
                    {"task": {"cue_sampling": "replacement"}}, {"train": {"snapshot_every": 5}}):
        assert run_dir_for(config.with_changes(**changes), tmp_path) != run_dir_for(config,
                                                                                  tmp_path)


# ---------------------------------------------------------------- --set section.field=value
def test_settings_change_fields_read_as_in_a_config_file():
    from twostep.core.config import with_settings

    config = load_experiment("ritter2018-episodic")
    changed = with_settings(config, ["train.seeds=2", "train.lr=1e-3", "model.retrieval=off",
                                     "train.snapshot_every=null", "task.cue_sampling=replacement",
                                     "train.seeds=3"])
    assert changed.train.seeds == 3  # the last of two wins
    assert changed.train.lr == 0.001 and isinstance(changed.train.lr, float)
    assert changed.model.retrieval == "off"  # YAML's bare off, as in a file
    assert changed.train.snapshot_every is None
    assert changed.task.cue_sampling == "replacement"
    assert with_settings(config, []) is config


@pytest.mark.parametrize(("setting", "fragment"), [
    ("trian.seeds=2", "unknown section 'trian'"),
    ("train.sedes=2", "unknown field 'train.sedes'"),
    ("seeds=2", "expected section.field=value"),
    ("train.seeds", "expected section.field=value"),
    ("train.seeds=0", "train.seeds: Input should be greater than 0"),
    ("train.seeds=2.5", "train.seeds: Input should be a valid integer"),
    ("train.seeds=true", "train.seeds: Input should be a valid integer"),  # strict, as in a file
    ("task.common_prob=1.5", "task.common_prob"),
    ("train.seeds=[1, 2]", "expected one value"),
    ("train.lr={a: 1}", "expected one value"),
])
def test_a_bad_setting_is_one_line_naming_the_field(setting, fragment):
    from twostep.core.config import with_settings

    with pytest.raises(TwostepError, match=re.escape(fragment)) as error:
        with_settings(load_experiment("wang2018"), [setting])
    assert "\n" not in str(error.value)
