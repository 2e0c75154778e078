/**
 * The benchmark side of the CLI: `--bench <name>` on `murphy eval`, `murphy run` and
 * `murphy tasks` (eval.ts, run.ts and tasks.ts hand over here when the flag is given).
 *
 *   murphy eval  --bench humaneval|mbpp|mbpp-sanitized|livecodebench|kodcode|kit --policy canonical|kit|openai
 *                --turns k [--samples n] [--limit n] [--file f] [--split s] [--visible v] [--json]
 *                (openai: --base-url URL --model NAME ..., the flags of ./openai-flags.ts)
 *   murphy run   --bench humaneval --task HumanEval/0 (--code TEXT | --code-file FILE) [--json]
 *   murphy tasks --bench mbpp [--limit 3] [--json]
 *
 * `--policy canonical` submits each problem's reference program (a check of the loaders and the
 * sandbox); `--policy kit` is the kit's own model (it writes JavaScript, so on a Python benchmark
 * it scores near 0, and the output says so); `--policy openai` is a model behind an
 * OpenAI-compatible server, given each problem's prompt verbatim (pythonStyle). All run through
 * the same Iter-k loop (iterK); the summary of a model's run carries the paper's Iter-k numbers
 * for the benchmark where they are known (data/paper/, paperIterKFor).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { intFlag, numberFlag, parse, printJsonLast, UsageError, type Options } from "./args";
import { DATA_DIR, ROOT, TASKS_DIR } from "../paths";
import { BENCHMARKS, type BenchmarkName, type BenchProblem } from "../benchmarks/types";
import { loadBenchmark, isBenchmarkName } from "../benchmarks/load";
import { evaluateBenchProgram } from "../benchmarks/evaluate";
import { conversationSource, kitPolicySource, kitReferenceSource, referenceSource } from "../benchmarks/attempt-sources";
import { pythonStyle } from "../policy/chat-format";
import { paperIterKFor, PAPER_NUMBERS_FILE, type PaperBenchmarkIterK } from "../eval/paper-iterk";
import { describeOpenAIPolicy, openAIPolicyFromFlags, POLICY_FLAGS, rejectServerFlags } from "./openai-flags";
import { PythonSandbox } from "../pysandbox/pool";
import { attemptProgress, iterK, type AttemptSource, type IterKResult } from "../eval/iterk";
import { EVAL_DEFAULTS } from "../eval/defaults";
import { loadSplit } from "../tasks/load";
import type { Split, Task } from "../tasks/types";
import { SandboxPool } from "../sandbox/pool";
import { writeFileAtomic, writeJsonl } from "../util/files";
import { Progress } from "../util/progress";

export const BENCH_CHOICES = [...BENCHMARKS, "kit"] as const;
export const POLICIES = ["canonical", "kit", "openai"] as const;

export const KIT_ON_PYTHON_NOTE =
  "the kit's model writes JavaScript arrow functions, so on a Python benchmark its programs are almost never valid Python and it scores near 0; use a model served over HTTP for real numbers";

/** The value of `--name` in argv (`--name v` or `--name=v`), without parsing the rest. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1];
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  return undefined;
}

/** argv without `--name v` / `--name=v` for each name. */
export function withoutFlags(argv: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = names.find((n) => argv[i] === `--${n}` || argv[i].startsWith(`--${n}=`));
    if (name === undefined) out.push(argv[i]);
    else if (argv[i] === `--${name}`) i++;
  }
  return out;
}

/** The flags that choose a benchmark's problems (shared with `murphy rollout --bench`). */
export const DATA_OPTIONS = {
  bench: { type: "string" },
  file: { type: "string" },
  split: { type: "string" },
  visible: { type: "string" },
  references: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean", default: false },
} satisfies Options;

type DataValues = { bench?: string; file?: string; split?: string; visible?: string; references?: string };

export function checkBench(command: string, bench: string | undefined): BenchmarkName | "kit" {
  if (bench === undefined || !(BENCH_CHOICES as readonly string[]).includes(bench)) {
    throw new UsageError(`murphy ${command}: --bench must be one of ${BENCH_CHOICES.join(", ")} (got "${bench}")`);
  }
  return bench as BenchmarkName | "kit";
}

