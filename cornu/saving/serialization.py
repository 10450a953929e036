"""Keras 3 object configs: ``serialize_keras_object`` / ``deserialize_keras_object``.

A serialized object is ``{"module", "class_name", "config", "registered_name"}``
(plus ``build_config`` and, for compiled models, ``compile_config``). On load a
class is found only among cornu's own public classes and the objects the user
provides (``custom_objects``, ``custom_object_scope``, registration): a module
named in a config is never imported for a class, and for a function only
under an explicit ``safe_mode=False``.
"""
from __future__ import annotations

import contextvars
import functools
import importlib
import inspect
import types
from typing import Any

import numpy as np
import torch

from cornu.saving.object_registration import CustomObjectScope, get_registered_name, get_registered_object

PLAIN_TYPES = (str, int, float, bool)

_SAFE_MODE: contextvars.ContextVar[bool | None] = contextvars.ContextVar("cornu_safe_mode", default=None)
_GLOBAL_UNSAFE = False

_CLASS_ORDER = ("layers", "models", "losses", "metrics", "optimizers", "schedules", "initializers",
                "regularizers", "constraints", "dtype_policies")
_FUNCTION_ORDER = ("activations", "losses", "metrics", "ops")
_NOT_FUNCTIONS = {"get", "serialize", "deserialize"}
# Keras layers built in their constructor (stateless): Keras writes no ``build_config`` for them.
_BUILT_AT_INIT = frozenset((
    "Activation", "ActivityRegularization", "AlphaDropout", "AveragePooling1D", "AveragePooling2D",
    "AveragePooling3D", "Dropout", "ELU", "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
    "GlobalMaxPooling3D", "Identity", "InputLayer", "LeakyReLU", "Masking", "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "ReLU", "Reshape", "Softmax", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "UnitNormalization"))


# Layers of ``keras.applications`` models that Keras saves under ``keras.src.applications.<module>``: the cornu
# module that defines each (looked up in this fixed table only, never imported from a config's name).
_APPLICATION_LAYERS = {
    "convnext": ("LayerScale", "StochasticDepth"),
    "inception_resnet_v2": ("CustomScaleLayer",),
}


class UnresolvedObjectError(TypeError):
    """A config names a class or function that cornu cannot (or may not) locate."""


# ------------------------------------------------------------------ safe mode
class SafeModeScope:
    """Propagate ``safe_mode`` to nested deserialization calls (``with SafeModeScope(False): ...``)."""

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = safe_mode
        self._token: contextvars.Token | None = None

    def __enter__(self) -> "SafeModeScope":
        self._token = _SAFE_MODE.set(self.safe_mode)
        return self

    def __exit__(self, *exc: Any) -> None:
        _SAFE_MODE.reset(self._token)


def enable_unsafe_deserialization() -> None:
    """Turn safe mode off process-wide: lambdas in saved models may then be loaded (runs their code)."""
    global _GLOBAL_UNSAFE
    _GLOBAL_UNSAFE = True


def in_safe_mode() -> bool | None:
    """The safe mode of the enclosing scope; ``False`` after ``enable_unsafe_deserialization``; else None."""
    scoped = _SAFE_MODE.get()
    if scoped is not None:
        return scoped
    return False if _GLOBAL_UNSAFE else None


def effective_safe_mode(safe_mode: bool | None) -> bool:
    """``safe_mode`` unless an enclosing scope (or the global switch) decides; True by default."""
    scoped = in_safe_mode()
    if scoped is not None:
        return bool(scoped)
    return True if safe_mode is None else bool(safe_mode)


# ------------------------------------------------------------ built-in tables
class _Tables:
    def __init__(self) -> None:
        self.classes: dict[str, dict[str, type]] = {}
        self.functions: dict[str, dict[str, Any]] = {}
        self.public_class: dict[type, tuple[str, str]] = {}
        self.public_function: dict[Any, tuple[str, str]] = {}


@functools.lru_cache(maxsize=None)
def _tables() -> _Tables:
    from cornu import activations, constraints, dtype_policies, initializers, layers, losses, metrics, models, ops, \
        optimizers, regularizers
    from cornu.optimizers import schedules

    t = _Tables()
    class_specs = (
        ("layers", layers, layers.Layer, "keras.layers"),
        ("models", models, models.Model, "keras"),
        ("losses", losses, losses.Loss, "keras.losses"),
        ("metrics", metrics, metrics.Metric, "keras.metrics"),
        ("optimizers", optimizers, optimizers.Optimizer, "keras.optimizers"),
        ("schedules", schedules, schedules.LearningRateSchedule, "keras.optimizers.schedules"),
        ("initializers", initializers, initializers.Initializer, "keras.initializers"),
        ("regularizers", regularizers, regularizers.Regularizer, "keras.regularizers"),
        ("constraints", constraints, constraints.Constraint, "keras.constraints"),
        ("dtype_policies", dtype_policies, dtype_policies.DTypePolicy, "keras"),
    )
    for category, module, base, public_module in class_specs:
        table = {}
        candidates = list(vars(module).items()) + list(getattr(module, "ALL_OBJECTS_DICT", {}).items())
        for name, obj in candidates:
            if name.startswith("_") or not inspect.isclass(obj) or not issubclass(obj, base):
                continue
            if obj.__module__.startswith("cornu.") and (category != "layers" or not issubclass(obj, models.Model)):
                table.setdefault(name, obj)
        t.classes[category] = table
        for name, obj in table.items():
            if name == obj.__name__:
                t.public_class.setdefault(obj, (public_module, name))
    t.public_class[models.Functional] = ("keras.src.models.functional", "Functional")
    for module_name, class_names in _APPLICATION_LAYERS.items():
        module = importlib.import_module(f"cornu.applications.{module_name}")
        table = t.classes.setdefault(f"applications.{module_name}", {})
        for class_name in class_names:
            table[class_name] = getattr(module, class_name)
            t.public_class[table[class_name]] = (f"keras.src.applications.{module_name}", class_name)
    t.public_class[dtype_policies.DTypePolicyMap] = ("keras.dtype_policies", "DTypePolicyMap")

    function_specs = (
        ("activations", activations, "keras.activations"),
        ("losses", losses, "keras.losses"),
        ("metrics", metrics, "keras.metrics"),
        ("ops", ops, "keras.ops"),
    )
    for category, module, public_module in function_specs:
        candidates = dict(getattr(module, "ALL_OBJECTS_DICT", {}))
        if category in ("metrics", "ops"):
            candidates.update(vars(module))
        table = {name: obj for name, obj in candidates.items()
                 if not name.startswith("_") and name not in _NOT_FUNCTIONS and inspect.isfunction(obj)
                 and obj.__module__.startswith("cornu.")}
        t.functions[category] = table
        for name, obj in table.items():
            if name == obj.__name__:
                t.public_function.setdefault(obj, (public_module, name))
    return t


def _category(module: str | None) -> str | None:
    """Which table a config's ``module`` points at: a category, "top", "any", or None (foreign module)."""
    if module is None or module == "builtins":
        return "any"
    parts = module.split(".")
    if parts[0] not in ("keras", "cornu", "tf_keras"):
        return None
    rest = parts[1:]
    if rest[:1] == ["src"]:
        rest = rest[1:]
    if not rest:
        return "top"
    if rest[0] == "optimizers" and "schedules" in rest:
        return "schedules"
    if rest[0] in ("models", "engine"):
        return "models"
    if rest[0] == "applications":
        return f"applications.{rest[1]}" if len(rest) == 2 and rest[1] in _APPLICATION_LAYERS else "any"
    if rest[0] in _CLASS_ORDER or rest[0] in _FUNCTION_ORDER:
        return rest[0]
    return "any"


def builtin_class(module: str | None, class_name: str) -> type | None:
    """The cornu built-in class ``class_name`` of the family named by ``module``, if any."""
    category = _category(module)
    if category is None:
        return None
    classes = _tables().classes
    order = {"any": _CLASS_ORDER, "top": ("models", "layers", "dtype_policies")}.get(category, (category,))
    for c in order:
        obj = classes.get(c, {}).get(class_name)
        if obj is not None:
            return obj
    return None


def builtin_function(module: str | None, name: str) -> Any:
    """The cornu built-in function ``name`` (activation, loss, metric or op) named by ``module``, if any."""
    category = _category(module)
    if category is None:
        return None
    functions = _tables().functions
    order = _FUNCTION_ORDER if category in ("any", "top") else (category,)
    for c in order:
        obj = functions.get(c, {}).get(name)
        if obj is not None:
            return obj
    return None


def public_function_name(fn: Any) -> tuple[str, str] | None:
    """``(module, name)`` under which Keras exports the cornu built-in ``fn``, if it is one."""
    return _tables().public_function.get(fn)


# ---------------------------------------------------------------- serialize
def serialize_keras_object(obj: Any) -> Any:
    """A JSON-compatible config of ``obj`` that ``deserialize_keras_object`` turns back into it."""
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    special = _serialize_special(obj)
    if special is not None:
        return special
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        from cornu.saving.lambda_serialization import serialize_function

        return serialize_function(obj, lambda_format="value")
    if inspect.isclass(obj):
        return get_registered_name(obj)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r} of type {type(obj).__name__}: to be serializable, a class "
                        "must implement `get_config()`.")
    inner = obj.get_config()
    if not isinstance(inner, dict):
        raise TypeError(f"`{type(obj).__name__}.get_config()` must return a dict; it returned {inner!r:.200}.")
    cls = type(obj)
    public = _tables().public_class.get(cls)
    if public is not None:
        module, class_name = public
        registered = class_name if class_name == "Functional" or module.startswith("keras.src.applications.") \
            else None
    else:
        module, class_name, registered = cls.__module__, cls.__name__, get_registered_name(cls)
    config = {"module": module, "class_name": class_name, "config": serialize_keras_object(inner),
              "registered_name": registered}
    build_config = obj.get_build_config() if callable(getattr(obj, "get_build_config", None)) else None
    if build_config is not None and not (public is not None and class_name in _BUILT_AT_INIT):
        config["build_config"] = serialize_keras_object(build_config)
    if callable(getattr(obj, "get_compile_config", None)):
        compile_config = get_compile_config(obj)
        if compile_config is None and not getattr(obj, "compiled", False):
            compile_config = {}  # Keras writes an empty compile_config for a model that was never compiled
        if compile_config is not None:
            config["compile_config"] = compile_config
    return config


