"""Errors a user can act on. Each carries the one line to print and the process exit code."""

from __future__ import annotations


class EvalAgentError(Exception):
    """A failure explained in one line; the CLI prints it and exits with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(EvalAgentError):
    """Bad input from the user: a flag, a path, a model spec."""

    exit_code = 2


class EnvironmentProblem(EvalAgentError):
    """Something outside eval-agent is missing or broken: Docker, the model endpoint, a folder."""

    exit_code = 3


class DockerUnavailable(EnvironmentProblem):
    pass


class ModelError(EnvironmentProblem):
    pass


class ToolsUnsupported(ModelError):
    """The server refused the request because it carried `tools` (no native function calling
    there). `--tool-mode auto` catches this and falls back to the text protocol."""


class FormatError(ValueError):
    """A model's answer holds no usable action; the message says what was wrong, for the model.
    Not a user error: the loop feeds it back to the model."""
