"""Export recorded runs as fine-tuning datasets: openai (chat JSONL), trl (a Hugging Face
datasets folder), sharegpt and alpaca (LLaMA-Factory). A new format is one writer module and one
entry point (plugins.py): eval-agent's own pyproject.toml, or an installed package's."""

from .filters import RunFilters, TrajectoryFilters, parse_time
from .gate import SecretFound, SecretGate
from .runner import ExportOptions, ExportSummary, export_runs, format_names

__all__ = ["ExportOptions", "ExportSummary", "RunFilters", "SecretFound", "SecretGate",
           "TrajectoryFilters", "export_runs", "format_names", "parse_time"]
