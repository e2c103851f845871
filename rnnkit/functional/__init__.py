"""rnnkit.functional: every differentiable op, each with its backward written beside it.

Shapes follow PyTorch's conventions; every op accepts Tensors, NumPy arrays or scalars.
"""
from rnnkit.functional.math import (abs, add, cast, clamp, div, exp, linear, log, matmul,
                                    maximum, minimum, mul, neg, pow, sqrt, sub, where)
from rnnkit.functional.shape import (cat, clone, concat, flip, getitem, permute, reshape,
                                     split, squeeze, stack, transpose, unsqueeze, view)
from rnnkit.functional.reduce import argmax, argmin, max, mean, min, sum, topk
from rnnkit.functional.activations import (hard_sigmoid, log_softmax, relu, sigmoid,
                                           softmax, tanh)
from rnnkit.functional.layers import dropout, embedding, one_hot
from rnnkit.functional.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                      cross_entropy, l1_loss, mse_loss, nll_loss)
from rnnkit.functional.keras_losses import (binary_crossentropy, categorical_crossentropy,
                                            sparse_categorical_crossentropy)
