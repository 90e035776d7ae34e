"""The documentation: `make docs` builds an API reference (pdoc) with a page entry for every public
name; the modules documented so far have a docstring for every public name; the README and docs
link only to files inside the repository, and those files exist."""
import importlib
import inspect
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Modules whose every public function, class, method and property has a docstring: every public
# module of autograd and nn (a new module must join the list, see the test below).
DOCUMENTED_MODULES = [
    "autograd", "autograd.tensor", "autograd.inplace", "autograd.creation", "autograd.grad_mode", "autograd.gradcheck", "autograd.threads",
    "autograd.viz", "nn.module", "nn.containers", "nn.optim.optimizer", "nn.optim.sgd", "nn.optim.adam",
    "nn.optim.rmsprop", "nn.optim.adadelta", "nn.optim.lr_scheduler", "nn.data.dataloader",
    "nn.data.dataset", "nn.serialization", "nn.summary", "nn.init",
    "autograd.ops.conv", "autograd.ops.pooling", "autograd.ops.normalization", "autograd.ops.losses",
    "autograd.ops.elementwise", "autograd.ops.activations", "autograd.ops.trigonometry", "autograd.ops.arithmetic", "autograd.ops.comparison", "autograd.ops.reduction",
    "autograd.ops.softmax", "autograd.ops.shape", "autograd.ops.indexing", "autograd.ops.joining",
    "autograd.ops.linalg", "autograd.ops.einsum", "autograd.ops.gemm", "autograd.ops.special", "autograd.ops.sorting", "autograd.ops.windows", "nn.functional",
    "nn.modules", "nn.modules.activation", "nn.modules.attention", "nn.modules.conv", "nn.modules.dropout",
    "nn.modules.embedding", "nn.modules.flatten", "nn.modules.linear", "nn.modules.loss",
    "nn.modules.normalization", "nn.modules.pooling", "nn.modules.rnn", "nn.modules.transformer",
    "nn.modules.upsampling", "nn.modules.padding", "nn.modules.lazy", "nn.modules.pixelshuffle", "nn.modules.distance", "nn.utils", "nn.utils.rnn", "nn.utils.weight_norms", "nn.utils.parametrize", "nn.utils.parametrizations",
    "autograd.autograd", "autograd.broadcasting", "autograd.cuda", "autograd.engine", "autograd.errors",
    "autograd.func", "autograd.function", "autograd.functional", "autograd.graph_report", "autograd.ops",
    "autograd.ops.workspace", "autograd.post_accumulate_grad_hooks", "autograd.saved_tensor_hooks",
    "autograd.numpy_protocol", "autograd.linalg", "autograd.sums", "autograd.ops.recurrent",
    "nn.backward_hooks", "nn.data", "nn.data.transforms", "nn.char_models", "nn.data.names", "nn.data.pypi",
    "nn.train_names", "nn.files", "nn.models", "nn.optim", "nn.optim.adagrad",
    "nn.optim.lbfgs", "nn.parameter", "nn.data.mnist", "nn.layer_statistics", "nn.train",
    "autograd.backends", "autograd.backends.cuda", "autograd.backends.cudnn", "autograd.backends.mps",
    "autograd.distributions", "autograd.amp", "nn.optim.swa_utils", "autograd.ops.decompositions",
    "nn.utils.prune", "nn.optim.rprop", "nn.optim.asgd", "nn.parallel", "autograd.testing", "autograd.utils",
    "autograd.utils.checkpoint", "autograd.random", "autograd.special", "autograd.jit", "autograd.distributed", "nn.attention", "autograd.axis_alias", "autograd.accelerator",
    "nn.data.sampler",
]

# Where users find the public API: every public function and class reachable from these.
PUBLIC_NAMESPACES = ["autograd", "nn", "nn.functional", "nn.init", "nn.optim", "nn.optim.lr_scheduler",
                     "nn.data", "nn.utils"]


def undocumented(module):
    """Public names defined in `module` (and public members of its classes) without a docstring."""
    missing = [] if (module.__doc__ or "").strip() else ["<module docstring>"]
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for member, value in vars(obj).items():
                if member.startswith("_") and member != "__call__":
                    continue
                if inspect.isfunction(value) or isinstance(value, (property, staticmethod, classmethod)):
                    if not inspect.getdoc(getattr(obj, member)):       # inherited docstrings count
                        missing.append(f"{name}.{member}")
    return missing


