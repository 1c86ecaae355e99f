"""The tool set, its schemas, and the one door every model action goes through: `run_tool`
checks the tool name and the arguments against the tool's JSON schema before running it, so a
model's malformed call comes back as one clear observation instead of an exception."""

from __future__ import annotations

from typing import Any

from ..models.base import ToolCall, ToolSchema
from ..sandbox.base import Sandbox
from .base import Observation, Tool

JSON_TYPES = {"string": "a string", "integer": "an integer", "number": "a number",
              "boolean": "a boolean (true or false)", "object": "an object", "array": "an array"}


TOOL_ORDER = ("bash", "read_file", "write_file", "edit_file")  # then plugin tools by name, then finish
TOOLS_ENV = "EVAL_AGENT_TOOLS"


def default_tools() -> list[Tool]:
    """The built-in tools and every installed plugin tool (entry points `eval_agent.tools`, see
    plugins.py), finish last: small models read the list in order. EVAL_AGENT_TOOLS=bash,word_count
    narrows the set; finish is always kept, as it ends the run."""
    import os

    from .. import plugins
    from ..errors import UsageError

    chosen = plugins.plugins(plugins.TOOLS, TOOL_ORDER)
    chosen.sort(key=lambda plugin: plugin.name == "finish")  # stable: the rest keep their order
    wanted = {name.strip() for name in os.environ.get(TOOLS_ENV, "").split(",") if name.strip()}
    if wanted:
        unknown = sorted(wanted - {plugin.name for plugin in chosen})
        if unknown:
            raise UsageError(f"{TOOLS_ENV} names {', '.join(unknown)}, not installed: the tools are "
                             f"{', '.join(plugin.name for plugin in chosen)}")
        chosen = [plugin for plugin in chosen if plugin.name in wanted or plugin.name == "finish"]
    tools: list[Tool] = []
    for plugin in chosen:
        tool = plugin.expect(plugin.call(plugin.load()), "a tool", ("name", "schema", "run"))
        if tool.name != plugin.name:  # the name is how EVAL_AGENT_TOOLS and the model find it
            raise plugins.PluginError(f"{plugin.label} makes a tool named {tool.name!r}: "
                                      f"the entry point and the tool must have one name")
        tools.append(tool)
    return tools


def tool_schemas(tools: list[Tool]) -> list[ToolSchema]:
    return [tool.schema for tool in tools]


def find_tool(tools: list[Tool], name: str) -> Tool | None:
    return next((tool for tool in tools if tool.name == name), None)


def run_tool(tools: list[Tool], call: ToolCall, sandbox: Sandbox) -> Observation:
    """Run `call` with the tool of that name. Unknown names and bad arguments are the model's
    mistakes: they come back as an observation with ok=False that says how to fix the call."""
    tool = find_tool(tools, call.name)
    if tool is None:
        available = ", ".join(t.name for t in tools)
        return Observation(f"Unknown tool {call.name!r}. Available tools: {available}.", ok=False,
                           details={"error": "unknown_tool"})
    arguments, error = check_arguments(tool.schema, call.arguments)
    if error is not None:
        return error
    return tool.run(arguments, sandbox)


def check_arguments(schema: ToolSchema, arguments: Any) -> tuple[dict[str, Any], Observation | None]:
    """Validate `arguments` against a function schema: (cleaned arguments, None) when they fit,
    else ({}, an observation naming every problem). Optional arguments given as null are dropped
    (models often send them that way); integral floats become ints (30.0 for an integer)."""
    function = schema["function"]
    parameters = function["parameters"]
    properties: dict[str, dict] = parameters.get("properties", {})
    required: list[str] = parameters.get("required", [])
    if not isinstance(arguments, dict):
        return {}, _argument_error(function, [f"arguments must be a JSON object, got {_kind(arguments)}"])
    problems: list[str] = []
    cleaned: dict[str, Any] = {}
    for name in required:
        if arguments.get(name) is None:
            problems.append(f"missing required argument {name!r}")
    extra = [name for name in arguments if name not in properties]
    if extra:
        problems.append(f"unexpected argument{'s' if len(extra) > 1 else ''} "
                        f"{', '.join(repr(n) for n in extra)}")
    for name, value in arguments.items():
        if name not in properties or value is None:
            continue
        expected = properties[name].get("type", "string")
        fitted = _fit(value, expected)
        if fitted is _MISFIT:
            problems.append(f"{name!r} must be {JSON_TYPES.get(expected, expected)}, got {_kind(value)} {_short(value)}")
            continue
        minimum = properties[name].get("minimum")
        if minimum is not None and fitted < minimum:
            problems.append(f"{name!r} must be at least {minimum}, got {fitted}")
            continue
        cleaned[name] = fitted
    if problems:
        return {}, _argument_error(function, problems)
    return cleaned, None


_MISFIT = object()


def _fit(value: Any, expected: str) -> Any:
    if expected == "string":
        return value if isinstance(value, str) else _MISFIT
    if expected == "boolean":
        return value if isinstance(value, bool) else _MISFIT
    if isinstance(value, bool):  # bool is an int in Python, never in JSON
        return _MISFIT
    if expected == "integer":
        if isinstance(value, int):
            return value
        return int(value) if isinstance(value, float) and value.is_integer() else _MISFIT
    if expected == "number":
        return value if isinstance(value, (int, float)) else _MISFIT
    return value


def _argument_error(function: dict, problems: list[str]) -> Observation:
    return Observation(
        f"Invalid arguments for {function['name']}: {'; '.join(problems)}.\nUsage: {usage(function)}",
        ok=False, details={"error": "invalid_arguments", "problems": problems},
    )


def usage(function: dict) -> str:
    """`read_file(path: string, start_line?: integer, ...)`: a one-line reminder of the call."""
    parameters = function["parameters"]
    required = set(parameters.get("required", []))
    parts = [f"{name}{'' if name in required else '?'}: {spec.get('type', 'string')}"
             for name, spec in parameters.get("properties", {}).items()]
    return f"{function['name']}({', '.join(parts)})"


def _kind(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
             list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
