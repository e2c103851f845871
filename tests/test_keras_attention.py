"""rnnkit.keras Attention and AdditiveAttention equal Keras 3 (JAX back end) with copied
weights.

A grid over the layer (dot, concat, additive), use_scale, a separate key or not, masks
(none, query, value, both; each mask holding a fully masked row) and the causal mask
compares outputs and attention scores; gradients with respect to the inputs and the
weights are compared with jax.grad of Keras's stateless call, and with central
differences in float64. Masks from Embedding(mask_zero=True) arrive through a
functional model as in Keras; dropout is the identity at inference; summaries,
parameter counts, configs and save/load round trips match. float32 max abs error <= 1e-5.
"""
import itertools

import numpy as np
import pytest

import rnnkit
import rnnkit.keras as rk
from rnnkit.keras import layers as L
from rnnkit.keras.layer import get_mask
from gradcheck import gradcheck
from summaries import summary_text

pytestmark = [pytest.mark.keras,
              pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]
keras = pytest.importorskip("keras", reason="the Keras 3 oracle is not installed")
jax = pytest.importorskip("jax", reason="Keras runs on the JAX back end here")

B, TQ, TV, D, DV = 3, 4, 5, 6, 2
TOL = 1e-5

# (keras class, constructor arguments without use_scale)
KINDS = {"dot": ("Attention", {}), "concat": ("Attention", {"score_mode": "concat"}),
         "additive": ("AdditiveAttention", {})}


def data(seed, with_key=False):
    """[query, value(, key)] and [query_mask, value_mask]; row 0 of the query mask and
    the last row of the value mask are fully masked."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(B, TQ, D)).astype("float32")
    if with_key:       # value features may differ from the query's when a key is given
        inputs = [q, rng.normal(size=(B, TV, DV)).astype("float32"),
                  rng.normal(size=(B, TV, D)).astype("float32")]
    else:
        inputs = [q, rng.normal(size=(B, TV, D)).astype("float32")]
    q_mask = rng.random((B, TQ)) > 0.3
    q_mask[0] = False
    v_mask = rng.random((B, TV)) > 0.3
    v_mask[-1] = False
    return inputs, [q_mask, v_mask]


def pair(kind, use_scale, inputs, **kw):
    """The Keras layer and ours, built on ``inputs``, holding the same random weights
    (drawn away from the initial ones, so a weight that is ignored would show)."""
    cls, extra = KINDS[kind]
    theirs = getattr(keras.layers, cls)(use_scale=use_scale, **extra, **kw)
    ours = getattr(L, cls)(use_scale=use_scale, **extra, **kw)
    theirs(inputs)
    ours(inputs)
    rng = np.random.default_rng(0)
    weights = [rng.uniform(0.5, 1.5, size=np.shape(w)).astype("float32")
               for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return theirs, ours


def assert_close(theirs, ours, tol=TOL):
    theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
    ours = ours if isinstance(ours, (list, tuple)) else [ours]
    assert len(theirs) == len(ours)
    for a, b in zip(theirs, ours):
        a, b = np.asarray(a), np.asarray(b.numpy() if hasattr(b, "numpy") else b)
        assert a.shape == b.shape
        assert np.abs(a - b).max() <= tol


MASKS = ["none", "query", "value", "both"]
GRID = list(itertools.product(KINDS, [False, True], [False, True], MASKS, [False, True]))


def pick_masks(masks, which):
    q_mask, v_mask = masks
    return {"none": None, "query": [q_mask, None], "value": [None, v_mask],
            "both": [q_mask, v_mask]}[which]


@pytest.mark.parametrize("kind,use_scale,with_key,masks,causal", GRID)
def test_output_and_scores_equal_keras(kind, use_scale, with_key, masks, causal):
    inputs, all_masks = data(GRID.index((kind, use_scale, with_key, masks, causal)), with_key)
    theirs, ours = pair(kind, use_scale, inputs)
    call = dict(mask=pick_masks(all_masks, masks), use_causal_mask=causal,
                return_attention_scores=True)
    assert_close(theirs(inputs, **call), ours(inputs, **call))


@pytest.mark.parametrize("kind", KINDS)
def test_without_return_attention_scores_the_output_comes_alone(kind):
    inputs, masks = data(1)
    theirs, ours = pair(kind, True, inputs)
    out = ours(inputs, mask=masks)
    assert isinstance(out, rnnkit.Tensor) and out.shape == (B, TQ, D)
    assert_close(theirs(inputs, mask=masks), out)


def test_fully_masked_value_row_spreads_evenly_like_keras():
    # Every score of the row drops by 1e9: in float32 they all round to -1e9.
    inputs, (_, v_mask) = data(2)
    theirs, ours = pair("dot", False, inputs)
    _, scores = ours(inputs, mask=[None, v_mask], return_attention_scores=True)
    np.testing.assert_allclose(scores.numpy()[-1], np.full((TQ, TV), 1 / TV), rtol=1e-6)
    _, k_scores = theirs(inputs, mask=[None, v_mask], return_attention_scores=True)
    assert_close(k_scores, scores)


def test_value_mask_gives_masked_positions_zero_weight():
    inputs, (_, v_mask) = data(3)
    _, ours = pair("additive", True, inputs)
    _, scores = ours(inputs, mask=[None, v_mask], return_attention_scores=True)
    kept = v_mask[:-1, None, :]                                # rows with a value left
    assert np.all(scores.numpy()[:-1][np.broadcast_to(~kept, (B - 1, TQ, TV))] == 0)
    np.testing.assert_allclose(scores.numpy().sum(-1), 1, rtol=1e-6)


def test_query_mask_zeroes_masked_rows_and_becomes_the_output_mask():
    inputs, (q_mask, _) = data(4)
    _, ours = pair("dot", True, inputs)
    out = ours(inputs, mask=[q_mask, None])
    assert np.all(out.numpy()[~q_mask] == 0) and np.all(out.numpy()[0] == 0)
    np.testing.assert_array_equal(get_mask(out), q_mask)


def test_causal_mask_hides_later_positions():
    inputs, _ = data(5)
    _, ours = pair("concat", True, inputs)
    _, scores = ours(inputs, use_causal_mask=True, return_attention_scores=True)
    later = np.arange(TV)[None, :] > np.arange(TQ)[:, None]
    assert np.all(scores.numpy()[:, later] == 0) and np.all(scores.numpy()[:, ~later] > 0)


# -- gradients ------------------------------------------------------------------------------
def keras_grads(layer, inputs, upstream, **call):
    """d(sum_k out_k * upstream_k)/d(weights, inputs) by jax.grad of Keras's layer."""
    jnp = jax.numpy
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def loss(trainable, xs):
        out, _ = layer.stateless_call(trainable, non_trainable, xs, **call)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return sum(jnp.sum(o * u) for o, u in zip(outs, upstream))

    trainable = [v.value for v in layer.trainable_variables]
    return jax.grad(loss, argnums=(0, 1))(trainable, [jnp.asarray(x) for x in inputs])


