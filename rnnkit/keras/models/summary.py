"""``model.summary()``: Keras 3's table, character for character.

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ simple_rnn (SimpleRNN)          │ (None, 3)              │            24 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 24 (96.00 B)
     Trainable params: 24 (96.00 B)
     Non-trainable params: 0 (0.00 B)

Keras draws this with the ``rich`` library; rnnkit lays it out itself with the same
rules: column widths from ``positions`` times the line length (88, or 108 with a
"Connected to" column for graphs that are not a plain chain, capped at the terminal
width minus 4), shrunk evenly to fit the borders; cell text word-wrapped, a word longer
than its cell cut with "…"; a table wider than the terminal cropped at its edge. Sizes count 4 bytes per float32 value, in B/KB/MB (1024).

Under an unbuilt model's table (every layer "0 (unbuilt)") rnnkit adds one line of its
own, saying how to build it for its first layer, e.g. for an Embedding:

     To build it: model.build((None, None)) or (None, maxlen), or Input(shape=(None,)) first.
"""
from __future__ import annotations

import math
import re
import shutil

import numpy as np

_WORD = re.compile(r"\s*\S+\s*")


# -- text layout (rich's rules for a left/right/center column with ellipsis overflow) ----
def _break_positions(text, width):
    breaks, offset = [], 0
    for m in _WORD.finditer(text):
        start, word = m.start(), m.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:                 # too long for any line: alone, then cut
            if start:
                breaks.append(start)
            offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def wrap(text, width, justify="left"):
    """``text`` as lines of exactly ``width`` characters."""
    cuts = [0] + _break_positions(text, width) + [len(text)]
    lines = [text[a:b] for a, b in zip(cuts, cuts[1:])] or [""]
    out = []
    for line in lines:
        if len(line) > width:                # drop trailing spaces beyond the width
            spaces = len(line) - len(line.rstrip())
            line = line[:len(line) - min(spaces, len(line) - width)]
        if justify != "left":
            line = line.rstrip()
        if len(line) > width:
            line = line[:width - 1] + "…"
        if justify == "right":
            line = " " * (width - len(line)) + line
        elif justify == "center":
            left = (width - len(line)) // 2
            line = " " * left + line
        out.append(line + " " * (width - len(line)))
    return out


def _ratio_reduce(total, ratios, maximums, values):
    ratios = [r if m else 0 for r, m in zip(ratios, maximums)]
    total_ratio, remaining, out = sum(ratios), total, []
    if not total_ratio:
        return list(values)
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            d = min(maximum, round(ratio * remaining / total_ratio))
            out.append(value - d)
            remaining -= d
            total_ratio -= ratio
        else:
            out.append(value)
    return out


def column_widths(line_length, positions):
    """Each column's width including its one-space padding on both sides."""
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) - current
        if width < 4:
            raise ValueError("summary: insufficient console width to print the summary")
        widths.append(width)
        current += width
    available = line_length - (len(widths) + 1)            # minus the borders
    widths = [min(w + 2, available) for w in widths]
    if sum(widths) > available:
        widths = _ratio_reduce(sum(widths) - available, [1] * len(widths), widths, widths)
    return widths


