"""The batched differentiable neural dictionary: retrieval, isolation, gradients."""

from __future__ import annotations

import pytest
import torch

from twostep.core.memory import DND
from twostep.errors import TwostepError

BATCH = (2, 3)
KEY, VALUE = 6, 4


def random_keys(generator: torch.Generator) -> torch.Tensor:
    """Random non-zero binary keys ``[*BATCH, KEY]``, like the task's contexts."""
    keys = (torch.rand(*BATCH, KEY, generator=generator) < 0.5).float()
    keys[..., 0] = 1.0
    return keys


def filled_memory(entries: int = 8, **options) -> tuple[DND, torch.Tensor, torch.Tensor]:
    """A memory with ``entries`` distinct-key entries; returns it, keys and values
    ``[entries, *BATCH, width]``."""
    generator = torch.Generator().manual_seed(0)
    memory = DND(BATCH, capacity=16, key_size=KEY, value_size=VALUE, **options)
    # distinct keys: one-hot position i, plus noise elsewhere (cosine < 1 between entries)
    keys = torch.rand(entries, *BATCH, KEY, generator=generator) * 0.3
    keys[torch.arange(entries), ..., torch.arange(entries) % KEY] += 1.0
    if entries > KEY:
        keys[KEY:] += torch.rand(entries - KEY, *BATCH, KEY, generator=generator)
    values = torch.randn(entries, *BATCH, VALUE, generator=generator)
    for key, value in zip(keys, values, strict=True):
        memory.write(key, value)
    return memory, keys, values


@pytest.mark.parametrize("retrieval", ["1nn", "knn"])
def test_an_exact_key_retrieves_its_own_entry(retrieval):
    memory, keys, values = filled_memory(retrieval=retrieval, k=1)
    for entry in range(len(keys)):
        got = memory.read(keys[entry])
        assert torch.allclose(got.value, values[entry])
        assert torch.equal(got.index, torch.full(BATCH, entry))
        assert torch.allclose(got.similarity, torch.ones(BATCH))


def test_cosine_similarity_ignores_the_length_of_the_query():
    memory, keys, values = filled_memory()
    got = memory.read(5.0 * keys[3])
    assert torch.equal(got.index, torch.full(BATCH, 3))
    assert torch.allclose(got.similarity, torch.ones(BATCH))


def test_nearest_neighbour_is_the_highest_cosine_similarity():
    memory, keys, values = filled_memory()
    query = torch.randn(*BATCH, KEY, generator=torch.Generator().manual_seed(1))
    similarity = torch.nn.functional.cosine_similarity(query.unsqueeze(0), keys, dim=-1)
    best = similarity.argmax(dim=0)                                  # [*BATCH]
    got = memory.read(query)
    assert torch.equal(got.index, best)
    assert torch.allclose(got.similarity, similarity.max(dim=0).values, atol=1e-6)
    assert torch.allclose(got.value, values.gather(0, best[None, ..., None].expand(1, *BATCH,
                                                                                   VALUE))[0])


def test_an_episode_never_reads_another_episodes_entries():
    memory = DND(BATCH, capacity=4, key_size=KEY, value_size=1)
    episode_id = torch.arange(6, dtype=torch.float).reshape(*BATCH, 1)
    generator = torch.Generator().manual_seed(0)
    for _ in range(4):
        memory.write(random_keys(generator), episode_id)
    for query in (random_keys(generator), torch.ones(*BATCH, KEY)):
        # every episode holds only its own id, whichever entry is nearest
        assert torch.equal(memory.read(query).value, episode_id)
    # a key written in one episode is not found by the others
    memory.reset()
    keys = torch.eye(KEY)[1].repeat(*BATCH, 1)
    keys[0, 0] = torch.eye(KEY)[0]
    memory.write(keys, episode_id)
    got = memory.read(torch.eye(KEY)[0].expand(*BATCH, KEY))
    assert got.similarity[0, 0] == 1.0
    assert (got.similarity.flatten()[1:] == 0.0).all()


def test_reset_clears_every_memory():
    memory, keys, _ = filled_memory()
    assert len(memory) == len(keys)
    memory.reset()
    assert len(memory) == 0
    with pytest.raises(TwostepError, match="empty"):
        memory.read(keys[0])
    memory.write(keys[0], torch.zeros(*BATCH, VALUE))
    assert torch.equal(memory.read(keys[3]).index, torch.zeros(BATCH, dtype=torch.long))


def test_reading_an_empty_memory_raises():
    memory = DND(BATCH, capacity=4, key_size=KEY, value_size=VALUE)
    with pytest.raises(TwostepError, match="empty"):
        memory.read(torch.ones(*BATCH, KEY))


def test_writing_to_a_full_memory_raises():
    memory = DND(BATCH, capacity=2, key_size=KEY, value_size=VALUE)
    for _ in range(2):
        memory.write(torch.ones(*BATCH, KEY), torch.zeros(*BATCH, VALUE))
    with pytest.raises(TwostepError, match="full"):
        memory.write(torch.ones(*BATCH, KEY), torch.zeros(*BATCH, VALUE))


def test_tensors_of_the_wrong_shape_are_refused():
    memory = DND(BATCH, capacity=2, key_size=KEY, value_size=VALUE)
    with pytest.raises(TwostepError, match="keys of shape"):
        memory.write(torch.ones(6, KEY), torch.zeros(*BATCH, VALUE))
    with pytest.raises(TwostepError, match="values of shape"):
        memory.write(torch.ones(*BATCH, KEY), torch.zeros(*BATCH, VALUE + 1))
    memory.write(torch.ones(*BATCH, KEY), torch.zeros(*BATCH, VALUE))
    with pytest.raises(TwostepError, match="query of shape"):
        memory.read(torch.ones(*BATCH, KEY - 1))