def our_grads(layer, inputs, upstream, **call):
    xs = [rnnkit.Tensor(x, requires_grad=True) for x in inputs]
    outs = layer(xs, **call)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    sum((o * u).sum() for o, u in zip(outs, upstream)).backward()
    return [w.grad for w in layer.trainable_weights], [x.grad for x in xs]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_scale", [False, True])
@pytest.mark.parametrize("with_key", [False, True])
def test_gradients_equal_jax_grad_of_keras(kind, use_scale, with_key):
    inputs, masks = data(6, with_key)
    theirs, ours = pair(kind, use_scale, inputs)
    rng = np.random.default_rng(7)
    upstream = [rng.normal(size=(B, TQ, inputs[1].shape[-1])).astype("float32"),
                rng.normal(size=(B, TQ, TV)).astype("float32")]
    call = dict(mask=masks, use_causal_mask=True, return_attention_scores=True)
    k_w, k_x = keras_grads(theirs, inputs, upstream, **call)
    o_w, o_x = our_grads(ours, inputs, upstream, **call)
    assert len(o_w) == len(k_w) == int(use_scale) + int(kind == "concat")
    assert_close(k_w, o_w, 1e-4)
    assert_close(k_x, o_x, 1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_input_gradients_match_finite_differences_in_float64(kind):
    inputs, masks = data(8, with_key=True)
    # No fully masked value row here: its scores sit near -1e9, where a float64 step of
    # 1e-6 is below the rounding and central differences cannot see it.
    masks[1][-1, :2] = True
    cls, extra = KINDS[kind]
    layer = getattr(L, cls)(use_scale=True, dtype="float64", **extra)
    layer([x.astype("float64") for x in inputs])
    layer.set_weights([w * 0.8 for w in layer.get_weights()])

    def attend(q, v, k):
        return tuple(layer([q, v, k], mask=masks, use_causal_mask=True,
                           return_attention_scores=True))

    assert gradcheck(attend, inputs, rtol=1e-6) <= 1e-6


def test_weight_gradients_match_finite_differences_in_float64():
    inputs, masks = data(9)
    masks[1][-1, :2] = True      # no fully masked row (see the test above)
    layer = L.Attention(use_scale=True, score_mode="concat", dtype="float64")
    xs = [rnnkit.Tensor(x.astype("float64")) for x in inputs]
    r = np.random.default_rng(1).normal(size=(B, TQ, D))

    def loss():
        return (layer(xs, mask=masks) * r).sum()

    loss()
    layer.set_weights([np.float64(0.7), np.float64(1.3)])
    loss().backward()
    eps = 1e-6
    for w in layer.trainable_weights:
        w0 = float(w.data)
        w.data[...] = w0 + eps
        up = loss().item()
        w.data[...] = w0 - eps
        down = loss().item()
        w.data[...] = w0
        grad = w.grad.item()
        assert abs(grad - (up - down) / (2 * eps)) <= 1e-6 * max(1, abs(grad))


# -- masks through a model, dropout, dtype ---------------------------------------------------
def masked_attention_model(K):
    x = K.Input(shape=(7,), dtype="int32")
    h = K.layers.Embedding(20, 6, mask_zero=True)(x)
    seq = K.layers.LSTM(5, return_sequences=True)(h)
    att = K.layers.Attention(use_scale=True)([seq, seq])
    return K.Model(x, K.layers.Dense(3)(K.layers.LSTM(4)(att)))


def test_masks_from_embedding_reach_attention_and_the_next_layer_like_keras():
    keras.backend.clear_session()
    theirs = masked_attention_model(keras)
    rk.backend.clear_session()
    ours = masked_attention_model(rk)
    ours.set_weights(theirs.get_weights())
    x = np.array([[3, 5, 7, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7], [9, 0, 0, 0, 0, 0, 0]])
    assert_close(theirs(x), ours(x))
    # the attention's output carries the query's (the padding) mask
    seq = ours.get_layer("lstm")(ours.get_layer("embedding")(x))
    np.testing.assert_array_equal(get_mask(ours.get_layer("attention")([seq, seq])), x != 0)


def test_functional_model_replays_scores_and_causal_mask_like_keras():
    def build(K):
        q, v = K.Input(shape=(TQ, D)), K.Input(shape=(TV, D))
        out, scores = K.layers.AdditiveAttention()([q, v], return_attention_scores=True,
                                                   use_causal_mask=True)
        return K.Model([q, v], [out, scores])

    keras.backend.clear_session()
    theirs = build(keras)
    rk.backend.clear_session()
    ours = build(rk)
    ours.set_weights(theirs.get_weights())
    inputs, _ = data(10)
    assert_close(theirs.predict(inputs, verbose=0), ours.predict(inputs, verbose=0))


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_is_the_identity_at_inference(kind):
    inputs, masks = data(11)
    theirs, ours = pair(kind, True, inputs, dropout=0.5, seed=3)
    _, plain = pair(kind, True, inputs)
    call = dict(mask=masks, return_attention_scores=True)
    assert_close(theirs(inputs, training=False, **call), ours(inputs, training=False, **call))
    assert_close(plain(inputs, **call), ours(inputs, **call), 0)


def test_dropout_while_training_drops_and_rescales_attention_weights():
    inputs, _ = data(12)
    layer = L.Attention(dropout=0.5, seed=4)
    _, weights = layer(inputs, return_attention_scores=True)
    out, dropped = layer(inputs, training=True, return_attention_scores=True)
    w, d = weights.numpy(), dropped.numpy()
    assert np.any(d == 0) and np.any(d != 0)
    np.testing.assert_allclose(d[d != 0], 2 * w[d != 0], rtol=1e-6)
    np.testing.assert_allclose(out.numpy(), d @ inputs[1], rtol=1e-5, atol=1e-6)
    again = L.Attention(dropout=0.5, seed=4)(inputs, training=True,
                                              return_attention_scores=True)[1]
    np.testing.assert_array_equal(again.numpy() == 0, d == 0)       # the seed decides


def test_float64_layers_compute_in_float64():
    inputs, masks = data(13)
    layer = L.AdditiveAttention(dtype="float64")
    out, scores = layer([x.astype("float64") for x in inputs], mask=masks,
                        return_attention_scores=True)
    assert out.dtype == scores.dtype == layer.scale.dtype == np.float64


# -- summary, config, saving ------------------------------------------------------------------
def attention_zoo(K):
    """A functional model holding every form: dot with scale and scores, concat, additive
    with a key."""
    L_ = K.layers
    q, v, k = K.Input(shape=(TQ, D)), K.Input(shape=(None, D)), K.Input(shape=(None, D))
    dot, scores = L_.Attention(use_scale=True)([q, v], return_attention_scores=True)
    concat = L_.Attention(score_mode="concat")([q, v])
    additive = L_.AdditiveAttention()([q, v, k])
    return K.Model([q, v, k], [L_.Concatenate()([dot, concat, additive]), scores])


def test_summary_and_parameter_count_equal_keras():
    keras.backend.clear_session()
    theirs = attention_zoo(keras)
    rk.backend.clear_session()
    ours = attention_zoo(rk)
    assert summary_text(ours) == summary_text(theirs)
    assert ours.count_params() == theirs.count_params() == 1 + 1 + D


@pytest.mark.parametrize("kind", KINDS)
def test_config_equals_keras(kind):
    inputs, _ = data(14)
    theirs, ours = pair(kind, False, inputs, dropout=0.25, seed=9)
    mine, ref = ours.get_config(), theirs.get_config()
    shared = {"use_scale", "score_mode", "dropout", "seed"} & set(ref)
    assert {k: mine[k] for k in shared} == {k: ref[k] for k in shared}
    assert set(ref) - {"dtype"} <= set(mine)
    assert ("score_mode" in mine) == (kind != "additive")


def test_save_and_load_round_trip(tmp_path):
    rk.backend.clear_session()
    model = attention_zoo(rk)
    model.set_weights([w + 0.5 for w in model.get_weights()])
    path = str(tmp_path / "attention.rnnkit")
    model.save(path)
    again = rk.models.load_model(path)
    inputs, _ = data(15, with_key=True)
    inputs[1] = inputs[2] * 0.5
    for a, b in zip(model.predict(inputs, verbose=0), again.predict(inputs, verbose=0)):
        np.testing.assert_array_equal(a, b)
    assert summary_text(again) == summary_text(model)
    assert [type(l).__name__ for l in again.layers] == [type(l).__name__ for l in model.layers]


# -- bad input ---------------------------------------------------------------------------------
def test_bad_constructor_arguments_are_named():
    with pytest.raises(ValueError, match="score_mode must be one of .* got 'add'"):
        L.Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"dropout must be a fraction in \[0, 1\), got 1.5"):
        L.Attention(dropout=1.5)
    with pytest.raises(TypeError, match="score_mode is not an argument of additive"):
        L.AdditiveAttention(score_mode="concat")


