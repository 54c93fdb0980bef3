#!/usr/bin/python3
"""Execute a Jupyter notebook headlessly with the Deno kernel and save it with its outputs.

Usage:
    /usr/bin/python3 tasks/run_notebook.py INPUT.ipynb OUTPUT.ipynb [--timeout SECONDS]
        [--kernels-dir DIR] [--kernel NAME] [--deno PATH] [--settle SECONDS]

Why not `jupyter nbconvert --execute`: the Deno kernel (Deno 2.9) can publish a cell's last outputs on
iopub a millisecond or two after the cell's `idle` status, and nbconvert stops reading at `idle`, so it
drops outputs at random. This runner keeps reading iopub after `idle` until it has been silent for
`--settle` seconds.

The kernel runs with the notebook's folder as its working directory, so relative imports such as
`../lib/...` resolve, and it inherits this process's environment.

Exit status: 0 when every code cell ran, 1 when a cell raised an error or timed out, 2 for invalid
arguments or an unreadable notebook, 3 when a Python package is missing, 4 when the kernel did not start.

Needs Debian's python3-jupyter-client and python3-nbformat; run it with /usr/bin/python3.
"""

import argparse
import os
import queue
import re
import sys
import tempfile
import time

EXIT_CELL_FAILED = 1
EXIT_USAGE = 2
EXIT_MISSING_PACKAGE = 3
EXIT_KERNEL_FAILED = 4

try:
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from jupyter_client.manager import KernelManager
except ImportError as error:
    sys.stderr.write(
        f"run_notebook: missing Python module {error.name!r} for {sys.executable}. Install Debian's "
        "python3-jupyter-client and python3-nbformat (apt-get install -y --no-install-recommends "
        "python3-jupyter-client python3-nbformat) and run this script with /usr/bin/python3.\n"
    )
    sys.exit(EXIT_MISSING_PACKAGE)

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
DEFAULT_KERNELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "notebooks", "kernels")


class CellFailed(Exception):
    """A code cell raised an error or ran past its timeout."""


class KernelFailed(Exception):
    """The kernel could not be found or started."""


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description="Execute a notebook with the Deno kernel and save its outputs.")
    parser.add_argument("input", help="notebook to execute")
    parser.add_argument("output", help="where to write the executed notebook (may equal the input)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per code cell (default 600)")
    parser.add_argument(
        "--kernels-dir",
        default=DEFAULT_KERNELS_DIR,
        help="folder that contains <name>/kernel.json (default: the repository's notebooks/kernels). "
        "An empty string searches JUPYTER_PATH instead.",
    )
    parser.add_argument("--kernel", default="deno", help="kernelspec name (default deno)")
    parser.add_argument("--deno", help="deno executable replacing a bare 'deno' in the kernelspec's argv")
    parser.add_argument(
        "--settle",
        type=float,
        default=0.3,
        help="seconds of iopub silence after a cell's idle status before the cell counts as done (default 0.3)",
    )
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for the kernel")
    return parser.parse_args(argv)


def strip_ansi(text):
    return ANSI_ESCAPE.sub("", text)


def first_line(source):
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0].strip()[:80] if lines else ""


class OutputCollector:
    """Builds a cell's outputs from iopub messages the way a notebook frontend does."""

    def __init__(self):
        self.outputs = []
        self.clear_pending = False
        self.display_ids = {}
        self.error = None

    def add(self, msg):
        msg_type = msg["msg_type"]
        content = msg["content"]

        if msg_type == "clear_output":
            if content.get("wait"):
                self.clear_pending = True
            else:
                self.clear()
            return

        if msg_type == "update_display_data":
            self.update_display(content)
            return

        if msg_type not in ("stream", "display_data", "execute_result", "error"):
            return

        if self.clear_pending:
            self.clear()

        if msg_type == "error":
            self.error = content

        output = nbformat.v4.output_from_msg(msg)

        # Frontends show consecutive writes to one stream as one block, and so does the saved notebook.
        last = self.outputs[-1] if self.outputs else None
        if msg_type == "stream" and last is not None and last.output_type == "stream" and last.name == output.name:
            last.text += output.text
            return

        display_id = content.get("transient", {}).get("display_id")
        if display_id:
            self.display_ids.setdefault(display_id, []).append(len(self.outputs))
        self.outputs.append(output)

    def clear(self):
        self.outputs = []
        self.display_ids = {}
        self.clear_pending = False

    def update_display(self, content):
        display_id = content.get("transient", {}).get("display_id")
        for index in self.display_ids.get(display_id, []):
            self.outputs[index].data = content.get("data", {})
            self.outputs[index].metadata = content.get("metadata", {})


def describe_cell(notebook_path, index, total, cell):
    return f"{notebook_path}, cell {index + 1} of {total}, markdown cells included ({first_line(cell.source)!r})"


