/**
 * A problem of one of the paper's Python benchmarks, in the kit's task shape (src/tasks/types.ts):
 * a prompt, VISIBLE tests (what feedback may use; shown or stated in the prompt) and HIDDEN tests
 * (the benchmark's own verdict). As for the kit's tasks, programs run on
 * `[...visible, ...hidden]` in that order. Unlike the kit's tasks, the reward and the verdict
 * count the hidden tests only: they are the benchmark's official tests, and the visible ones are
 * examples taken from the problem (MBPP's first test is both).
 */
import type { PyTest } from "../pysandbox/types";

export const BENCHMARKS = ["humaneval", "mbpp", "mbpp-sanitized", "livecodebench", "kodcode"] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export interface BenchProblem {
  /** Upstream id, e.g. "HumanEval/0", "MBPP/2", "LiveCodeBench/abc301_a", "KodCode/Leetcode_123_I". */
  id: string;
  benchmark: BenchmarkName;
  /** What a model is shown: the benchmark's problem text (HumanEval: the prompt verbatim). */
  prompt: string;
  /** The function the tests call, where the benchmark names one. */
  entryPoint?: string;
  /** Tests feedback may be built from (examples stated in the prompt). */
  visible: PyTest[];
  /** The benchmark's tests: the verdict and the reward. */
  hidden: PyTest[];
  /** A correct program, where the benchmark has one (HumanEval: prompt + canonical solution). */
  reference?: string;
  /** Trusted code the checker runs before the tests (HumanEval: the prompt and `check`). */
  setup: string;
  /** Names in the tests that mean the program's objects (the function under test, classes). */
  names: string[];
  /** Trusted code run in the program's namespace before it (imports and helpers the prompt gives). */
  context: string;
  /** The benchmark's difficulty label, where it has one ("easy", "medium", "hard"). */
  difficulty?: string;
}