@pytest.mark.parametrize("inputs, message", [
    (lambda q, v, k: q, "expected a list \\[query, value\\]"),
    (lambda q, v, k: [q], "got a list of 1"),
    (lambda q, v, k: [q, v, k, k], "got a list of 4"),
    (lambda q, v, k: [q[:, 0], v], r"query must have shape \(batch, time, features\), got "
                                   r"shape \(3, 6\)"),
    (lambda q, v, k: [q[:2], v], "same batch size"),
    (lambda q, v, k: [q, v, k[:, :2]], "same number of steps Tv"),
    (lambda q, v, k: [q[..., :2], v], "query and key must have the same number of features"),
])
def test_bad_inputs_are_named(inputs, message):
    (q, v), _ = data(16)
    with pytest.raises(ValueError, match=message):
        L.Attention()(inputs(q, v, v))


def test_bad_masks_are_named():
    inputs, (q_mask, v_mask) = data(17)
    layer = L.Attention()
    with pytest.raises(ValueError, match=r"mask must be a list \[query_mask, value_mask\]"):
        layer(inputs, mask=q_mask)
    with pytest.raises(ValueError, match=r"value_mask must have shape \(batch, time\) = "
                                         r"\(3, 5\), got shape \(3, 4\)"):
        layer(inputs, mask=[None, q_mask])


def test_integer_inputs_are_refused():
    (q, v), _ = data(18)
    with pytest.raises(TypeError, match="query must be floating point, got dtype int64"):
        L.Attention()([q.astype(np.int64), v])