def test_unknown_retrieval_is_refused():
    with pytest.raises(TwostepError, match="retrieval"):
        DND(BATCH, capacity=2, key_size=KEY, value_size=VALUE, retrieval="softmax")


def test_a_zero_query_has_similarity_zero_not_nan():
    memory, _, _ = filled_memory()
    got = memory.read(torch.zeros(*BATCH, KEY))
    assert torch.equal(got.similarity, torch.zeros(BATCH))
    assert torch.isfinite(got.value).all()


def test_knn_value_is_a_convex_combination_of_the_k_nearest_values():
    memory, keys, values = filled_memory(retrieval="knn", k=3, temperature=0.5)
    query = torch.randn(*BATCH, KEY, generator=torch.Generator().manual_seed(2))
    similarity = torch.nn.functional.cosine_similarity(query.unsqueeze(0), keys, dim=-1)
    top_similarity, top = similarity.topk(3, dim=0)                  # [3, *BATCH]
    weights = torch.softmax(top_similarity / 0.5, dim=0)
    neighbours = values.gather(0, top.unsqueeze(-1).expand(3, *BATCH, VALUE))
    got = memory.read(query)
    assert torch.allclose(got.value, (weights.unsqueeze(-1) * neighbours).sum(0), atol=1e-6)
    # inside the hull of the neighbours: between their smallest and largest values, per column
    assert (got.value >= neighbours.min(0).values - 1e-6).all()
    assert (got.value <= neighbours.max(0).values + 1e-6).all()
    assert torch.equal(got.index, top[0])


def test_knn_with_one_neighbour_equals_nearest_neighbour():
    query = torch.randn(*BATCH, KEY, generator=torch.Generator().manual_seed(3))
    nearest = filled_memory(retrieval="1nn")[0].read(query)
    one = filled_memory(retrieval="knn", k=1, temperature=0.01)[0].read(query)
    assert torch.equal(one.index, nearest.index)
    assert torch.allclose(one.value, nearest.value)


def test_knn_with_k_larger_than_the_memory_uses_every_entry():
    memory, _, values = filled_memory(entries=3, retrieval="knn", k=10, temperature=1e3)
    # a huge temperature makes the weights uniform: the mean of all three values
    got = memory.read(torch.ones(*BATCH, KEY))
    assert torch.allclose(got.value, values.mean(0), atol=1e-3)


@pytest.mark.parametrize("retrieval", ["1nn", "knn"])
def test_gradient_flows_from_a_read_back_to_the_written_values(retrieval):
    memory = DND(BATCH, capacity=4, key_size=KEY, value_size=VALUE, retrieval=retrieval, k=2)
    generator = torch.Generator().manual_seed(0)
    written = [torch.randn(*BATCH, VALUE, generator=generator, requires_grad=True)
               for _ in range(3)]
    keys = torch.eye(KEY)[:3, None, None, :].expand(3, *BATCH, KEY)
    for key, value in zip(keys, written, strict=True):
        memory.write(key, value * 2.0)                # a value with autograd history
    memory.read(keys[1]).value.sum().backward()
    grads = [w.grad if w.grad is not None else torch.zeros(*BATCH, VALUE) for w in written]
    if retrieval == "1nn":
        # only the nearest entry (1) gets a gradient: d(sum of 2 w_1)/d w_1 = 2
        assert torch.equal(grads[1], torch.full((*BATCH, VALUE), 2.0))
        assert not grads[0].any() and not grads[2].any()
    else:
        # the softmax weights of the two nearest sum to 1: total gradient 2 per column
        assert torch.allclose(sum(grads), torch.full((*BATCH, VALUE), 2.0))
        assert (grads[1] > grads[0]).all()


def test_reads_between_writes_see_the_new_entries_and_keep_gradients():
    memory = DND(BATCH, capacity=4, key_size=KEY, value_size=VALUE)
    first = torch.randn(*BATCH, VALUE, requires_grad=True)
    second = torch.randn(*BATCH, VALUE, requires_grad=True)
    memory.write(torch.eye(KEY)[0].expand(*BATCH, KEY), first * 1.0)
    early = memory.read(torch.eye(KEY)[1].expand(*BATCH, KEY))        # only entry 0 exists
    memory.write(torch.eye(KEY)[1].expand(*BATCH, KEY), second * 1.0)
    late = memory.read(torch.eye(KEY)[1].expand(*BATCH, KEY))
    assert torch.equal(early.index, torch.zeros(BATCH, dtype=torch.long))
    assert torch.equal(late.index, torch.ones(BATCH, dtype=torch.long))
    (early.value.sum() + late.value.sum()).backward()
    assert torch.equal(first.grad, torch.ones(*BATCH, VALUE))
    assert torch.equal(second.grad, torch.ones(*BATCH, VALUE))


@pytest.mark.parametrize("retrieval", ["1nn", "knn"])
def test_detached_values_pass_no_gradient_back_to_what_was_written(retrieval):
    generator = torch.Generator().manual_seed(3)
    keys = [random_keys(generator) for _ in range(4)]
    for detach, expect_gradient in ((False, True), (True, False)):
        written = torch.randn(4, *BATCH, VALUE, generator=generator, requires_grad=True)
        memory = DND(BATCH, capacity=8, key_size=KEY, value_size=VALUE, retrieval=retrieval,
                     k=2, detach_values=detach)
        for key, value in zip(keys, written, strict=True):
            memory.write(key, value * 2.0)
        result = memory.read(keys[0])
        if expect_gradient:
            result.value.sum().backward()
            assert written.grad.abs().sum() > 0
        else:
            assert not result.value.requires_grad