/** The problems of `--bench` (kit: a split of the kit's own tasks), as CLI errors on bad input. */
export function loadProblems(command: string, values: DataValues): BenchProblem[] | Task[] {
  const bench = checkBench(command, values.bench);
  if (bench === "kit") {
    const split = (values.split ?? "test") as Split;
    if (!["train", "validation", "test"].includes(split)) throw new UsageError(`murphy ${command}: --split for the kit's tasks must be train, validation or test (got "${split}")`);
    return loadSplit(TASKS_DIR, split);
  }
  try {
    return loadBenchmark({ bench, file: values.file, split: values.split, visible: values.visible, references: values.references });
  } catch (e) {
    throw new UsageError(`murphy ${command}: ${(e as Error).message}`);
  }
}

/** What the paper reports for a benchmark's Iter-k (data/paper/), or an empty entry saying there is none. */
export function paperIterKBeside(bench: string): PaperBenchmarkIterK {
  return paperIterKFor(bench) ?? { known: [], note: `${path.relative(ROOT, PAPER_NUMBERS_FILE)} has no Iter-k entry for ${bench}` };
}

/** The paper's numbers as lines of text, beside a run's own. */
function paperLines(bench: string, paper: PaperBenchmarkIterK): string[] {
  if (paper.known.length === 0) return [`paper (arXiv 2511.07833) on ${bench}: no Iter-k number known (${paper.note})`];
  return [
    `paper (arXiv 2511.07833) on ${bench}, as far as known:`,
    ...paper.known.map(
      (e) =>
        `  Iter-${e.iteration}${e.subset ? ` ${e.subset}` : ""}: ${e.method}${e.model ? ` (${e.model})` : ""} ${e.quantity === "gain" ? `+${e.value} ${e.unit} over ${e.over}` : `${e.value} ${e.unit}`} [${e.source.version}]`,
    ),
  ];
}

