"""``rnnkit.nn.utils``: sequence packing (``rnn``) and gradient clipping."""
from rnnkit.nn.utils import rnn
from rnnkit.nn.utils.rnn import PackedSequence