def render_table(header, rows, widths, justify):
    """Box-drawn table: heavy header (its cells aligned to the bottom), a rule between
    rows (cells aligned to the top)."""
    def rule(left, mid, right, fill):
        return left + mid.join(fill * w for w in widths) + right

    def row_lines(cells, bar, bottom=False):
        wrapped = [wrap(str(c), w - 2, j) for c, w, j in zip(cells, widths, justify)]
        height = max(len(c) for c in wrapped)
        blank = [[" " * (w - 2)] * (height - len(c)) for c, w in zip(wrapped, widths)]
        wrapped = [b + c if bottom else c + b for c, b in zip(wrapped, blank)]
        return [bar + bar.join(f" {c[k]} " for c in wrapped) + bar for k in range(height)]

    out = [rule("┏", "┳", "┓", "━")] + row_lines(header, "┃", bottom=True)
    out.append(rule("┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        if i:
            out.append(rule("├", "┼", "┤", "─"))
        out += row_lines(row, "│")
    out.append(rule("└", "┴", "┘", "─"))
    return out


# -- what goes in the cells ----------------------------------------------------------------
def format_shape(shape):
    return "(" + ", ".join(str(d) for d in shape) + ")"


def layer_output_shape(layer):
    from rnnkit.keras.layers.core import InputLayer

    if isinstance(layer, InputLayer):
        return format_shape(layer.batch_shape)
    if not layer._inbound_nodes:
        return "?"
    outputs = layer._inbound_nodes[-1].outputs

    def fmt(x):
        if isinstance(x, (list, tuple)):
            return "[" + ", ".join(fmt(v) for v in x) + "]"
        return format_shape(x.shape)

    return fmt(outputs)


def count(weights):
    return int(sum(math.prod(w.shape) for w in weights))


def memory(weights):
    """Bytes of ``weights`` (arrays or Variables), each counted once."""
    unique = {id(w): w for w in weights}.values()
    return sum(math.prod(np.shape(w)) * np.dtype(w.dtype).itemsize for w in unique)


def readable_size(size):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _sequential_like(model):
    from rnnkit.keras.models.graph import node_input_tensors

    graph = model._graph
    if graph is None or type(model).__name__ == "Sequential":
        return True
    for nodes in graph.nodes_by_depth.values():
        if len(nodes) > 1 or (len(nodes) == 1 and len(node_input_tensors(nodes[0])) > 1):
            return False
    in_graph = set(graph.nodes)
    for layer in graph.layers:
        if sum(1 for n in layer._inbound_nodes if n in in_graph) > 1:
            return False
    return True


def _connections(layer, graph):
    from rnnkit.keras.models.graph import Graph, node_input_tensors

    in_graph = set(graph.nodes)
    parts = []
    for node in layer._inbound_nodes:
        if node not in in_graph:
            continue
        for t in node_input_tensors(node):
            parts.append(f"{t.node.layer.name}[{Graph.node_index(t.node)}][{t.index}]")
    return ", ".join(parts) or "-"


def _layer_range(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(s, str) for s in layer_range):
        raise ValueError(f"summary: layer_range must be two layer names (or regexes), got "
                         f"{layer_range!r}")
    lower = [i for i, l in enumerate(layers) if re.match(layer_range[0], l.name)]
    upper = [i for i, l in enumerate(layers) if re.match(layer_range[1], l.name)]
    if not lower or not upper:
        raise ValueError(f"summary: layer_range {layer_range} matches no layer names")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def summary_text(model, line_length=None, positions=None, expand_nested=False,
                 show_trainable=False, layer_range=None):
    """The summary as one string (lines ending in newlines)."""
    from rnnkit.keras.models.functional import Model

    sequential_like = _sequential_like(model)
    if sequential_like:
        default, positions = 88, positions or [0.45, 0.80, 1.0]
        header, justify = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        justify = ["left", "left", "right", "left"]
    if show_trainable:
        default += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header, justify = header + ["Trainable"], justify + ["center"]
    console = shutil.get_terminal_size().columns
    line_length = line_length or min(default, console - 4)

    def fields(layer, prefix=""):
        if not layer.built:
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", layer_output_shape(layer),
               params]
        if not sequential_like:
            row.append(_connections(layer, model._graph))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_of(layer, level=0):
        rows = [fields(layer, "   " * level + "└ " if level else "")]
        if expand_nested and isinstance(layer, Model) and layer.layers:
            for sub in layer.layers:
                rows += rows_of(sub, level + 1)
        return rows

    layers = model.layers
    lo, hi = _layer_range(layers, layer_range)
    rows = [r for layer in layers[lo:hi] for r in rows_of(layer)]
    lines = [f'Model: "{model.name}"']
    table = render_table(header, rows, column_widths(line_length, positions), justify)
    lines += [line[:console] for line in table]       # rich crops at the console's width

    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer = getattr(model, "optimizer", None)
    opt_vars = optimizer.variables if (model.compiled and optimizer is not None
                                       and optimizer.built) else []
    counts = [count(trainable), count(non_trainable), count(opt_vars)]
    sizes = [memory(trainable), memory(non_trainable), memory(opt_vars)]
    lines.append(f" Total params: {sum(counts):,} ({readable_size(sum(sizes))})")
    lines.append(f" Trainable params: {counts[0]:,} ({readable_size(sizes[0])})")
    lines.append(f" Non-trainable params: {counts[1]:,} ({readable_size(sizes[1])})")
    if opt_vars:
        lines.append(f" Optimizer params: {counts[2]:,} ({readable_size(sizes[2])})")
    if not model.built and model.layers:
        lines.append(build_hint(model))
    return "".join(line + "\n" for line in lines)


def build_hint(model):
    """rnnkit's line under an unbuilt model's table (Keras prints none): how to give it
    an input shape, written for its first layer that fixes the input's rank."""
    from rnnkit.keras.layers import core, rnn, wrappers

    keeps_shape = (core.Dropout, core.Activation, core.LayerNormalization)
    first = next((l for l in model.layers if not isinstance(l, keeps_shape)), None)
    if isinstance(first, core.Embedding):
        build, shape = "(None, None)) or (None, maxlen)", "(None,)"
    elif isinstance(first, (rnn.RNN, wrappers.Bidirectional, wrappers.TimeDistributed,
                            core.Masking, core.GlobalAveragePooling1D)):
        build, shape = "(None, timesteps, features))", "(timesteps, features)"
    elif isinstance(first, core.Dense):
        build, shape = "(None, features))", "(features,)"
    else:
        return (" To build it: model.build(input_shape) with None for the batch size, or "
                "an Input(shape=...) first.")
    return f" To build it: model.build({build}, or Input(shape={shape}) first."


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False, layer_range=None):
    """Print the summary, or hand the whole text to ``print_fn`` in one call (Keras 3)."""
    text = summary_text(model, line_length, positions, expand_nested, show_trainable,
                        layer_range)
    if print_fn is None:
        print(text, end="")
    else:
        print_fn(text)