def read_iopub(client, msg_id, deadline, settle, collector):
    """Collect the cell's iopub messages until `settle` seconds of silence follow its idle status."""
    idle_seen = False
    while True:
        if idle_seen:
            wait = settle
        else:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return False

        try:
            msg = client.get_iopub_msg(timeout=wait)
        except queue.Empty:
            if idle_seen:
                return True
            continue

        if msg["parent_header"].get("msg_id") != msg_id:
            continue

        if msg["msg_type"] == "status":
            if msg["content"]["execution_state"] == "idle":
                idle_seen = True
            continue

        if msg["msg_type"] == "execute_input":
            continue

        collector.add(msg)


def read_reply(client, msg_id, deadline):
    while True:
        wait = deadline - time.monotonic()
        if wait <= 0:
            return None
        try:
            msg = client.get_shell_msg(timeout=wait)
        except queue.Empty:
            return None
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def run_cell(client, cell, label, timeout, settle):
    msg_id = client.execute(cell.source, store_history=True, allow_stdin=False, stop_on_error=True)
    deadline = time.monotonic() + timeout
    collector = OutputCollector()

    finished = read_iopub(client, msg_id, deadline, settle, collector)
    reply = read_reply(client, msg_id, deadline) if finished else None
    cell.outputs = collector.outputs

    if reply is None:
        raise CellFailed(
            f"Executing {label} timed out after {timeout:g} s. Make the cell faster or raise the timeout."
        )

    cell.execution_count = reply.get("execution_count")
    for output in cell.outputs:
        if output.output_type == "execute_result":
            output.execution_count = cell.execution_count

    if reply.get("status") == "ok" and collector.error is None:
        return

    error = collector.error or reply
    ename = error.get("ename", "Error")
    evalue = strip_ansi(error.get("evalue", "")).strip()
    traceback = strip_ansi("\n".join(error.get("traceback", []))).strip()
    details = f"\n{traceback}" if traceback else ""
    raise CellFailed(f"Executing {label} failed: {ename}: {evalue}{details}")


def start_kernel(args, cwd):
    if args.kernels_dir:
        spec_manager = KernelSpecManager(kernel_dirs=[os.path.abspath(args.kernels_dir)])
    else:
        spec_manager = KernelSpecManager()

    manager = KernelManager(kernel_name=args.kernel, kernel_spec_manager=spec_manager, ip="127.0.0.1")
    try:
        spec = manager.kernel_spec
    except NoSuchKernel:
        where = args.kernels_dir or "JUPYTER_PATH"
        raise KernelFailed(
            f"Finding kernelspec {args.kernel!r} in {where} failed: no {args.kernel}/kernel.json there. "
            "Pass --kernels-dir with the folder that holds it."
        ) from None

    if args.deno and spec.argv and os.path.basename(spec.argv[0]) == "deno":
        spec.argv = [args.deno, *spec.argv[1:]]

    try:
        manager.start_kernel(cwd=cwd, env=dict(os.environ))
    except OSError as error:
        raise KernelFailed(
            f"Starting kernel {spec.argv!r} failed: {error}. Check that deno is on PATH or pass --deno."
        ) from None

    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=args.startup_timeout)
    except RuntimeError as error:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        raise KernelFailed(f"Starting kernel {spec.argv!r} failed: {error}") from None

    return manager, client


def write_atomically(notebook, path):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".", suffix=".ipynb.tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            nbformat.write(notebook, file)
        # mkstemp creates the file readable by its owner alone; give it the usual mode under the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_path, 0o666 & ~umask)
        os.replace(temp_path, path)
    except BaseException:
        os.unlink(temp_path)
        raise


def execute_notebook(args):
    try:
        notebook = nbformat.read(args.input, as_version=4)
    except (OSError, ValueError) as error:
        raise ValueError(f"Reading notebook {args.input} failed: {error}") from None

    cwd = os.path.dirname(os.path.abspath(args.input))
    manager, client = start_kernel(args, cwd)
    try:
        client.kernel_info()
        info = read_reply_of_type(client, "kernel_info_reply", args.startup_timeout)
        if info is not None and "language_info" in info:
            notebook.metadata["language_info"] = info["language_info"]

        total = len(notebook.cells)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            label = describe_cell(args.input, index, total, cell)
            run_cell(client, cell, label, args.timeout, args.settle)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)

    write_atomically(notebook, args.output)


def read_reply_of_type(client, msg_type, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_shell_msg(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        if msg["msg_type"] == msg_type:
            return msg["content"]
    return None


def main(argv):
    args = parse_arguments(argv)
    try:
        execute_notebook(args)
    except ValueError as error:
        sys.stderr.write(f"run_notebook: {error}\n")
        return EXIT_USAGE
    except KernelFailed as error:
        sys.stderr.write(f"run_notebook: {error}\n")
        return EXIT_KERNEL_FAILED
    except CellFailed as error:
        sys.stderr.write(f"run_notebook: {error}\n")
        return EXIT_CELL_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
