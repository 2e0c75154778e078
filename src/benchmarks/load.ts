/**
 * One way to load any of the paper's benchmarks by name, as the CLI and notebooks do:
 *
 *   loadBenchmark({ bench: "humaneval" })                       shipped in data/benchmarks/
 *   loadBenchmark({ bench: "mbpp", split: "test", visible: "1" })
 *   loadBenchmark({ bench: "livecodebench", file: "test6.jsonl" })   bring your own file
 *   loadBenchmark({ bench: "kodcode", file: "kodcode.jsonl" })
 *
 * `visible` says which tests feedback may use: for HumanEval "examples" (default), "doctest" or
 * "none"; for MBPP and KodCode a count of listed tests (default 1); LiveCodeBench's visible
 * tests are its public ones.
 */
import { BENCHMARKS, type BenchmarkName, type BenchProblem } from "./types";
import { loadHumanEval, type HumanEvalVisible } from "./humaneval";
import { loadMbpp, MBPP_SPLITS, type MbppSplit } from "./mbpp";
import { loadLiveCodeBench } from "./livecodebench";
import { loadKodCode } from "./kodcode";

export interface BenchLoadOptions {
  bench: BenchmarkName;
  /** The data file (required for livecodebench and kodcode; shipped files by default otherwise). */
  file?: string;
  /** MBPP split: test (default), train, prompt, all. */
  split?: string;
  /** Which tests are visible (see above). */
  visible?: string;
  /** LiveCodeBench: JSON Lines of {"question_id", "code"} reference programs. */
  references?: string;
}

function count(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: visible must be a count of tests >= 0 (got "${value}")`);
  return n;
}

export function isBenchmarkName(name: string): name is BenchmarkName {
  return (BENCHMARKS as readonly string[]).includes(name);
}

export function loadBenchmark(options: BenchLoadOptions): BenchProblem[] {
  const { bench } = options;
  if (!isBenchmarkName(bench)) throw new Error(`unknown benchmark "${bench}" (one of ${BENCHMARKS.join(", ")})`);
  if (options.split !== undefined && !bench.startsWith("mbpp")) throw new Error(`${bench}: only MBPP has splits (got split "${options.split}")`);
  if (options.split !== undefined && !(options.split in MBPP_SPLITS)) throw new Error(`MBPP: split must be one of ${Object.keys(MBPP_SPLITS).join(", ")} (got "${options.split}")`);
  switch (bench) {
    case "humaneval":
      return loadHumanEval({ file: options.file, visible: (options.visible ?? "examples") as HumanEvalVisible });
    case "mbpp":
    case "mbpp-sanitized":
      return loadMbpp({ sanitized: bench === "mbpp-sanitized", file: options.file, split: options.split as MbppSplit | undefined, visibleTests: count(options.visible, bench) });
    case "livecodebench":
      if (!options.file) throw new Error("livecodebench: give the file of code_generation_lite records (--file test6.jsonl); see data/benchmarks/livecodebench/README.md");
      if (options.visible !== undefined) throw new Error("livecodebench: the visible tests are the public ones (no visible option)");
      return loadLiveCodeBench({ file: options.file, references: options.references });
    case "kodcode":
      if (!options.file) throw new Error("kodcode: give the file of KodCode records (--file kodcode.jsonl); see data/benchmarks/kodcode/README.md");
      return loadKodCode({ file: options.file, visibleTests: count(options.visible, bench) });
  }
}