@pytest.mark.parametrize("name", DOCUMENTED_MODULES)
def test_every_public_name_of_a_documented_module_has_a_docstring(name):
    assert undocumented(importlib.import_module(name)) == []


def test_every_public_module_of_autograd_and_nn_is_in_the_docstring_check():
    import pkgutil
    found = []
    for package in ("autograd", "nn"):
        path = importlib.import_module(package).__path__
        found += [m.name for m in pkgutil.walk_packages(path, package + ".")
                  if not any(part.startswith("_") for part in m.name.split("."))]
    assert sorted(set(found) - set(DOCUMENTED_MODULES)) == []


def test_the_docstring_check_catches_a_missing_docstring():
    import types
    module = types.ModuleType("example", "A module.")
    exec("class Thing:\n    '''A thing.'''\n    def method(self):\n        return 1\n"
         "def helper():\n    return 2\n", module.__dict__)
    for obj in (module.Thing, module.helper):
        obj.__module__ = "example"
    assert undocumented(module) == ["Thing.method", "helper"]


def public_objects():
    """(namespace, name, object) for every public function and class of the public namespaces."""
    found = []
    for namespace in PUBLIC_NAMESPACES:
        module = importlib.import_module(namespace)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                found.append((namespace, name, obj))
    return found


@pytest.fixture(scope="module")
def api_reference(tmp_path_factory):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = tmp_path_factory.mktemp("api")
    # -o: use this interpreter as it is, rather than have the Makefile create .venv first.
    done = subprocess.run(["make", "-o", ".venv/.installed", "docs", f"PY={sys.executable}", f"DOCS_OUT={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Warn" not in done.stderr, done.stderr          # e.g. a type hint pdoc cannot resolve
    return out


def test_make_docs_gives_every_public_function_and_class_an_entry(api_reference):
    assert (api_reference / "index.html").exists()
    missing = []
    for namespace, name, obj in public_objects():
        # On its module's page, or on a parent package's page that re-exports it in `__all__`.
        parts = obj.__module__.split(".")
        pages = [api_reference / ("/".join(parts[:k]) + ".html") for k in range(len(parts), 0, -1)]
        if not any(page.exists() and f'id="{obj.__qualname__}"' in page.read_text() for page in pages):
            missing.append(f"{namespace}.{name} ({obj.__module__}.{obj.__qualname__})")
    assert missing == []


def test_api_reference_shows_tensor_methods_with_their_docstrings_and_type_hints(api_reference):
    page = (api_reference / "autograd" / "tensor.html").read_text()
    import autograd as ag
    for member in ("backward", "detach", "sum", "reshape", "grad", "requires_grad_", "numpy"):
        assert f'id="Tensor.{member}"' in page
    text = re.sub(r"<[^>]+>", "", page)
    assert "Compute the gradient of this tensor" in text and inspect.getdoc(ag.Tensor.backward).split("\n")[0] in text
    assert re.search(r"def\s+unsqueeze\(self, dim: int\) -> Tensor", text)      # hints, resolved


DOC_FILES = ["README.md", "CHANGELOG.md", *(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", DOC_FILES)
def test_docs_link_only_to_files_inside_the_repository_that_exist(path):
    text = (ROOT / path).read_text()
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        resolved = ((ROOT / path).parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{path} links outside the repository: {target}"
        assert resolved.exists(), f"{path} links to a missing file: {target}"


def test_no_docstring_or_notebook_points_outside_the_repository():
    sources = [*ROOT.glob("autograd/**/*.py"), *ROOT.glob("nn/**/*.py"), *ROOT.glob("notebooks/*.ipynb")]
    assert [str(p) for p in sources if "../shared" in p.read_text()] == []


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    assert first_block.splitlines() == [
        "make train     # set up, download MNIST, train the default model with progress bars, print test accuracy",
        "make test      # set up, run the whole test suite",
    ]
    assert text.index("```bash") < text.index("\n## ")          # before any section
