#!/usr/bin/python3
"""Execute the kit's notebooks headlessly on the tslab kernel and fail on any error.

    /usr/bin/python3 scripts/notebooks.py [notebook.ipynb ...] [--out build/notebooks] [--timeout 300]

With no notebook given, runs every notebooks/*.ipynb in name order. For each notebook:
  - executes a copy with nbclient on the project's kernelspec (kernels/, via JUPYTER_PATH), in the
    notebook's own folder (tslab only imports from there: notebooks/src -> ../src);
  - fails it on a cell error, including errors tslab reports only as stderr text, and on errors
    thrown later from timers or promises: a hidden first cell records every uncaughtException /
    unhandledRejection of the kernel process, a hidden last cell waits a moment and throws if any
    was recorded; stderr output of any cell that reads "UncaughtException:" or
    "UnhandledPromiseRejection:" also fails it;
  - writes the executed copy to <out>/<name>.ipynb and its HTML (figures inline, no network) to
    <out>/<name>.html; the two hidden cells are removed from both. notebooks/ is never modified.
Prints one line per notebook with its time, then `notebooks: N passed, M failed`; exit code 1 if
M > 0 (2 for bad arguments).

Needs Debian's python3-nbclient and jupyter-nbconvert (scripts/setup.sh installs them); always
run with /usr/bin/python3, which has them.
"""
import argparse
import copy
import logging
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_NAME = "murphy-tslab"
# Set before jupyter_client is imported: the project-local kernelspec wins over any global one.
os.environ["JUPYTER_PATH"] = os.path.join(ROOT, "kernels") + (os.pathsep + os.environ["JUPYTER_PATH"] if os.environ.get("JUPYTER_PATH") else "")

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402

class _NoNativeKernelWarning(logging.Filter):
    """jupyter_client warns that the python3 kernel is missing on every start; the kit needs none."""

    def filter(self, record):
        return "Native kernel" not in record.getMessage()


logging.getLogger("traitlets").addFilter(_NoNativeKernelWarning())

RUNNER_TAG = "murphy-runner"
LATE_ERROR_MARKERS = ("UncaughtException:", "UnhandledPromiseRejection:")

HOOK_CELL = """{
  // Added by scripts/notebooks.py (removed from the saved copy): record errors raised outside cells.
  const g = globalThis as any;
  g.__murphyLateErrors = [];
  const text = (e: unknown) => String((e as any)?.stack ?? e);
  process.on("uncaughtException", (e) => g.__murphyLateErrors.push("UncaughtException: " + text(e)));
  process.on("unhandledRejection", (e) => g.__murphyLateErrors.push("UnhandledPromiseRejection: " + text(e)));
}"""

CHECK_CELL = """// Added by scripts/notebooks.py (removed from the saved copy): fail on errors raised late.
await new Promise((resolve) => setTimeout(resolve, %d));
{
  const errors: string[] = (globalThis as any).__murphyLateErrors ?? [];
  if (errors.length) throw new Error(`${errors.length} error(s) raised outside a cell (timers, promises):\\n` + errors.join("\\n"));
}"""


def runner_cell(source):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [RUNNER_TAG]
    return cell


def stderr_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr")


def error_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            parts.append("%s: %s" % (o.get("ename", ""), o.get("evalue", "")))
    return "\n".join(parts)


def first_lines(text, n=6):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    more = "\n      ..." if len(lines) > n else ""
    return "\n      ".join(lines[:n]) + more


def strip_runner_cells(nb):
    nb.cells = [c for c in nb.cells if RUNNER_TAG not in c.get("metadata", {}).get("tags", [])]


def write_outputs(nb, out_dir, name):
    from nbconvert import HTMLExporter

    os.makedirs(out_dir, exist_ok=True)
    ipynb_path = os.path.join(out_dir, name + ".ipynb")
    html_path = os.path.join(out_dir, name + ".html")
    for path, text in ((ipynb_path, nbformat.writes(nb)), (html_path, HTMLExporter().from_notebook_node(nb)[0])):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return html_path