export async function evalMain(argv: string[]): Promise<void> {
  const { values } = parse("eval", argv, {
    ...DATA_OPTIONS,
    ...POLICY_FLAGS,
    checkpoint: { type: "string", default: path.join(DATA_DIR, "checkpoints", "base") },
    turns: { type: "string" },
    samples: { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    "max-new-tokens": { type: "string" },
    seed: { type: "string" },
    "batch-size": { type: "string" },
    "timeout-ms": { type: "string" },
    binary: { type: "boolean", default: false },
    backend: { type: "string" },
    out: { type: "string" },
  });
  const bench = checkBench("eval", values.bench);
  const policyName = values.policy as string;
  if (!(POLICIES as readonly string[]).includes(policyName)) throw new UsageError(`murphy eval: --policy must be one of ${POLICIES.join(", ")} (got "${policyName}")`);
  rejectServerFlags("eval", values);
  const turns = intFlag("eval", "turns", values.turns, EVAL_DEFAULTS.turns, 1);
  const samples = intFlag("eval", "samples", values.samples, EVAL_DEFAULTS.samples, 1);
  const seed = intFlag("eval", "seed", values.seed, EVAL_DEFAULTS.seed, 0);
  const limit = intFlag("eval", "limit", values.limit, Number.MAX_SAFE_INTEGER, 1);
  const timeoutMs = intFlag("eval", "timeout-ms", values["timeout-ms"], 10_000, 1);
  const temperature = Number(values.temperature ?? EVAL_DEFAULTS.temperature);
  if (!(temperature >= 0)) throw new UsageError(`murphy eval: --temperature must be >= 0 (got "${values.temperature}")`);
  const topK = intFlag("eval", "top-k", values["top-k"], 0, 0) || undefined;
  const topP = numberFlag("eval", "top-p", values["top-p"], 1);
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`murphy eval: --top-p must be in (0, 1] (got ${topP})`);
  const maxNewTokens = intFlag("eval", "max-new-tokens", values["max-new-tokens"], EVAL_DEFAULTS.maxNewTokens, 1);
  const sampling = { temperature, topK, topP: topP < 1 ? topP : undefined, maxNewTokens };
  const binary = values.binary as boolean;
  const problems = loadProblems("eval", values).slice(0, limit);
  if (problems.length === 0) throw new UsageError(`murphy eval: --bench ${bench} has no problems to evaluate`);
  if (policyName === "canonical" && bench !== "kit") {
    const missing = (problems as BenchProblem[]).filter((p) => p.reference === undefined);
    if (missing.length > 0) {
      throw new UsageError(`murphy eval: ${missing.length} of ${problems.length} ${bench} problems have no reference program (e.g. ${missing[0].id}); --policy canonical needs one for each${bench === "livecodebench" ? " (--references FILE)" : ""}`);
    }
  }
  const note = policyName === "kit" && bench !== "kit" ? KIT_ON_PYTHON_NOTE : undefined;
  if (note) process.stderr.write(`eval: note: ${note}\n`);
  // A served model sees each problem's prompt verbatim; check the server before starting the sandbox.
  const served = policyName === "openai" ? openAIPolicyFromFlags<BenchProblem>("eval", values, { style: pythonStyle }) : undefined;
  if (served) await served.check();

  const python = bench === "kit" ? undefined : new PythonSandbox({ timeoutMs });
  const javascript = bench === "kit" ? new SandboxPool() : undefined;
  const closers: (() => unknown)[] = [() => python?.close(), () => javascript?.close()];
  const batchSize = intFlag("eval", "batch-size", values["batch-size"], policyName === "canonical" ? 256 : 64, 1);
  const started = Date.now();
  try {
    let result: IterKResult;
    const progress = new Progress("eval", problems.length * samples * turns, { unit: "attempt" });
    const onProgress = attemptProgress(progress, problems.length * samples);
    const loop = { turns, samples, seed, batchSize };
    if (policyName === "canonical") {
      result = bench === "kit"
        ? await iterK(problems as Task[], kitReferenceSource(javascript as SandboxPool, { binary }), loop, onProgress)
        : await iterK(problems as BenchProblem[], referenceSource(python as PythonSandbox, { binary }), loop, onProgress);
    } else if (served) {
      result = await iterK(problems as BenchProblem[], conversationSource(served, python as PythonSandbox, sampling, { binary }), loop, onProgress);
    } else {
      // The kit's model on a Python benchmark (the kit on its own tasks is eval.ts's path).
      const { selectBackend, describeBackend } = await import("../backend.js");
      const { loadPolicy } = await import("../model/store.js");
      const { GptPolicy } = await import("../model/gpt-policy.js");
      const backend = await selectBackend(values.backend);
      process.stderr.write(`eval: ${describeBackend(backend)}\n`);
      const saved = loadPolicy(values.checkpoint as string);
      closers.push(() => saved.model.dispose());
      const policy = new GptPolicy(saved.model, saved.tokenizer);
      const source: AttemptSource<BenchProblem> = kitPolicySource(policy, python as PythonSandbox, sampling, { binary });
      result = await iterK(problems as BenchProblem[], source, loop, onProgress);
    }
    const seconds = (Date.now() - started) / 1000;
    const unsolved = problems.filter((_, i) => result.solvedAtTurn[i].every((t) => t === 0)).map((p) => p.id);
    const runName = served ? `openai-${served.options.model.replace(/[^A-Za-z0-9._-]+/g, "_")}` : policyName;
    const paper = policyName === "canonical" ? undefined : paperIterKBeside(bench);
    const out = values.out ?? path.join(DATA_DIR, "evals", `bench-${bench}`, `${runName}-k${turns}-n${samples}-s${seed}${limit < Number.MAX_SAFE_INTEGER ? `-m${limit}` : ""}.jsonl`);
    writeJsonl(out, result.records);
    const summary = {
      bench,
      policy: policyName,
      ...(values.split !== undefined ? { split: values.split } : {}),
      ...(values.file !== undefined ? { file: values.file } : {}),
      ...(policyName === "kit" ? { checkpoint: path.relative(ROOT, path.resolve(values.checkpoint as string)) } : {}),
      ...(served ? describeOpenAIPolicy(served) : {}),
      ...(policyName === "canonical" ? {} : { temperature, top_k: topK ?? null, top_p: topP, max_new_tokens: maxNewTokens }),
      problems: problems.length,
      turns,
      samples,
      seed,
      iter_pass1: result.iterPass1,
      pass_at_k: samples > 1 ? result.passAtK.map((row) => Object.fromEntries(row.map((v, k) => [`pass@${k + 1}`, v]))) : undefined,
      solved: problems.length - unsolved.length,
      unsolved: unsolved.slice(0, 100),
      attempts: result.records.length,
      seconds: Math.round(seconds * 10) / 10,
      records: path.relative(ROOT, out),
      ...(served ? { http: served.stats } : {}),
      ...(paper ? { paper } : {}),
      ...(note ? { note } : {}),
    };
    writeFileAtomic(out.replace(/\.jsonl$/, "") + ".config.json", JSON.stringify(summary, null, 2) + "\n");
    if (!values.json) {
      const who = served ? `${policyName} (${served.options.model} at ${served.http.baseUrl})` : policyName;
      process.stdout.write(`${problems.length} ${bench} problems, policy ${who}, ${samples} chain(s) each, up to ${turns} turns\n`);
      result.iterPass1.forEach((p, i) => process.stdout.write(`  Iter-${i + 1} pass@1  ${p.toFixed(4)}\n`));
      if (samples > 1) {
        const row = result.passAtK[turns - 1];
        process.stdout.write(`  Iter-${turns} ${row.map((v, k) => `pass@${k + 1} ${v.toFixed(4)}`).join("  ")}\n`);
      }
      if (unsolved.length > 0) process.stdout.write(`unsolved (${unsolved.length}): ${unsolved.slice(0, 20).join(" ")}${unsolved.length > 20 ? " ..." : ""}\n`);
      if (paper) process.stdout.write(paperLines(bench, paper).join("\n") + "\n");
      if (note) process.stdout.write(`note: ${note}\n`);
      process.stdout.write(`attempts written to ${path.relative(ROOT, out)}\n`);
    }
    if (values.json) printJsonLast(summary);
  } finally {
    for (const close of closers) await close();
  }
}

