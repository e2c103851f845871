"""Seed 004 (NumPy RNN, then PyTorch's nn.RNN / nn.LSTM), imports changed to rnnkit.

The PyTorch cells start from ``torch.Tensor(1, 10, 5)`` (an uninitialised tensor) and
print shapes; those shapes are what the tutorial shows, and real PyTorch gives the same.
"""
import numpy as np

from seeds.printing import shapes

# In [16], imports changed: was `import torch` and `import torch.nn as nn`.
import rnnkit as torch
import rnnkit.nn as nn


def test_cells_6_to_15_numpy_rnn(printed):
    timesteps = 10
    input_size = 4
    hidden_size = 8
    inputs = np.random.random((timesteps, input_size))
    hidden_state_t = np.zeros((hidden_size,))
    Wx = np.random.random((hidden_size, input_size))
    Wh = np.random.random((hidden_size, hidden_size))
    b = np.random.random((hidden_size,))
    total_hidden_states = []
    for input_t in inputs:
        hidden_state_t_after = np.tanh(np.dot(Wx, input_t) + np.dot(Wh, hidden_state_t))
        total_hidden_states.append(list(hidden_state_t_after))
        hidden_state_t = hidden_state_t_after
    total_hidden_states = np.stack(total_hidden_states, axis = 0)
    print(len(total_hidden_states))
    assert printed() == "10\n"
    # The tutorial's loop leaves the bias out; rnnkit's RNN without bias gives the same.
    rnn = nn.RNN(input_size, hidden_size, bias=False, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.data[...] = Wx
        rnn.weight_hh_l0.data[...] = Wh
    out, _ = rnn(torch.from_numpy(inputs[:, None, :]))
    np.testing.assert_allclose(out.numpy()[:, 0], total_hidden_states, rtol=0, atol=1e-14)


def test_cells_16_to_30_pytorch_rnn_shapes(printed):
    input_size = 5
    hidden_size = 8
    inputs = torch.Tensor(1, 10, 5)

    cell = nn.RNN(input_size, hidden_size, batch_first=True)
    outputs, _status = cell(inputs)
    print(outputs.shape)
    print(_status.shape)
    assert shapes(printed()) == shapes("torch.Size([1, 10, 8])\ntorch.Size([1, 1, 8])")

    cell = nn.RNN(input_size = 5, hidden_size = 8, num_layers = 2, batch_first=True)
    outputs, _status = cell(inputs)
    print(outputs.shape)
    print(_status.shape)
    assert shapes(printed()) == shapes("torch.Size([1, 10, 8])\ntorch.Size([2, 1, 8])")

    cell = nn.RNN(input_size = 5, hidden_size = 8, num_layers = 2, batch_first=True, bidirectional = True)
    outputs, _status = cell(inputs)
    print(outputs.shape)
    print(_status.shape)
    assert shapes(printed()) == shapes("torch.Size([1, 10, 16])\ntorch.Size([4, 1, 8])")

    cell = nn.LSTM(input_size = 5, hidden_size = 8, num_layers = 2, batch_first=True, bidirectional = True)
    outputs, _status = cell(inputs)
    print(outputs.shape)
    assert shapes(printed()) == shapes("torch.Size([1, 10, 16])")
    h_n, c_n = _status
    assert h_n.shape == c_n.shape == (4, 1, 8)
