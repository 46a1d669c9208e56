"""docs/hooks.md covers the whole SDK surface, and every hook is exercised by some test.

A hook, an event name or a service protocol added to the SDK without its section in
docs/hooks.md fails here (Datasette keeps its plugin hooks honest the same way). That each
event fires, in the order documented, is ``tests/test_event_order.py``'s job; that each hook
runs is checked here by finding, in the test sources and in the doc examples that
``tests/test_docs_examples.py`` runs, a ``hookimpl`` named after it or a call to it.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import re
import textwrap
from pathlib import Path

import pytest
from pbk_sdk import events, hookspecs, interfaces

ROOT = Path(__file__).parents[1]
HOOKS_DOC = ROOT / "docs" / "hooks.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
EXECUTED_EXAMPLE = re.compile(r"<!-- example: (?:plugin|shell|pytest)\b[^>]*-->\n```python\n(.*?)^```", re.DOTALL | re.MULTILINE)

HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("pbk_"))
EVENT_NAMES = sorted(
    value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)
)
#: The protocol behind each typed service kind (``FILE_STORAGE: ServiceKind[FileStorage]``).
EVENT_CLASSES = sorted(
    name for name, value in vars(events).items()
    if inspect.isclass(value) and issubclass(value, events.Event) and dataclasses.is_dataclass(value)
)
SERVICE_PROTOCOLS = sorted(
    match[1]
    for annotation in vars(interfaces)["__annotations__"].values()
    if (match := re.fullmatch(r"ServiceKind\[(\w+)\]", str(annotation)))
)


def headings() -> set[str]:
    return {line for line in HOOKS_DOC.read_text().splitlines() if line.startswith("#")}


def test_every_service_kind_is_found():
    """The protocols come from the annotations, so a renamed annotation style must not empty them."""
    assert len(SERVICE_PROTOCOLS) == len(hookspecs.SERVICE_HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_with_its_arguments(hook):
    arguments = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    heading = f"### `{hook}({arguments})"
    assert any(h.startswith(heading) for h in headings()), f"docs/hooks.md has no '{heading} ...`'"


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_event_has_a_section(name):
    assert f"### `{name}`" in headings(), f"docs/hooks.md has no '### `{name}`'"


@pytest.mark.parametrize("name", EVENT_CLASSES)
def test_every_event_class_is_shown_with_all_its_fields(name):
    fields = ", ".join(f.name for f in dataclasses.fields(getattr(events, name)))
    text = " ".join(HOOKS_DOC.read_text().split())
    assert f"`{name}({fields})`" in text, f"docs/hooks.md does not show `{name}({fields})`"


@pytest.mark.parametrize("protocol", SERVICE_PROTOCOLS)
def test_every_service_protocol_has_a_section(protocol):
    assert f"### `{protocol}`" in headings(), f"docs/hooks.md has no '### `{protocol}`'"


def section(heading: str) -> str:
    """The text under ``heading`` in docs/hooks.md, up to the next heading of any level."""
    text = HOOKS_DOC.read_text()
    start = text.index(heading + "\n")
    end = text.find("\n#", start + len(heading))
    return text[start : end if end != -1 else None]


def members(protocol: type) -> list[str]:
    """The public methods and attributes a protocol declares."""
    declared = [*vars(protocol).get("__annotations__", {}), *vars(protocol)]
    return sorted({name for name in declared if not name.startswith("_")})


def described(name: str, text: str) -> bool:
    """``name`` is shown as `` `name` `` or `` `name(...`` (after ``async``/``await`` or not),
    so ``find`` is not taken as described by `` `find_all` ``."""
    return any(f"`{prefix}{name}{end}" in text for prefix in ("", "async ", "await ") for end in ("`", "("))


@pytest.mark.parametrize("protocol", SERVICE_PROTOCOLS)
def test_every_service_method_is_described(protocol):
    text = section(f"### `{protocol}`")
    missing = [name for name in members(getattr(interfaces, protocol)) if not described(name, text)]
    assert not missing, f"docs/hooks.md's {protocol} section does not describe {missing}"


def test_every_cluster_member_is_described():
    text = section("### Services under several workers")
    missing = [name for name in members(interfaces.Cluster) if not described(name, text)]
    assert not missing, f"docs/hooks.md does not describe app.cluster's {missing}"


def test_the_plugin_info_fields_are_documented():
    text = HOOKS_DOC.read_text()
    for field in interfaces.PluginInfo.__dataclass_fields__:
        assert f"- `{field}`:" in text, f"PluginInfo.{field} is not described in docs/hooks.md"


def test_every_app_attribute_is_documented():
    text = HOOKS_DOC.read_text()
    attributes = [*vars(interfaces.App)["__annotations__"], "data_dir"]
    missing = [name for name in attributes if f"`app.{name}`" not in text]
    assert not missing, f"docs/hooks.md does not say what app.{missing[0]} is"


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but ``-`` and ``_`` dropped."""
    return re.sub(r"[^\w\- ]", "", heading.lstrip("#").strip().lower()).replace(" ", "-")


DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "plugin-sdk" / "README.md"]
LINK = re.compile(r"\]\(([\w./-]*\.md)?(?:#([\w-]+))?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_links_between_docs_resolve(doc):
    for target, fragment in LINK.findall(doc.read_text()):
        linked = (doc.parent / target).resolve() if target else doc
        assert linked.is_file(), f"{doc.name} links to {target}, which does not exist"
        if fragment:
            anchors = {anchor(line) for line in linked.read_text().splitlines() if line.startswith("#")}
            assert fragment in anchors, f"{doc.name} links to {target}#{fragment}, which is no heading"


def parsed(source: str) -> ast.Module | None:
    try:
        tree = compile(source, "<source>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return None
    assert isinstance(tree, ast.Module)
    return tree


def is_hookimpl(decorator: ast.expr) -> bool:
    """``@hookimpl``, ``@pbk_sdk.hookimpl`` or either called (``@hookimpl(tryfirst=True)``)."""
    if isinstance(decorator, ast.Call):
        decorator = decorator.func
    return (isinstance(decorator, ast.Name) and decorator.id == "hookimpl") or (
        isinstance(decorator, ast.Attribute) and decorator.attr == "hookimpl"
    )


#: Stands for the hook name a test's f-string plugin template puts after ``def``.
TEMPLATED = "templated_hook"


def templates_a_hookimpl(node: ast.JoinedStr) -> bool:
    """An f-string plugin source whose ``hookimpl`` is named by a replacement field."""
    source = "".join(
        part.value if isinstance(part, ast.Constant) else TEMPLATED for part in node.values
    ).replace("{{", "{").replace("}}", "}")
    tree = parsed(textwrap.dedent(source))
    return tree is not None and TEMPLATED in hooks_used(tree)


def parametrized_hooks(test: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """The hooks a test parametrized over hook names implements through an f-string plugin."""
    names = {
        c.value for d in test.decorator_list if isinstance(d, ast.Call)
        and isinstance(d.func, ast.Attribute) and d.func.attr == "parametrize"
        for c in ast.walk(d) if isinstance(c, ast.Constant) and str(c.value).startswith("pbk_")
    }
    if names and any(isinstance(n, ast.JoinedStr) and templates_a_hookimpl(n) for n in ast.walk(test)):
        return names
    return set()


def hooks_used(tree: ast.Module) -> set[str]:
    """The hooks ``tree`` implements (a function named after the hook, decorated with
    ``hookimpl``) or calls (``<...>.hook.<name>(`` or ``call_hook("<name>"``). Python source
    in a string (a plugin a test writes to a file) counts too, as does an f-string plugin in a
    test parametrized over hook names."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if any(is_hookimpl(d) for d in node.decorator_list):
                found.add(node.name)
            found |= parametrized_hooks(node)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) and func.value.attr == "hook":
                found.add(func.attr)
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if called == "call_hook" and node.args and isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "hook" in node.value:
            inner = parsed(textwrap.dedent(node.value))
            if inner is not None:
                found |= hooks_used(inner)
    return found


@functools.cache
def exercised_hooks() -> set[str]:
    """The hooks the test sources and the doc examples the test suite runs implement or call."""
    tests = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]
    docs = [*ROOT.glob("docs/*.md"), ROOT / "README.md"]
    sources = [path.read_text() for path in tests if path != Path(__file__)]
    sources += [block for path in docs for block in EXECUTED_EXAMPLE.findall(path.read_text())]
    trees = [tree for source in sources if (tree := parsed(source)) is not None]
    return set().union(*(hooks_used(tree) for tree in trees))


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook):
    assert hook in exercised_hooks(), f"no test (nor doc example the tests run) implements or calls {hook}"


def test_architecture_points_to_the_reference():
    text = ARCHITECTURE.read_text()
    assert "(hooks.md#hooks)" in text and "(hooks.md#events)" in text