def _serialize_special(obj: Any) -> dict | Any | None:
    from cornu.symbolic import KerasTensor

    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {
            "start": serialize_keras_object(obj.start), "stop": serialize_keras_object(obj.stop),
            "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, KerasTensor):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(obj.shape), "dtype": obj.dtype, "keras_history": None}}
    if isinstance(obj, torch.dtype):
        from cornu import config

        return config.standardize_dtype(obj)
    if isinstance(obj, torch.Tensor):
        from cornu import config

        return {"class_name": "__tensor__", "config": {"value": obj.detach().cpu().tolist(),
                                                        "dtype": config.standardize_dtype(obj.dtype)}}
    if isinstance(obj, (np.ndarray, np.generic)):
        if isinstance(obj, np.ndarray) and obj.ndim > 0:
            return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": str(obj.dtype)}}
        return obj.item()
    return None


# -------------------------------------------------------------- deserialize
def deserialize_keras_object(config: Any, custom_objects: dict | None = None, safe_mode: bool = True,
                             module_objects: dict | None = None) -> Any:
    """Rebuild the object described by ``config`` (the output of ``serialize_keras_object``).

    ``safe_mode=True`` (the default) refuses to load Python bytecode (lambdas);
    an enclosing ``SafeModeScope`` or ``enable_unsafe_deserialization()`` overrides it.
    """
    safe = effective_safe_mode(safe_mode)
    custom_objects = dict(custom_objects or {})
    if config is None:
        return None
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects, module_objects)
        return config if found is None else found
    if isinstance(config, PLAIN_TYPES):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom_objects, safe, module_objects) for x in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config of type {type(config).__name__}: {config!r:.200}")
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects, safe, module_objects) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config["config"]
    if not isinstance(class_name, str):
        raise TypeError(f"`class_name` must be a string. Received: class_name={class_name!r:.100}")
    if class_name.startswith("__") and class_name.endswith("__"):
        return _deserialize_special(class_name, inner, custom_objects, safe)
    module = config.get("module")
    registered_name = config.get("registered_name")
    for key, value in (("module", module), ("registered_name", registered_name)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"`{key}` of {class_name!r} must be a string or None. Received: {key}={value!r:.100}")
    if class_name == "function":
        return resolve_function(inner, registered_name, module, custom_objects, safe, module_objects)
    cls = resolve_class(class_name, registered_name, module, custom_objects, module_objects)
    if not inspect.isclass(cls):
        if callable(cls):
            return cls
        raise TypeError(f"{class_name!r} resolved to {cls!r}, which is neither a class nor a function.")
    if not hasattr(cls, "from_config"):
        raise TypeError(f"Cannot rebuild {class_name!r}: class {cls.__name__} has no `from_config()` method.")
    with CustomObjectScope(custom_objects), SafeModeScope(safe):
        instance = _from_config(cls, inner if inner is not None else {}, custom_objects, safe)
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True) and hasattr(instance, "build_from_config"):
            instance.build_from_config(build_config)
            instance.built = True
        compile_config = config.get("compile_config")
        if compile_config and callable(getattr(instance, "compile", None)):
            compile_from_config(instance, compile_config)
    return instance


