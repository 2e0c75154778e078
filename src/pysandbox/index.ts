/** The Python sandbox: run untrusted Python programs on tests (bubblewrap, prlimit, a checker process). */
export { PythonSandbox, MAX_PYTHON_PROGRAM_CHARS, type PySandboxStats } from "./pool";
export { outputMatches } from "./compare";
export { DEFAULT_OPTIONS as PY_SANDBOX_DEFAULTS } from "./command";
export * from "./types";
