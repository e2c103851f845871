"""``rnnkit.utils.data``: PyTorch's data loading on NumPy and rnnkit Tensors.

    from rnnkit.utils.data import DataLoader, TensorDataset, random_split

    train, val = random_split(TensorDataset(x, y), [0.9, 0.1])
    for xb, yb in DataLoader(train, batch_size=32, shuffle=True):
        ...

Datasets (``dataset.py``), the samplers that order them (``sampler.py``), the function
that stacks samples into batches (``collate.py``) and the loader that joins them
(``dataloader.py``), each with torch.utils.data's names and semantics. Shuffling draws
from rnnkit's seeded generator, so ``rnnkit.manual_seed`` makes the epochs repeatable.
"""
from rnnkit.utils.data.collate import default_collate, default_convert
from rnnkit.utils.data.dataloader import DataLoader
from rnnkit.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                       Subset, TensorDataset, random_split)
from rnnkit.utils.data.sampler import (BatchSampler, RandomSampler, Sampler,
                                       SequentialSampler, SubsetRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "Subset",
           "SubsetRandomSampler", "TensorDataset", "default_collate", "default_convert",
           "random_split"]
