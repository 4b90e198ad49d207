"""The numeric core is numpy-only: importing cnnlab must not pull in the heavy layers."""
import subprocess
import sys

HEAVY = ("matplotlib", "ipywidgets", "torch", "scipy", "IPython", "nbgrader")


def _heavy_after(imports):
    """The heavy modules a fresh interpreter has loaded after ``import <imports>``."""
    code = f"import sys, {imports}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_cnnlab_is_numpy_only():
    heavy = _heavy_after("cnnlab")
    assert heavy == "", f"import cnnlab imported: {heavy}"


def test_geometry_is_numpy_only():
    """The computation the pictures show loads no drawing, widget or torch layer."""
    heavy = _heavy_after("cnnlab.geometry, cnnlab.shapes, cnnlab.audio")
    assert heavy == "", f"import cnnlab.geometry imported: {heavy}"


def test_views_import_their_computation_from_the_core():
    """viz and widgets draw what the core computes; the old names keep working."""
    import cnnlab
    from cnnlab import audio, geometry, systems, viz
    from cnnlab.viz import conv as vconv, signals as vsig
    from cnnlab.widgets import pooling

    assert viz.ConvGeometry is vconv.ConvGeometry is geometry.ConvGeometry
    assert viz.conv_geometry is geometry.conv_geometry
    assert systems.translate is geometry.translate
    assert vsig.spectrum_db is audio.spectrum_db and vsig.frequency_response_db is audio.frequency_response_db
    assert geometry.resolve_padding is cnnlab.resolve_padding is cnnlab.shapes.resolve_padding
    assert pooling.translate is geometry.translate


def test_core_names_are_public():
    import cnnlab

    for name in (
        "convolve", "correlate", "conv_matrix", "poly_multiply", "conv_output_size",
        "same_padding", "resolve_padding", "conv1d", "conv2d", "conv2d_matrix", "max_pool1d", "max_pool2d",
        "avg_pool1d", "avg_pool2d", "receptive_field", "pmf_of_sum", "kernels",
    ):
        assert hasattr(cnnlab, name), name


# -- no import circles ------------------------------------------------------------------------
def _module_level_imports(tree):
    """Import statements that run when the module is imported: at top level, or inside a
    top-level if/try/with (not inside a function or class body, which run later)."""
    import ast

    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(node, field, None) or [])


def import_graph(root=None) -> dict:
    """``{module: set of cnnlab modules it imports at module level}`` for every module of the
    package, built from the source with ``ast`` (nothing is imported).

    ``from .x import y`` counts as an import of ``x.y`` when that is a module, else of ``x``.
    """
    import ast
    import pathlib

    root = pathlib.Path(root or pathlib.Path(__file__).resolve().parents[1] / "cnnlab")
    modules = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    graph = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        edges = set()
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    edges.add(sub)
                elif target in modules:
                    edges.add(target)
        graph[name] = edges - {name}
    return graph


def find_cycle(graph):
    """One import circle as a list of modules ``[a, b, ..., a]``, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, path)
                if found:
                    return found
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [])
            if found:
                return found
    return None


def test_find_cycle_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_graph_sees_relative_imports():
    graph = import_graph()
    assert "cnnlab.nn._common" in graph["cnnlab.nn.training"]
    assert "cnnlab.nn.architectures" in graph["cnnlab.nn.models"]
    assert "cnnlab._validate" in graph["cnnlab.nn._common"]
    assert "cnnlab.nn" not in graph["cnnlab.widgets.inspect"]     # imported inside functions only


def test_no_import_cycles_in_the_package():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_nn_helpers_have_one_home():
    """The private nn toolbox lives in cnnlab/nn/_common.py: no other nn or widgets module defines
    it again (the numpy core's own ``natural._as_images`` is another thing)."""
    import ast
    import pathlib

    helpers = {"_check_model", "_device", "_model_device", "_dtype", "_eval_mode", "_sequential",
               "_count_parameters", "_as_images", "_input_errors", "_resolve_layer", "_forward_until"}
    root = pathlib.Path(__file__).resolve().parents[1] / "cnnlab"
    for path in [*root.glob("nn/*.py"), *root.glob("widgets/*.py")]:
        if path.name == "_common.py":
            continue
        defined = {n.name for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert not defined & helpers, f"{path.relative_to(root.parent)} defines {sorted(defined & helpers)} again"