function readCode(command: string, code: string | undefined, codeFile: string | undefined): string {
  if ((code === undefined) === (codeFile === undefined)) throw new UsageError(`murphy ${command}: give exactly one of --code TEXT or --code-file FILE`);
  if (code !== undefined) return code;
  try {
    return fs.readFileSync(codeFile as string, "utf8");
  } catch (e) {
    throw new UsageError(`murphy ${command}: ${codeFile}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (e as Error).message}`);
  }
}

export async function runMain(argv: string[]): Promise<void> {
  const { values } = parse("run", argv, {
    ...DATA_OPTIONS,
    task: { type: "string" },
    code: { type: "string" },
    "code-file": { type: "string" },
    binary: { type: "boolean", default: false },
    "timeout-ms": { type: "string" },
  });
  const bench = checkBench("run", values.bench);
  if (bench === "kit") throw new UsageError("murphy run: for the kit's own tasks leave out --bench (murphy run --task <id> --code ...)");
  if (values.task === undefined) throw new UsageError("murphy run: --task <problem id> is required with --bench (murphy tasks --bench ... lists them)");
  const code = readCode("run", values.code, values["code-file"]);
  const problems = loadProblems("run", values) as BenchProblem[];
  const problem = problems.find((p) => p.id === values.task);
  if (!problem) throw new UsageError(`murphy run: no problem "${values.task}" in ${bench} (ids look like ${problems[0]?.id ?? "?"})`);
  const timeoutMs = intFlag("run", "timeout-ms", values["timeout-ms"], 10_000, 1);
  const sandbox = new PythonSandbox({ timeoutMs, concurrency: 1 });
  try {
    const e = await evaluateBenchProgram(sandbox, problem, code, { binary: values.binary as boolean });
    const tests = e.run.tests.map((t, i) => ({
      index: i,
      visible: i < problem.visible.length,
      kind: t.test.kind,
      outcome: t.outcome,
      ...(t.call !== undefined ? { call: t.call } : {}),
      ...(t.expected !== undefined ? { expected: t.expected } : {}),
      ...(t.got !== undefined ? { got: t.got } : {}),
      ...(t.error ? { error: t.error } : {}),
    }));
    if (!values.json) {
      process.stdout.write(`${problem.id} (${bench}): ${problem.visible.length} visible, ${problem.hidden.length} hidden tests\n`);
      for (const t of tests) {
        const detail = t.error ? `${t.error.type}: ${t.error.message}` : t.got !== undefined ? `expected ${t.expected}, got ${t.got}` : "";
        process.stdout.write(`  ${t.visible ? "visible" : "hidden "} #${t.index}  ${t.outcome.padEnd(13)} ${t.call ?? ""} ${detail}\n`);
      }
      if (e.run.output) process.stdout.write(`printed output:\n${e.run.output.slice(0, 2000)}\n`);
      process.stdout.write(`outcome: ${e.outcome}\nreward: ${e.reward}\nfeedback: ${e.feedback}\n`);
    }
    if (values.json) printJsonLast({ task: problem.id, bench, outcome: e.outcome, reward: e.reward, feedback: e.feedback, visible_passed: e.visiblePassed, tests, ms: Math.round(e.run.ms) });
  } finally {
    await sandbox.close();
  }
}

