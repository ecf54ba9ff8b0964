import pytest
import torch

from twostep.core.models import RecurrentActorCritic, sample_actions


def test_eplstm_without_memory_equals_a_plain_lstm_cell():
    torch.manual_seed(0)
    reference = torch.nn.LSTMCell(7, 16)
    model = RecurrentActorCritic(7, 16, 2, seeds=[3, 4], reinstatement=True)
    model.load_lstm_cell(1, reference)
    x, h, c = torch.randn(2, 5, 7), torch.randn(2, 5, 16), torch.randn(2, 5, 16)
    out = model.cell_step(x, h, c, memory=None)
    h_ref, c_ref = reference(x[1], (h[1], c[1]))
    torch.testing.assert_close(out.hidden[1], h_ref)
    torch.testing.assert_close(out.cell[1], c_ref)


def test_reinstatement_adds_gate_times_tanh_memory_to_the_cell():
    model = RecurrentActorCritic(3, 8, 2, seeds=[0], reinstatement=True)
    x, h, c, m = torch.randn(1, 4, 3), torch.randn(1, 4, 8), torch.randn(1, 4, 8), torch.randn(1, 4, 8)
    out = model.cell_step(x, h, c, memory=m)
    expected = out.cell_before_reinstatement + out.reinstatement_gate * torch.tanh(m)
    torch.testing.assert_close(out.cell, expected)
    assert not torch.allclose(out.cell, out.cell_before_reinstatement)


def test_a_seeds_initial_weights_do_not_depend_on_the_other_seeds():
    alone = RecurrentActorCritic(6, 12, 2, seeds=[5])
    together = RecurrentActorCritic(6, 12, 2, seeds=[1, 5, 9])
    assert torch.equal(alone.weight[0], together.weight[1])
    assert not torch.equal(together.weight[0], together.weight[1])


def test_sampled_actions_follow_the_policy():
    logits = torch.log(torch.tensor([0.3, 0.7])).expand(200_000, 2)
    uniform = torch.rand(200_000, generator=torch.Generator().manual_seed(0))
    choices = sample_actions(logits, uniform)
    # binomial s.d. of the mean is 0.001; allow 5 s.d.
    assert abs(choices.float().mean().item() - 0.7) < 0.005


def test_named_gates_are_the_blocks_the_cell_uses():
    model = RecurrentActorCritic(input_size=3, hidden_size=4, n_actions=2, seeds=[0, 1],
                                 reinstatement=True)
    assert model.gate_names == ("input", "forget", "output", "reinstatement", "candidate")
    x, h, c = torch.randn(2, 5, 3), torch.randn(2, 5, 4), torch.randn(2, 5, 4)
    weight, bias = model.gate("reinstatement")
    assert weight.shape == (2, 3 + 4, 4) and bias.shape == (2, 4)
    expected = torch.sigmoid(torch.cat([x, h], -1) @ weight + bias[:, None])
    torch.testing.assert_close(model.cell_step(x, h, c).reinstatement_gate, expected)
    with pytest.raises(ValueError, match="no gate"):
        RecurrentActorCritic(3, 4, 2).gate("reinstatement")
