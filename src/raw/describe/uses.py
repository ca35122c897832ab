"""Which integrations code uses, read from its source with ``ast`` (nothing is run).

An integration is used where code calls a method of ``<something>.email``,
``.telephony``, ``.storage`` or ``.chat`` (``for_project(root).email.send(...)``,
``self.integrations.chat.notify_sync(...)``). A function uses what it calls
directly and what the functions it calls use, followed through the project's own
modules (``from hiring import outbound`` ... ``outbound.email(...)``), so an
activity that sends mail through a helper module is known to use email.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["INTEGRATION_KINDS", "ModuleUses", "UsesReader", "strings_in"]

INTEGRATION_KINDS = ("email", "telephony", "storage", "chat")

_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _direct(node: ast.AST) -> set[str]:
    """Integration kinds whose methods are called anywhere under ``node``."""
    found: set[str] = set()
    for child in ast.walk(node):
        if not isinstance(child, ast.Call) or not isinstance(child.func, ast.Attribute):
            continue
        owner = child.func.value
        if isinstance(owner, ast.Attribute) and owner.attr in INTEGRATION_KINDS:
            found.add(owner.attr)
    return found


def _is_activity(function: _Function) -> str | None:
    """The activity name of an ``@activity.defn`` function (its ``name=`` or its own)."""
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if not (isinstance(target, ast.Attribute) and target.attr == "defn"):
            continue
        if not (isinstance(target.value, ast.Name) and target.value.id == "activity"):
            continue
        for keyword in call.keywords if call is not None else []:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        return function.name
    return None


class ModuleUses:
    """One module: its top-level functions, what it imports, what it uses."""

    def __init__(self, name: str, tree: ast.Module) -> None:
        self.name = name
        self.tree = tree
        self.functions: dict[str, _Function] = {
            n.name: n for n in tree.body if isinstance(n, _Function)
        }
        self.imports: dict[str, tuple[str, str | None]] = {}
        """Local name -> (module, attribute or None for the module itself)."""
        package = name.rpartition(".")[0]
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    target = alias.name if alias.asname else alias.name.split(".")[0]
                    self.imports[local] = (target, None)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".") if package else []
                    parts = parts[: len(parts) - node.level + 1] if node.level > 1 else parts
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (base, alias.name)


class UsesReader:
    """Reads modules on demand (``locate`` finds a module's file, None outside the project)."""

    def __init__(self, locate: Callable[[str], Path | None]) -> None:
        self._locate = locate
        self._modules: dict[str, ModuleUses | None] = {}
        self._memo: dict[tuple[str, str], set[str]] = {}

    def module(self, name: str) -> ModuleUses | None:
        if name not in self._modules:
            path = self._locate(name)
            loaded = None
            if path is not None:
                try:
                    loaded = ModuleUses(name, ast.parse(path.read_text(encoding="utf-8")))
                except (OSError, SyntaxError, ValueError):
                    loaded = None
            self._modules[name] = loaded
        return self._modules[name]

    def function_uses(self, module: ModuleUses, function: str) -> set[str]:
        """What ``module.function`` uses, through the calls it makes inside the project."""
        key = (module.name, function)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = set()  # a recursion's second visit adds nothing
        node = module.functions.get(function)
        if node is None:
            return set()
        found = _direct(node)
        for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
            target = self._callee(module, call.func)
            if target is not None:
                found |= self.function_uses(*target)
        self._memo[key] = found
        return found

    def _callee(self, module: ModuleUses, func: ast.expr) -> tuple[ModuleUses, str] | None:
        if isinstance(func, ast.Name):
            if func.id in module.functions:
                return module, func.id
            imported = module.imports.get(func.id)
            if imported is not None and imported[1] is not None:
                other = self.module(imported[0])
                return (other, imported[1]) if other is not None else None
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            imported = module.imports.get(func.value.id)
            if imported is None:
                return None
            base, attr = imported
            other = self.module(f"{base}.{attr}" if attr else base)
            return (other, func.attr) if other is not None else None
        return None

    def activities(self, module_name: str) -> dict[str, set[str]]:
        """Activity name -> integrations it uses, for each ``@activity.defn`` of a module."""
        module = self.module(module_name)
        if module is None:
            return {}
        found: dict[str, set[str]] = {}
        for function in module.functions:
            name = _is_activity(module.functions[function])
            if name is not None:
                found[name] = self.function_uses(module, function)
        return found

    def module_uses(self, path: Path) -> set[str]:
        """Integrations a whole file uses (a RAW workflow's ``run.py``), directly."""
        try:
            return _direct(ast.parse(path.read_text(encoding="utf-8")))
        except (OSError, SyntaxError, ValueError):
            return set()


def strings_in(tree: ast.AST, wanted: Iterable[str]) -> set[str]:
    """The ``wanted`` strings that appear as literals under ``tree``."""
    names = set(wanted)
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    }