function describeTest(test: BenchProblem["visible"][number]): string {
  switch (test.kind) {
    case "assert":
      return test.code.split("\n").length > 3 ? test.code.split("\n").slice(0, 3).join("\n      ") + " ..." : test.code.replace(/\n/g, "\n      ");
    case "functional":
      return `${test.fn}(${test.input.split("\n").join(", ")}) == ${test.output}`;
    case "stdio":
      return `stdin ${JSON.stringify(test.input.slice(0, 120))} -> stdout ${JSON.stringify(test.output.slice(0, 120))}`;
    case "pytest":
      return test.name;
  }
}

export async function tasksMain(argv: string[]): Promise<void> {
  const { values } = parse("tasks", argv, DATA_OPTIONS);
  const bench = checkBench("tasks", values.bench);
  if (bench === "kit") throw new UsageError("murphy tasks: for the kit's own tasks leave out --bench (murphy tasks --split test)");
  const limit = intFlag("tasks", "limit", values.limit, 10, 0);
  const problems = loadProblems("tasks", values) as BenchProblem[];
  const shown = problems.slice(0, limit);
  if (values.json) {
    for (const p of shown) process.stdout.write(JSON.stringify(p) + "\n");
    return;
  }
  const blocks = shown.map((p) =>
    [
      `${p.id}  [${p.benchmark}${p.difficulty ? `, ${p.difficulty}` : ""}]${p.entryPoint ? `  entry point: ${p.entryPoint}` : ""}`,
      `  prompt:`,
      ...p.prompt.trimEnd().split("\n").slice(0, 12).map((l) => `    ${l}`),
      ...(p.prompt.trimEnd().split("\n").length > 12 ? ["    ..."] : []),
      `  visible tests (${p.visible.length}):`,
      ...p.visible.map((t) => `    ${describeTest(t)}`),
      `  hidden tests (${p.hidden.length}):`,
      ...p.hidden.slice(0, 5).map((t) => `    ${describeTest(t)}`),
      ...(p.hidden.length > 5 ? [`    ... ${p.hidden.length - 5} more`] : []),
      `  reference: ${p.reference === undefined ? "none" : `${p.reference.split("\n").length} lines`}`,
    ].join("\n"),
  );
  process.stdout.write(blocks.join("\n\n") + "\n");
  process.stdout.write(`\n${shown.length} of ${problems.length} ${bench} problems shown\n`);
}

export { isBenchmarkName };
