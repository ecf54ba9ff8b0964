"""Shared fixtures: the tiny experiment (tests/helpers.py), which trains in a second or two."""

import os

# One BLAS thread: the statistics fits are small, and extra threads stall on shared cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402
from helpers import tiny, write_tiny_yaml  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def tiny_wang():
    """wang2018 on the tiny budget (:data:`helpers.TINY_TRAIN`)."""
    return tiny("wang2018")


@pytest.fixture
def tiny_yaml(tmp_path):
    """The same tiny experiment as a config file, ``tiny.yaml``, named ``tiny``, for the
    command line."""
    return write_tiny_yaml(tmp_path)
