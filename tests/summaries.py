"""``summary_text(model)``: what ``model.summary()`` prints, as one string, for comparing
rnnkit's table with Keras's."""


def summary_text(model, **kwargs):
    """The whole summary of ``model`` (rnnkit's or Keras's) as printed."""
    out = []
    model.summary(print_fn=out.append, **kwargs)
    return "".join(out)
