"""``auto`` chooses the faster device by measurement, once, and keeps the choice."""

import json

import pytest
import torch

from twostep.core.config import load_experiment
from twostep.runs import placement
from twostep.runs.placement import CHOICES_FILE, choose_device


def test_without_cuda_auto_is_the_cpu_and_nothing_is_measured(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(placement, "ms_per_update", lambda *a, **k: pytest.fail("measured"))
    choice = choose_device(load_experiment("wang2018"), "auto", tmp_path)
    assert choice.device == torch.device("cpu") and choice.reason == "no CUDA device here"
    assert not (tmp_path / CHOICES_FILE).exists()


def test_a_named_device_is_taken_as_asked(tmp_path):
    assert choose_device(load_experiment("wang2018"), "cpu", tmp_path).device.type == "cpu"


@pytest.mark.parametrize("cpu_ms, gpu_ms, expected", [(30.0, 45.0, "cpu"), (300.0, 45.0, "cuda")])
def test_with_a_gpu_auto_takes_the_faster_once_and_reads_it_back(tmp_path, monkeypatch,
                                                                 cpu_ms, gpu_ms, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU")
    timed = []

    def fake_ms(config, device, seconds, most):
        timed.append(device.type)
        return cpu_ms if device.type == "cpu" else gpu_ms

    monkeypatch.setattr(placement, "ms_per_update", fake_ms)
    config = load_experiment("wang2018")
    first = choose_device(config, "auto", tmp_path)
    assert first.device.type == expected and timed == ["cpu", "cuda"]
    assert f"{gpu_ms} ms on Test GPU and {cpu_ms} ms on the CPU" in first.reason
    again = choose_device(config, "auto", tmp_path)  # read back, not measured again
    assert again == first and timed == ["cpu", "cuda"]
    bigger = config.with_changes(train={"batch_size": 128})  # another workload: measured
    choose_device(bigger, "auto", tmp_path)
    assert timed == ["cpu", "cuda"] * 2
    assert len(json.loads((tmp_path / CHOICES_FILE).read_text())) == 2


def test_a_damaged_choices_file_is_measured_afresh(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Test GPU")
    monkeypatch.setattr(placement, "ms_per_update",
                        lambda config, device, *a, **k: 1.0 if device.type == "cuda" else 2.0)
    (tmp_path / CHOICES_FILE).write_text('{"x": {"device": "tpu"}}')
    assert choose_device(load_experiment("wang2018"), "auto", tmp_path).device.type == "cuda"
