"""The exit line of the container's own shell, found in a stream that arrives in pieces of any
size (pure logic; the engine round trip is in test_sandbox_docker.py)."""

from __future__ import annotations

import pytest

from eval_agent.sandbox.docker_transport import ExitLine

NONCE = "00c0ffee00c0ffee"
EXIT = f"\n__EA_SHELL_EXITED_{NONCE}_137__\n".encode()
SHELL_OUTPUTS = [
    b"",
    b"plain output\n",
    b"ends without a newline_",
    b"__EA_SHELL_EXITED_",  # the line's start, without the nonce
    f"__EA_SHELL_EXITED_{'f' * 16}_3__\n".encode(),  # another nonce: ordinary output
    b"\n__EA_DONE_abc_0__\n",
    bytes(range(256)),
]


def feed_in_pieces(stream: bytes, size: int) -> tuple[bytes, ExitLine]:
    exit_line, seen = ExitLine(NONCE), b""
    for start in range(0, len(stream), size):
        seen += exit_line.feed(stream[start : start + size])
        if exit_line.code is not None:
            break
    return seen, exit_line


@pytest.mark.parametrize("output", SHELL_OUTPUTS)
def test_output_then_the_exit_line_in_pieces_of_every_size(output):
    stream = output + EXIT + b"a background job's later output\n"
    for size in range(1, len(stream) + 1):
        seen, exit_line = feed_in_pieces(stream, size)
        assert exit_line.code == 137, size
        assert seen in (output, output + b"\n"), size  # at most the newline the wrapper put before the line


@pytest.mark.parametrize("output", SHELL_OUTPUTS)
def test_output_without_an_exit_line_all_comes_through(output):
    for size in range(1, len(output) + 1):
        seen, exit_line = feed_in_pieces(output, size)
        assert exit_line.code is None
        assert seen + exit_line.flush() == output, size


def test_a_command_marker_at_the_end_of_a_read_is_not_held_back():
    # the persistent shell waits for this line: holding its newline back would hang the command
    exit_line = ExitLine(NONCE)
    assert exit_line.feed(b"out\n__EA_DONE_abc_0__\n") == b"out\n__EA_DONE_abc_0__\n"