def run_notebook(path, out_dir, timeout, late_wait_ms):
    """Returns (ok, seconds, message)."""
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        source = nbformat.read(path, as_version=4)
    except Exception as e:  # unreadable JSON, wrong format
        return False, 0.0, "cannot read %s: %s" % (path, e)
    nb = copy.deepcopy(source)
    nb.cells = [runner_cell(HOOK_CELL)] + nb.cells + [runner_cell(CHECK_CELL % late_wait_ms)]
    kernel = nb.metadata.get("kernelspec", {}).get("name", KERNEL_NAME)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        allow_errors=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    start = time.time()
    failure = None
    try:
        client.execute()
    except CellTimeoutError as e:
        failure = "a cell ran longer than %d s: %s" % (timeout, first_lines(str(e), 3))
    except DeadKernelError as e:
        failure = "the kernel died: %s" % first_lines(str(e), 3)
    except CellExecutionError:
        failure = "cell error"
    except Exception as e:  # kernel failed to start, ...
        failure = "%s: %s" % (type(e).__name__, first_lines(str(e), 3))
    seconds = time.time() - start

    # tslab reports cell errors as stderr text; find the cell nbclient stopped at (the last one
    # with outputs) and any late-error text in any cell.
    def is_runner(cell):
        return RUNNER_TAG in cell.get("metadata", {}).get("tags", [])

    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    user_cells = [c for c in code_cells if not is_runner(c)]

    def label(cell):
        return "late-error check" if is_runner(cell) else "code cell %d" % user_cells.index(cell)

    problems = []
    if failure == "cell error":
        executed = [c for c in code_cells if c.get("outputs")]
        if executed:
            text = stderr_text(executed[-1]) or error_text(executed[-1]) or "(no error text)"
            problems.append("%s failed:\n      %s" % (label(executed[-1]), first_lines(text)))
        else:
            problems.append("a cell failed without output")
    elif failure:
        problems.append(failure)
    for cell in code_cells:
        err = stderr_text(cell)
        if any(m in err for m in LATE_ERROR_MARKERS):
            message = "%s: %s" % (label(cell), first_lines(err))
            if not any(first_lines(err) in p for p in problems):
                problems.append(message)

    strip_runner_cells(nb)
    try:
        write_outputs(nb, out_dir, name)
    except Exception as e:
        problems.append("could not write the executed copy: %s" % e)
    return (not problems), seconds, "\n    ".join(problems)


def main(argv):
    parser = argparse.ArgumentParser(description="Execute notebooks headlessly on the tslab kernel; fail on any error.")
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--out", default=os.path.join(ROOT, "build", "notebooks"), help="folder for executed copies (.ipynb, .html)")
    parser.add_argument("--timeout", type=int, default=int(os.environ.get("MURPHY_NOTEBOOK_TIMEOUT", "300")), help="seconds per cell")
    parser.add_argument("--late-wait-ms", type=int, default=500, help="how long the final check waits for late errors")
    args = parser.parse_args(argv)
    paths = args.notebooks
    if not paths:
        folder = os.path.join(ROOT, "notebooks")
        paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".ipynb"))
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        print("notebooks: not found: %s" % ", ".join(missing), file=sys.stderr)
        return 2
    if not paths:
        print("notebooks: no notebooks found in notebooks/", file=sys.stderr)
        return 2
    passed = failed = 0
    for path in paths:
        ok, seconds, message = run_notebook(path, args.out, args.timeout, args.late_wait_ms)
        name = os.path.relpath(path, ROOT) if os.path.abspath(path).startswith(ROOT) else path
        print("%s %-40s %6.1f s%s" % ("PASS" if ok else "FAIL", name, seconds, "" if ok else "\n    " + message), flush=True)
        if ok:
            passed += 1
        else:
            failed += 1
    print("executed copies (.ipynb, .html): %s" % os.path.relpath(args.out, os.getcwd()))
    print("notebooks: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
