"""``rnnkit.nn.utils``: sequence packing (``rnn``) and gradient clipping (``rnnkit.clip``)."""
from rnnkit.clip import (clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                         get_total_norm)
from rnnkit.nn.utils import rnn
from rnnkit.nn.utils.rnn import PackedSequence