def _deserialize_special(class_name: str, inner: Any, custom_objects: dict, safe: bool) -> Any:
    from cornu import config as cornu_config
    from cornu.symbolic import KerasTensor

    if class_name == "__lambda__":
        from cornu.saving.lambda_serialization import deserialize_function

        return deserialize_function({"class_name": class_name, "config": inner}, safe_mode=safe)
    if not isinstance(inner, dict):
        raise TypeError(f"The config of a {class_name!r} entry must be a dict. Received: {inner!r:.200}")
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=np.dtype(inner["dtype"]))
    if class_name == "__tensor__":
        return torch.as_tensor(inner["value"], dtype=cornu_config.torch_dtype(inner["dtype"]),
                               device=cornu_config.device())
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        parts = [deserialize_keras_object(inner.get(k), custom_objects, safe) for k in ("start", "stop", "step")]
        return slice(*parts)
    if class_name == "__tuple__":
        return tuple(deserialize_keras_object(v, custom_objects, safe) for v in inner["value"])
    if class_name == "__keras_tensor__":
        return KerasTensor(inner["shape"], dtype=inner["dtype"])
    raise UnresolvedObjectError(f"Unknown special object type {class_name!r} in config.")


def _from_config(cls: type, inner: Any, custom_objects: dict, safe: bool) -> Any:
    from cornu.layers.layer import Layer
    from cornu.models.functional import Functional
    from cornu.models.model import Model

    if issubclass(cls, Model) and isinstance(inner, dict) and "output_layers" in inner \
            and getattr(cls.from_config, "__func__", None) in (Model.from_config.__func__,
                                                               Functional.from_config.__func__):
        from cornu.saving.functional_config import functional_from_config

        return functional_from_config(inner, custom_objects=custom_objects,
                                      cls=cls if issubclass(cls, Functional) else Functional)
    if issubclass(cls, Layer) and isinstance(inner, dict):
        inner = _keras_layer_config(cls, inner)
    params = inspect.signature(cls.from_config).parameters
    kwargs = {}
    if "custom_objects" in params:
        kwargs["custom_objects"] = custom_objects
    if "safe_mode" in params:
        kwargs["safe_mode"] = safe
    try:
        return cls.from_config(inner, **kwargs)
    except UnresolvedObjectError:
        raise
    except TypeError as e:
        if getattr(e, "_explained", False):
            raise  # a nested object's failure, already explained: do not wrap it once per nesting level
        error = TypeError(
            f"{cls.__name__}.from_config() could not rebuild the object from its config: {e}. For a custom "
            f"class, `get_config()` must return every constructor argument, and nested objects (layers, "
            f"...) must be deserialized in `from_config()`. Config: {inner!r:.300}")
        error._explained = True
        raise error from e


