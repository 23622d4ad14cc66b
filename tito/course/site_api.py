"""The website's API reference: one Markdown page per module, generated from docstrings.

Docstrings in ``tinytorch`` are written in reStructuredText (````code````, ``::`` blocks,
``>>>`` examples). Each is rendered as reStructuredText when docutils reads it without a
complaint, and shown verbatim otherwise, so that one loose docstring never fails a build
that runs with warnings as errors::

    text = api_page("tinytorch.optim")     # "# `tinytorch.optim`\\n\\n..."
"""

from __future__ import annotations

import ast
import importlib
import inspect
from typing import Any

WIDTH = 88  # a longer signature gets one parameter per line


def public_objects(module_name: str) -> list[tuple[str, Any]]:
    """The public classes and functions of a module: its ``__all__``, else every public name
    defined in tinytorch, sorted by name."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    found = []
    for name in sorted(names):
        value = getattr(module, name, None)
        defined_in = getattr(value, "__module__", "") or ""
        if callable(value) and defined_in.startswith("tinytorch"):
            found.append((name, value))
    return found


def _annotation(annotation: Any) -> str:
    """An annotation as written (annotations are strings under ``from __future__``)."""
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _parameter(parameter: inspect.Parameter) -> str:
    """``name: type = default``, with ``*``/``**`` for variadic parameters."""
    stars = {parameter.VAR_POSITIONAL: "*", parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "")
    text = stars + parameter.name
    if parameter.annotation is not parameter.empty:
        text += f": {_annotation(parameter.annotation)}"
    if parameter.default is not parameter.empty:
        equals = " = " if parameter.annotation is not parameter.empty else "="
        text += f"{equals}{parameter.default!r}"
    return text


def _parameters(signature: inspect.Signature) -> list[str]:
    """The parameters as written, with the ``/`` and ``*`` separators where they belong."""
    parameters = list(signature.parameters.values())
    written = []
    for index, parameter in enumerate(parameters):
        previous = parameters[index - 1].kind if index else None
        if parameter.kind == parameter.KEYWORD_ONLY and previous not in (
            parameter.KEYWORD_ONLY,
            parameter.VAR_POSITIONAL,
        ):
            written.append("*")
        written.append(_parameter(parameter))
        following = parameters[index + 1].kind if index + 1 < len(parameters) else None
        if parameter.kind == parameter.POSITIONAL_ONLY and following != parameter.POSITIONAL_ONLY:
            written.append("/")
    return written


def signature_block(name: str, value: Any) -> str:
    """``name(parameters) -> result`` as a code block: one parameter per line when long,
    highlighted as Python when it parses (a default shown as ``<class ...>`` does not)."""
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return f"```text\n{name}(...)\n```"
    parameters = _parameters(signature)
    result = ""
    if signature.return_annotation is not signature.empty:
        result = f" -> {_annotation(signature.return_annotation)}"
    text = f"{name}({', '.join(parameters)}){result}"
    if len(text) > WIDTH:
        text = f"{name}(\n" + "".join(f"    {p},\n" for p in parameters) + f"){result}"
    try:
        ast.parse(f"def f({', '.join(parameters)}){result}: ...")
    except SyntaxError:
        return f"```text\n{text}\n```"
    return f"```python\n{text}\n```"


def is_clean_rst(text: str) -> bool:
    """Whether docutils reads ``text`` without a warning and finds no section title in it
    (a title is not allowed inside a page's entry)."""
    from docutils import nodes
    from docutils.core import publish_doctree
    from docutils.utils import SystemMessage

    settings = {"report_level": 5, "halt_level": 2, "warning_stream": False}
    try:
        tree = publish_doctree(text, settings_overrides=settings)
    except SystemMessage:
        return False
    return next(tree.findall(nodes.section), None) is None


def docstring_block(value: Any) -> str:
    """The docstring: reStructuredText where it is clean, else verbatim text."""
    text = inspect.getdoc(value) or "(no docstring)"
    if is_clean_rst(text):
        return "```{eval-rst}\n" + text + "\n```"
    return f"````text\n{text}\n````"


def api_entry(name: str, value: Any) -> str:
    """The Markdown of one class (with its documented public methods) or function."""
    kind = "class" if inspect.isclass(value) else "function"
    parts = [f"## `{name}`", f"*{kind}*", signature_block(name, value), docstring_block(value)]
    if inspect.isclass(value):
        for method, member in sorted(vars(value).items()):
            if method.startswith("_") or not callable(member) or not inspect.getdoc(member):
                continue
            parts += [f"**`{name}.{method}`**", signature_block(method, member)]
            parts.append(docstring_block(member))
    return "\n\n".join(parts)


def api_page(module_name: str) -> str:
    """The Markdown page of ``module_name``: its docstring, then one entry per object."""
    module = importlib.import_module(module_name)
    entries = [api_entry(name, value) for name, value in public_objects(module_name)]
    return "\n\n".join([f"# `{module_name}`", docstring_block(module), *entries]) + "\n"
