"""A training mode recorded in a functional graph (``layer(x, training=True)``, or read back from a saved config)
holds unless the model's caller gives one, as in Keras."""
import numpy as np

import cornu
from tests.helpers import assert_close


def _model(k):
    inputs = k.Input((64,))
    return k.Model(inputs, k.layers.Dropout(0.9, seed=1)(inputs, training=True))


def test_recorded_training_holds_unless_the_caller_says():
    x = np.ones((2, 64), "float32")
    model = _model(cornu)
    assert (np.asarray(model(x)) == 0).mean() > 0.5  # no mode given: the graph's training=True
    assert_close(model.predict(x, verbose=0), x)  # predict runs with training=False, which wins
    assert_close(np.asarray(model(x, training=False)), x)


def test_same_as_keras(keras_ref):
    x = np.ones((2, 64), "float32")
    for k in (keras_ref, cornu):
        model = _model(k)
        assert (np.asarray(model(x)) == 0).mean() > 0.5
        assert_close(np.asarray(model.predict(x, verbose=0)), x)
