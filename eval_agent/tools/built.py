"""Tools the agent builds for itself (`make_tool`), kept in the workspace for later runs.

A built tool is a folder `.eval-agent/tools/NAME/` with `tool.json` (name, description, JSON
schema of its parameters) and an executable `run` that reads its arguments as JSON on stdin.
`make_tool` writes it under `.eval-agent/tools/.pending/NAME/`; the tool is offered at once, and
its first call that exits 0 moves it to `.eval-agent/tools/NAME/`, where later runs in that
workspace find it. A user can write one by hand in the same place.

Everything here happens through the sandbox: the host never reads, follows or runs a file of
the tools folder itself. What the container hands back (tool.json) is parsed as hostile input:
size-capped, schema-checked, names restricted."""

from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

from ..models.base import ToolSchema
from ..sandbox.base import Sandbox
from .base import Observation, function_schema

TOOLS_DIR = ".eval-agent/tools"
PENDING_DIR = f"{TOOLS_DIR}/.pending"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
RESERVED = {"bash", "read_file", "write_file", "edit_file", "finish", "make_tool"}
MAX_SPEC_BYTES = 16_000
MAX_TOOLS = 32
JSON_TYPES = {"string", "integer", "number", "boolean", "object", "array"}


class ToolSpecError(ValueError):
    """A tool definition that cannot be offered; the text says why."""


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]

    def schema(self) -> ToolSchema:
        properties = self.parameters.get("properties", {})
        return function_schema(self.name, self.description, properties, list(self.parameters.get("required", [])))


