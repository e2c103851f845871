"""``rnnkit.utils``: tools around the models, as in ``torch.utils`` (``utils.data``)."""
from rnnkit.utils import data

__all__ = ["data"]
