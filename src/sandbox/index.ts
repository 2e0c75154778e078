/** The code-execution sandbox: run model-written JavaScript programs against tests. */
export { SandboxPool, type SandboxStats } from "./pool";
export { renderValue, isTruncated, TRUNCATION_MARK, MAX_RENDER_DEPTH } from "./render";
export { MAX_TESTS_PER_PROGRAM, MAX_PROGRAM_CHARS } from "./validate";
export * from "./types";