_LAYER_BASE_ARGS = {"input_shape", "batch_input_shape", "input_dim", "batch_size"}


def _keras_layer_config(cls: type, inner: dict) -> dict:
    """Adapt a Keras-written config of a cornu built-in layer: arguments cornu does not take are dropped when
    they hold their inactive default (None/False). A ``dtype`` stays as written: layers take a policy's
    config dict (Keras's form) as well as a plain dtype name (older files)."""
    from cornu.layers.layer import Layer

    if not cls.__module__.startswith("cornu.") or cls.from_config.__func__ is not Layer.from_config.__func__:
        return inner
    accepted = set(_LAYER_BASE_ARGS)
    for klass in cls.__mro__:
        if klass is object or "__init__" not in vars(klass):
            continue
        accepted |= {n for n, p in inspect.signature(klass.__init__).parameters.items()
                     if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return {k: v for k, v in inner.items() if k in accepted or (v is not None and v is not False)}


def resolve_class(class_name: str, registered_name: str | None, module: str | None,
                  custom_objects: dict | None = None, module_objects: dict | None = None) -> Any:
    """The class a config names: user-provided objects first, then cornu's built-ins; never an import."""
    for key in dict.fromkeys((registered_name, class_name)):
        found = get_registered_object(key, custom_objects, module_objects)
        if found is not None:
            return found
    found = builtin_class(module, class_name)
    if found is not None:
        return found
    raise UnresolvedObjectError(
        f"Could not locate class {class_name!r} (module={module!r}, registered_name={registered_name!r}). "
        f"If it is a custom class, pass it when loading (`custom_objects={{{class_name!r}: {class_name}}}`) or "
        "decorate it with `@keras.saving.register_keras_serializable()` and import it before loading. "
        "cornu never imports the modules named in a saved config.")


def resolve_function(name: Any, registered_name: str | None, module: str | None,
                     custom_objects: dict | None = None, safe_mode: bool = True,
                     module_objects: dict | None = None) -> Any:
    """The function a config names; its module is imported only when ``safe_mode`` is False."""
    if not isinstance(name, str):
        raise TypeError(f"A function config must name the function with a string. Received: {name!r:.100}")
    for key in dict.fromkeys((registered_name, name)):
        found = get_registered_object(key, custom_objects, module_objects)
        if found is not None:
            return found
    found = builtin_function(module, name)
    if found is not None:
        return found
    if not safe_mode and module:
        return _import_function(module, name)
    raise UnresolvedObjectError(
        f"Could not locate function {name!r} (module={module!r}, registered_name={registered_name!r}). Pass it "
        f"when loading (`custom_objects={{{name!r}: {name}}}`) or decorate it with "
        "`@keras.saving.register_keras_serializable()`. Only if you trust the file, `safe_mode=False` lets "
        f"cornu import module {module!r} to find it.")


def _import_function(module: str, qualname: str) -> Any:
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as e:
        raise UnresolvedObjectError(f"Could not import module {module!r} to find function {qualname!r}: {e}") from e
    for part in qualname.split("."):
        if not part or part.startswith("__"):
            raise UnresolvedObjectError(f"Refusing to resolve function name {qualname!r} in module {module!r}.")
        obj = getattr(obj, part, None)
    if not callable(obj):
        raise UnresolvedObjectError(f"Module {module!r} has no function {qualname!r}.")
    return obj


# ---------------------------------------------------------- compile config
def get_compile_config(model: Any) -> dict | None:
    """What a saved model's ``compile_config`` holds: ``model.get_compile_config()``; None when not compiled."""
    if not getattr(model, "compiled", False) or not hasattr(model, "_compile_metrics"):
        return None
    own = getattr(model, "get_compile_config", None)
    config = own() if callable(own) else default_compile_config(model)
    return serialize_keras_object(config) or None


def default_compile_config(model: Any) -> dict:
    """Keras's ``compile_config`` of a compiled trainer: the ``compile`` arguments, serialized; ``{}`` when not
    compiled."""
    if not getattr(model, "compiled", False) or not hasattr(model, "_compile_metrics"):
        return {}
    metrics = model._compile_metrics
    compile_loss = getattr(model, "_compile_loss", None)
    names = list(metrics.output_names) if metrics is not None else []

    def unprefixed(name: str, spec: Any) -> Any:
        # A built multi-output CompileMetrics renamed the user's metric objects "<output>_<name>";
        # save the original name so that re-compiling does not prefix it twice.
        items = spec if isinstance(spec, (list, tuple)) else [spec]
        out = []
        for item in items:
            item = serialize_keras_object(item)
            if isinstance(item, dict) and isinstance(item.get("config"), dict) \
                    and str(item["config"].get("name", "")).startswith(f"{name}_"):
                item = {**item, "config": {**item["config"], "name": item["config"]["name"][len(name) + 1:]}}
            out.append(item)
        return out if isinstance(spec, (list, tuple)) else out[0]

    def fold(specs: list | None) -> Any:
        if not specs or all(s is None for s in specs):
            return None
        if len(specs) == 1:
            return specs[0]
        if metrics.built:
            return {n: unprefixed(n, s) for n, s in zip(names, specs) if s is not None}
        return {n: s for n, s in zip(names, specs) if s is not None}

    return {
        "optimizer": serialize_keras_object(model.optimizer),
        "loss": serialize_keras_object(model.loss),
        "loss_weights": _loss_weights(model, compile_loss, names),
        "metrics": serialize_keras_object(fold(metrics._specs) if metrics is not None else None),
        "weighted_metrics": serialize_keras_object(fold(metrics._wspecs) if metrics is not None else None),
        "run_eagerly": bool(getattr(model, "_run_eagerly", False)),
        "steps_per_execution": 1,
        "jit_compile": bool(getattr(model, "_jit_compile", False)),
    }


def _loss_weights(model: Any, compile_loss: Any, names: list[str]) -> Any:
    """``loss_weights`` as given to ``compile`` (Keras saves the user's structure): the recorded argument when
    the trainer keeps it; otherwise rebuilt from the per-output weights, keyed by output when ``loss`` is a dict."""
    if hasattr(model, "_compile_loss_weights"):
        return serialize_keras_object(model._compile_loss_weights)
    weights = list(compile_loss.loss_weights) if compile_loss is not None else []
    names = list(getattr(compile_loss, "output_names", None) or names)
    if all(w == 1.0 for w in weights):
        return None
    if len(weights) == 1:
        return weights[0]
    if isinstance(model.loss, dict) and len(names) == len(weights):
        return dict(zip(names, weights))
    return weights


def compile_from_config(model: Any, config: dict) -> None:
    """Re-``compile`` ``model`` from a ``compile_config`` (through ``model.compile_from_config`` when it has one)."""
    own = getattr(model, "compile_from_config", None)
    if callable(own):
        own(config)
        return
    default_compile_from_config(model, config)


def default_compile_from_config(model: Any, config: dict) -> None:
    """``model.compile(**arguments)`` with the arguments of a ``compile_config`` deserialized."""
    if not isinstance(config, dict):
        raise TypeError(f"`compile_config` must be a dict. Received: {config!r:.200}")
    accepted = inspect.signature(model.compile).parameters
    kwargs = {key: deserialize_keras_object(value) for key, value in config.items() if key in accepted}
    model.compile(**kwargs)
