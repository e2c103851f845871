"""``Dropout``: the regulariser between the layers of a recurrent model."""
from __future__ import annotations

import numbers

from rnnkit import functional as F
from rnnkit.nn.functional import reject_inplace
from rnnkit.nn.module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` while training, ``torch.nn.Dropout``.

    Dropout(p=0.5, inplace=False, generator=None). The kept elements are scaled by
    1/(1-p) so the expectation is unchanged; in eval mode (``module.eval()``) it is the
    identity. Input any shape (*) -> output (*). Masks come from ``rnnkit.random``
    (``generator``: None for the global generator, an int seed or a NumPy Generator).
    p=1 and inplace=True are not supported (a ValueError names them).
    """

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1) (p=1, dropping "
                             f"everything, is not supported), got {p!r}")
        reject_inplace(inplace, "Dropout")
        self.p, self.inplace, self.generator = p, False, generator

    def forward(self, input):
        """input (*) -> (*): masked and rescaled while ``self.training``, else unchanged."""
        return F.dropout(input, self.p, training=self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
