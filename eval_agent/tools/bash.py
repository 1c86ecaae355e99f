"""The bash tool: one command in the sandbox's persistent shell."""

from __future__ import annotations

from typing import Any

from ..models.base import ToolSchema
from ..sandbox.base import DEFAULT_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT, MIN_COMMAND_TIMEOUT, Sandbox
from ..sandbox.output import MODEL_OUTPUT_BUDGET, cut_for_model
from .base import Observation, function_schema

MIN_TIMEOUT, MAX_TIMEOUT = MIN_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT

# No default number here: it is the run's command_timeout, and the system prompt states it.
DESCRIPTION = (
    "Run a bash command in the sandbox. The shell persists between calls (working directory, "
    "variables, activated virtualenvs), starting in the workspace. stdin is closed, so use "
    "non-interactive flags (apt-get -y, pip --no-input). Start servers in the background "
    "(`cmd > server.log 2>&1 &`). Returns stdout and stderr merged; when longer than "
    f"{MODEL_OUTPUT_BUDGET} characters only the head and the tail are shown. A non-zero exit code "
    f"is reported on the last line. `timeout` is in seconds (max {MAX_TIMEOUT:.0f}; default: the "
    "command timeout the system prompt states); a command that runs longer is stopped."
)


class BashTool:
    name = "bash"

    @property
    def schema(self) -> ToolSchema:
        return function_schema(
            self.name, DESCRIPTION,
            {
                "command": {"type": "string", "description": "The bash command (may span several lines)."},
                "timeout": {"type": "number",
                            "description": "Seconds before the command is stopped (default: the command "
                                           "timeout the system prompt states)."},
            },
            ["command"],
        )

    def run(self, arguments: dict[str, Any], sandbox: Sandbox) -> Observation:
        command: str = arguments["command"]
        if not command.strip():
            return Observation("The command is empty: give a bash command to run.", ok=False)
        # the sandbox's command_timeout (the run's setting), the number the system prompt states
        timeout = clamp_timeout(arguments.get("timeout"), sandbox.info.command_timeout)
        result = sandbox.run(command, timeout)

        shown, removed = cut_for_model(result.output)
        lines = [shown.rstrip("\n") if shown.strip() else "(no output)"]
        if result.timed_out:
            lines.append(f"[timed out after {_seconds(timeout)} s; the command was stopped, the shell is still usable]")
        elif result.interrupted:
            lines.append("[interrupted by the user; the command was stopped]")
        if result.exit_code is None:  # the shell exited and its status was not known yet
            lines.append("[exit code unknown: the shell itself exited]")
        elif result.exit_code != 0:
            lines.append(f"[exit code: {result.exit_code}]")
            if result.exit_code == 137 and not (result.timed_out or result.interrupted):
                memory = (getattr(sandbox.info, "limits", None) or {}).get("memory")
                lines.append("[137 is SIGKILL: most often the command ran out of memory"
                             + (f" (the sandbox has {memory})" if memory else "") + "; use less, or work in parts]")
        if result.shell_restarted:
            lines.append("[the shell was restarted: its state was reset (working directory back to the "
                         "workspace, variables and activated environments gone)]")
        return Observation(
            "\n".join(lines),
            ok=result.exit_code == 0,
            exit_code=result.exit_code,
            full_output=result.output,
            duration=result.duration,
            timed_out=result.timed_out,
            details={"timeout": timeout, "cut_chars": removed, "interrupted": result.interrupted,
                     "shell_restarted": result.shell_restarted, "output_truncated": result.output_truncated},
        )


def clamp_timeout(timeout: float | None, default: float = DEFAULT_COMMAND_TIMEOUT) -> float:
    """The model's timeout, or `default` when it gave none, kept within [MIN_TIMEOUT, MAX_TIMEOUT]."""
    return min(max(float(default if timeout is None else timeout), MIN_TIMEOUT), MAX_TIMEOUT)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
