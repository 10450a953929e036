"""Every public function of Keras's ``ops``, ``ops.numpy``, ``ops.nn``, ``ops.linalg``, ``ops.image`` and
``random`` namespaces exists in cornu, bar a short, justified list."""
import inspect

import pytest

from tests.helpers import keras_oracle_module

keras_ref = keras_oracle_module()

import cornu  # noqa: E402

NAMESPACES = ["ops", "ops.numpy", "ops.nn", "ops.linalg", "ops.image", "random"]

# Names Keras 3.15.1 has and cornu does not yet, per namespace; remove a name when it lands.
KNOWN_MISSING: dict[str, set] = {}


def _resolve(root, dotted: str):
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


def _public_functions(module) -> set:
    return {n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
            and not inspect.ismodule(getattr(module, n)) and not inspect.isclass(getattr(module, n))}


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_known_missing_are_keras_names(namespace):
    assert KNOWN_MISSING.get(namespace, set()) <= _public_functions(_resolve(keras_ref, namespace))


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_keras_name_exists(namespace):
    ours = _resolve(cornu, namespace)
    missing = {n for n in _public_functions(_resolve(keras_ref, namespace)) if not hasattr(ours, n)}
    assert sorted(missing - KNOWN_MISSING.get(namespace, set())) == [], f"Keras {namespace} names missing from cornu"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_known_missing_names_are_really_missing(namespace):
    if namespace == "ops.image":
        pytest.skip("ops.image lands concurrently; its temporary list is only an upper bound")
    ours = _resolve(cornu, namespace)
    landed = sorted(n for n in KNOWN_MISSING.get(namespace, set()) if hasattr(ours, n))
    assert landed == [], f"implemented now: remove from KNOWN_MISSING[{namespace!r}]: {landed}"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_signatures_match(namespace):
    """Same parameter names, order and defaults as Keras for every shared function."""
    ref_mod, ours = _resolve(keras_ref, namespace), _resolve(cornu, namespace)
    diffs = []
    for name in sorted(_public_functions(ref_mod)):
        if not hasattr(ours, name) or inspect.isclass(getattr(ours, name)):
            continue
        try:
            ref_sig = inspect.signature(getattr(ref_mod, name))
            our_sig = inspect.signature(getattr(ours, name))
        except (TypeError, ValueError):
            continue
        ref_params = [(p.name, p.default, p.kind) for p in ref_sig.parameters.values()]
        our_params = [(p.name, p.default, p.kind) for p in our_sig.parameters.values()]
        if ref_params != our_params:
            diffs.append(f"{name}: keras{ref_sig} cornu{our_sig}")
    assert diffs == [], "\n".join(diffs)
