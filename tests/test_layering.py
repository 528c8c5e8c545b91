"""The layering the package is built on (docs/design.md), checked on the source with ``ast``.

- The core (io, convert, validate, registry, segment, refine, inpaint,
  pipeline) never imports a front end (cli, demo, web, batch), not even
  inside a function.
- A private name (a module or an attribute whose name starts with ``_``) is
  imported only from inside the package that holds it: ``retouch.inpaint._base``
  by ``retouch.inpaint.*``, ``_medians`` of ``retouch.segment.defects.specks``
  by ``retouch.segment.defects.*``; a private name of a module at the
  package's root (``retouch.pipeline._x``) by the core only, not by a front
  end. The training scripts and the benchmarks import only public names of
  retouch.

Tests are exempt: they test private parts on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
FRONT_ENDS = ("retouch.cli", "retouch.demo", "retouch.web", "retouch.batch")


def _module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of the module at ``path`` and whether it is a package's ``__init__``."""
    rel = path.relative_to(SRC if SRC in path.parents else ROOT).with_suffix("")
    parts = list(rel.parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str, str | None]]:
    """Every import in ``tree`` as (line, absolute module, imported name or None)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found += [(node.lineno, target, a.name) for a in node.names]
    return found


def _private_owner(target: str, name: str | None) -> str | None:
    """The package a private module or name in this import belongs to (None when all is public)."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    if name is not None and name.startswith("_") and not name.startswith("__"):
        # ``from pkg import _mod`` or ``from pkg.mod import _name``: private to pkg / mod's package
        return target if _is_package(target) else target.rpartition(".")[0]
    return None


def _is_package(name: str) -> bool:
    return (SRC.joinpath(*name.split(".")) / "__init__.py").is_file() or (ROOT.joinpath(*name.split(".")) / "__init__.py").is_file()


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _module_uses(tree: ast.AST, imports: list[tuple[int, str, str | None]]) -> list[tuple[int, str, str]]:
    """``alias._name`` where ``alias`` is a retouch module this file imported: (line, module, attribute)."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for a in node.names:
                bound[a.asname or a.name] = a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    bound[a.asname] = a.name
    modules = {}
    for _, target, name in imports:
        if name is None:
            modules[target] = target
        elif _is_module(f"{target}.{name}"):
            modules[next((k for k, v in bound.items() if v == name), name)] = f"{target}.{name}"
    return [(node.lineno, modules[node.value.id], node.attr) for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules]


def _is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """What in ``source`` (the text of ``module``) breaks the layering, one line each."""
    out = []
    core = module.startswith("retouch") and not any(_inside(module, f) for f in FRONT_ENDS)
    tree = ast.parse(source)
    imports = _imports(tree, module, is_package)
    for line, target, attr in _module_uses(tree, imports):
        if target.startswith("retouch"):
            out += _crossing(module, core, line, target, attr)
    for line, target, name in imports:
        full = f"{target}.{name}" if name and name != "*" else target
        if core and any(_inside(full, f) or _inside(target, f) for f in FRONT_ENDS):
            out.append(f"{module}:{line}: the core imports the front end {full}")
        if target.startswith("retouch"):
            out += _crossing(module, core, line, target, name)
    return out


def _crossing(module: str, core: bool, line: int, target: str, name: str | None) -> list[str]:
    """The complaint when ``module`` reaching ``target.name`` takes a private name out of its package."""
    full = f"{target}.{name}" if name and name != "*" else target
    owner = _private_owner(target, name)
    if owner is None:
        return []
    if not _inside(module, owner):
        return [f"{module}:{line}: {full} is private to {owner}"]
    if owner == "retouch" and not core:  # the root's private parts are the core's, not the front ends'
        return [f"{module}:{line}: {full} is private to the core"]
    return []


def _files() -> list[Path]:
    return sorted((SRC / "retouch").rglob("*.py")) + sorted((ROOT / "training").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))


def test_the_source_keeps_the_layering():
    files = _files()
    assert len(files) > 50 and any(f.name == "app.py" for f in files)
    found = []
    for path in files:
        module, is_package = _module_name(path)
        found += violations(path.read_text(encoding="utf-8"), module, is_package=is_package)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "module, source",
    [
        ("retouch.pipeline", "from .web import create_app"),
        ("retouch.segment.clicks", "from ..web.app import create_app"),
        ("retouch.io", "import retouch.batch"),
        ("retouch.refine", "def f():\n    from . import cli\n"),
        ("retouch.inpaint.auto", "from retouch.demo import run_demo"),
    ],
)
def test_a_core_module_importing_a_front_end_is_caught(module, source):
    assert violations(source, module)


@pytest.mark.parametrize(
    "module, source",
    [
        ("retouch.cli", "from .inpaint._base import blend"),
        ("retouch.pipeline", "from .segment.defects import _colour_float"),
        ("retouch.segment.clicks", "from .defects.specks import _medians"),
        ("retouch.web.app", "from ..pipeline import _something"),
        ("training.train_spots", "from retouch.segment.defects import trees as _t\nfrom retouch.inpaint import _base"),
        ("retouch.web.service", "from .. import registry\nregistry._REGISTRY.clear()"),
        ("retouch.cli", "from .inpaint import diffusion as d\nd._cv_inpaint"),
    ],
)
def test_a_private_name_crossing_a_package_is_caught(module, source):
    assert violations(source, module)


@pytest.mark.parametrize(
    "module, source",
    [
        ("retouch.inpaint.diffusion", "from ._base import fill\nfrom .. import registry\nfrom ..convert import to_float"),
        ("retouch.segment.defects.detectors", "from . import specks as _spots\nfrom .specks import _medians"),
        ("retouch.web.app", "from ..pipeline import DEFAULT_INPAINT\nfrom ..validate import check_points"),
        ("retouch.batch.runner", "from .worker import process\nfrom .journal import Journal"),
        ("retouch.cli", "def f():\n    from .web import create_app\n"),
        ("retouch.inpaint.auto", "from . import diffusion\ndiffusion._cv_inpaint"),
        ("retouch.pipeline", "from . import registry\nregistry.error_text"),
    ],
)
def test_allowed_imports_pass(module, source):
    assert violations(source, module) == []


def test_the_web_app_is_thin():
    """create_app and every route stay short: the work is in retouch.web.service."""
    web = SRC / "retouch" / "web"
    files = [web / "app.py", *sorted((web / "routes").glob("*.py"))]
    routes = 0
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                routes += any(isinstance(d, ast.Call) and getattr(d.func, "attr", "") in ("get", "post", "delete") for d in node.decorator_list)
                length = node.end_lineno - node.lineno + 1
                assert length <= 40, f"{path.name}: {node.name} is {length} lines"
    assert routes >= 25  # every route of the API is in these files