def check_spec(data: Any) -> ToolSpec:
    if not isinstance(data, dict):
        raise ToolSpecError("a tool definition must be a JSON object")
    name, description, parameters = data.get("name"), data.get("description"), data.get("parameters", {})
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ToolSpecError("the name must be 2-40 characters: lower-case letters, digits and _, starting with a letter")
    if name in RESERVED:
        raise ToolSpecError(f"{name!r} is a built-in tool's name; choose another")
    if not isinstance(description, str) or not description.strip() or len(description) > 1000:
        raise ToolSpecError("the description must be a non-empty string of at most 1000 characters")
    if not isinstance(parameters, dict) or parameters.get("type", "object") != "object":
        raise ToolSpecError('parameters must be a JSON schema object: {"type": "object", "properties": {...}}')
    properties = parameters.get("properties", {})
    if not isinstance(properties, dict) or len(properties) > 20:
        raise ToolSpecError("parameters.properties must be an object of at most 20 parameters")
    for key, spec in properties.items():
        if not (isinstance(key, str) and re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$", key)):
            raise ToolSpecError(f"parameter name {key!r} is not a plain identifier")
        if not isinstance(spec, dict) or spec.get("type", "string") not in JSON_TYPES:
            raise ToolSpecError(f"parameter {key!r} needs a JSON type: one of {', '.join(sorted(JSON_TYPES))}")
    required = parameters.get("required", [])
    if not isinstance(required, list) or any(item not in properties for item in required):
        raise ToolSpecError("parameters.required must list names from parameters.properties")
    clean = {"type": "object", "properties": {key: {k: v for k, v in spec.items() if k in ("type", "description")}
                                              for key, spec in properties.items()}, "required": required}
    return ToolSpec(name, description.strip(), clean)


class BuiltTool:
    """A workspace tool: its `run` script, run in the sandbox, arguments as JSON on stdin."""

    def __init__(self, spec: ToolSpec, pending: bool = False):
        self.spec, self.pending = spec, pending
        self.name = spec.name

    @property
    def folder(self) -> str:
        return f"{PENDING_DIR if self.pending else TOOLS_DIR}/{self.name}"

    @property
    def schema(self) -> ToolSchema:
        return self.spec.schema()

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        from .bash import BashTool  # the same shell, timeout and output budget as bash

        payload = base64.b64encode(json.dumps(arguments).encode()).decode()
        command = (f"( cd {shlex.quote(sandbox.workdir)} && printf %s {payload} | base64 -d | "
                   f"./{self.folder}/run )")
        observation = BashTool().run({"command": command}, sandbox)
        if self.pending and observation.ok:
            observation.output += "\n" + self._keep(sandbox)
        return observation

    def _keep(self, sandbox: Sandbox) -> str:
        """The first call that exits 0 makes the tool permanent for this workspace."""
        done = sandbox.run(f"cd {shlex.quote(sandbox.workdir)} && mkdir -p {TOOLS_DIR} && rm -rf {TOOLS_DIR}/{self.name} "
                           f"&& mv {PENDING_DIR}/{self.name} {TOOLS_DIR}/{self.name}", 30)
        if done.exit_code != 0:
            return f"[{self.name} worked, but could not be kept for later runs: {done.output.strip()[:200]}]"
        self.pending = False
        return f"[{self.name} works: it is kept in {TOOLS_DIR}/{self.name}/ and offered in later runs here]"


class MakeToolTool:
    name = "make_tool"

    @property
    def schema(self) -> ToolSchema:
        return function_schema(
            self.name,
            "Build a new tool for a job you will repeat. `script` is a program (start it with a #! line; bash "
            "if none) that reads its arguments as one JSON object on stdin (e.g. with jq or python3) and "
            "prints its result. It runs in the workspace. After building it, call it once: a call that "
            "exits 0 keeps it for this run and later runs in this workspace.",
            {
                "name": {"type": "string", "description": "lower_case name, 2-40 characters"},
                "description": {"type": "string", "description": "What the tool does, for whoever calls it."},
                "parameters": {"type": "object",
                               "description": 'JSON schema of its arguments: {"type": "object", "properties": '
                                              '{"path": {"type": "string"}}, "required": ["path"]}'},
                "script": {"type": "string", "description": "The program; its stdin is the arguments as JSON."},
            },
            ["name", "description", "parameters", "script"],
        )

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        try:
            spec = check_spec(arguments)
        except ToolSpecError as exc:
            return Observation(f"The tool was not built: {exc}.", ok=False)
        script = arguments["script"]
        if not script.strip():
            return Observation("The tool was not built: the script is empty.", ok=False)
        if not script.startswith("#!"):
            script = "#!/bin/bash\n" + script
        tool = BuiltTool(spec, pending=True)
        definition = json.dumps({"name": spec.name, "description": spec.description, "parameters": spec.parameters},
                                indent=2) + "\n"
        root = sandbox.workdir.rstrip("/")
        try:
            sandbox.write_file(f"{root}/{tool.folder}/tool.json", definition.encode())
            sandbox.write_file(f"{root}/{tool.folder}/run", script.encode())
        except OSError as exc:
            return Observation(f"The tool was not built: {exc}", ok=False)
        made = sandbox.run(f"chmod +x {shlex.quote(root)}/{tool.folder}/run", 30)
        if made.exit_code != 0:
            return Observation(f"The tool was not built: {made.output.strip()[:300]}", ok=False)
        parameters = ", ".join(spec.parameters["properties"]) or "no arguments"
        return Observation(f"Built {spec.name} ({parameters}). Call it once now to check that it works; "
                           "a call that exits 0 keeps it for later runs.", details={"new_tool": tool})


LIST_SCRIPT = """
cd "$1" 2>/dev/null || exit 0
[ -d .eval-agent/tools ] || exit 0
for dir in .eval-agent/tools/*/; do
  name=$(basename "$dir")
  [ -f "$dir/tool.json" ] && [ ! -L "$dir/tool.json" ] && [ -x "$dir/run" ] || continue
  printf '%s %s\\n' "$(printf %s "$name" | base64 -w0)" "$(head -c 16001 "$dir/tool.json" | base64 -w0)"
done
"""


def workspace_tools(sandbox: Sandbox) -> tuple[list[BuiltTool], list[str]]:
    """The tools kept in the workspace, and one line per folder skipped (and why)."""
    found = sandbox.run(f"bash -c {shlex.quote(LIST_SCRIPT)} _ {shlex.quote(sandbox.workdir)}", 30)
    tools: list[BuiltTool] = []
    skipped: list[str] = []
    for line in found.output.splitlines()[: MAX_TOOLS * 2]:
        try:
            folder_b64, spec_b64 = line.split()
            folder = base64.b64decode(folder_b64).decode("utf-8", "replace")
            raw = base64.b64decode(spec_b64)
        except ValueError:
            continue  # not one of our lines (a noisy shell profile)
        try:
            if len(raw) > MAX_SPEC_BYTES:
                raise ToolSpecError(f"tool.json is over {MAX_SPEC_BYTES} bytes")
            spec = check_spec(json.loads(raw))
            if spec.name != folder:
                raise ToolSpecError(f"its name {spec.name!r} differs from its folder's")
        except (ToolSpecError, ValueError) as exc:
            skipped.append(f"{TOOLS_DIR}/{folder[:60]}: {exc}")
            continue
        if len(tools) < MAX_TOOLS:
            tools.append(BuiltTool(spec))
    return tools, skipped
