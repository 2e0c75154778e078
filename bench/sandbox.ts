/**
 * Sandbox throughput: programs per second through SandboxPool on realistic programs, and, in the
 * same run, the rate of the naive alternative, a fresh `node` process per program.
 *
 *   node --no-node-snapshot --import tsx bench/sandbox.ts [--programs 10000] [--pool-size 2]
 *     [--concurrency 256] [--process-samples 15] [--split validation]
 *
 * Programs: for every task of a split, its reference (correct) and the reference of another task
 * with the same signature (almost always wrong), each run on the task's full test list (visible
 * and hidden). Every program text is made unique with trailing whitespace, so V8's compilation
 * cache cannot help, as in training where sampled programs rarely repeat. Programs are submitted
 * `--concurrency` at a time, like a rollout that runs a turn's candidates together.
 *
 * The last line printed is one JSON object: programs_per_s, process_programs_per_s,
 * speedup_vs_process, pool_size, tests_per_program, and context (load average, CPUs, outcomes).
 * Other processes on the machine share the CPUs: the load average is printed with the result.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { SandboxPool } from "../src/sandbox/index";
import { RENDER_SOURCE } from "../src/sandbox/render";
import { loadSplit } from "../src/tasks/load";
import type { Split, Task, TestCase } from "../src/tasks/types";

interface Options {
  programs: number;
  poolSize: number;
  concurrency: number;
  processSamples: number;
  split: Split;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { programs: 10_000, poolSize: 2, concurrency: 256, processSamples: 15, split: "validation" };
  const numeric: Record<string, keyof Omit<Options, "split">> = {
    "--programs": "programs",
    "--pool-size": "poolSize",
    "--concurrency": "concurrency",
    "--process-samples": "processSamples",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === "--split" && (value === "train" || value === "validation" || value === "test")) {
      options.split = value;
    } else if (flag in numeric && Number.isInteger(Number(value)) && Number(value) >= 1) {
      options[numeric[flag]] = Number(value);
    } else {
      throw new Error(`bench/sandbox.ts: bad argument ${flag} ${value ?? ""} (flags: ${Object.keys(numeric).join(", ")}, --split)`);
    }
  }
  return options;
}

interface Program {
  code: string;
  tests: TestCase[];
  correct: boolean;
}

/** Each task's reference, and a same-signature reference of another task, on the full tests. */
function buildPrograms(tasks: readonly Task[]): Program[] {
  const bySignature = new Map<string, Task[]>();
  for (const task of tasks) bySignature.set(task.signature, [...(bySignature.get(task.signature) ?? []), task]);
  const programs: Program[] = [];
  for (const task of tasks) {
    const tests = [...task.visible, ...task.hidden];
    const peers = bySignature.get(task.signature) ?? [];
    const other = peers[(peers.indexOf(task) + 1) % peers.length];
    programs.push({ code: task.reference, tests, correct: true });
    if (other !== task) programs.push({ code: other.reference, tests, correct: other.reference === task.reference });
  }
  return programs;
}

/** Trailing whitespace spelling `n` in base 3: a different source text for every n. */
function uniqueSuffix(n: number): string {
  let suffix = "\n";
  for (let k = n; k > 0; k = Math.floor(k / 3)) suffix += [" ", "\t", "\n"][k % 3];
  return suffix;
}

/** The naive runner: one node process per program, same compile and same renderer. */
const PROCESS_RUNNER = String.raw`
const renderValue = (${RENDER_SOURCE})({
  getOwnPropertyDescriptor: Object.getOwnPropertyDescriptor, ownKeys: Reflect.ownKeys,
  isArray: Array.isArray, hasOwn: Object.hasOwn, lookupGetter: Object.prototype.__lookupGetter__,
  jsonStringify: JSON.stringify, String, objectToString: Object.prototype.toString,
  stringSlice: String.prototype.slice, uncurry: (m) => Function.prototype.call.bind(m),
});
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { code, tests } = JSON.parse(input);
  const fn = new Function("return (\n" + code + "\n)")();
  const outcomes = tests.map((t) => {
    try {
      return renderValue(fn(...structuredClone(t.input)), 10000) === renderValue(t.expected, 10000) ? "passed" : "wrong_answer";
    } catch (e) {
      return "runtime_error";
    }
  });
  process.stdout.write(JSON.stringify(outcomes));
});
`;

function runInFreshProcess(program: Program): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, ["-e", PROCESS_RUNNER], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) reject(new Error(`process runner exited with ${code}`));
      else if (!out.startsWith("[")) reject(new Error(`process runner printed ${out.slice(0, 80)}`));
      else resolve(performance.now() - start);
    });
    child.stdin.end(JSON.stringify({ code: program.code, tests: program.tests }));
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tasks = loadSplit(path.resolve(__dirname, "../data/tasks"), options.split);
  const programs = buildPrograms(tasks);
  const testsPerProgram = programs.reduce((sum, p) => sum + p.tests.length, 0) / programs.length;
  const loadBefore = os.loadavg()[0];
  console.log(
    `sandbox bench: ${programs.length} distinct programs from ${tasks.length} ${options.split} tasks, ` +
      `${testsPerProgram.toFixed(1)} tests each; running ${options.programs} with pool size ${options.poolSize}, ` +
      `concurrency ${options.concurrency}; ${os.cpus().length} CPUs, load average ${loadBefore.toFixed(2)}`,
  );

  const pool = new SandboxPool({ poolSize: options.poolSize });
  // Warm-up (not timed): starts the workers and their isolates.
  await Promise.all(programs.slice(0, 4 * options.poolSize).map((p) => pool.run(p.code, p.tests)));

  const outcomes: Record<string, number> = {};
  let referenceFailures = 0;
  let next = 0;
  let done = 0;
  const progressEvery = Math.max(1, Math.floor(options.programs / 5));
  const start = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.programs) {
        const n = next++;
        const program = programs[n % programs.length];
        const result = await pool.run(program.code + uniqueSuffix(n), program.tests);
        outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
        if (program.correct && result.outcome !== "passed") referenceFailures += 1;
        done += 1;
        if (done % progressEvery === 0) {
          const seconds = (performance.now() - start) / 1000;
          console.log(`  pool: ${done}/${options.programs} programs, ${(done / seconds).toFixed(0)} programs/s`);
        }
      }
    }),
  );
  const poolSeconds = (performance.now() - start) / 1000;
  const stats = pool.stats();
  await pool.close();
  const programsPerS = options.programs / poolSeconds;
  console.log(`  pool: ${programsPerS.toFixed(0)} programs/s (${poolSeconds.toFixed(2)} s); outcomes ${JSON.stringify(outcomes)}`);
  if (referenceFailures > 0) console.log(`  WARNING: ${referenceFailures} reference programs did not pass`);

  let processMs = 0;
  for (let i = 0; i < options.processSamples; i++) {
    processMs += await runInFreshProcess(programs[(i * 7) % programs.length]);
    if ((i + 1) % 5 === 0 || i + 1 === options.processSamples) {
      console.log(`  fresh process: ${i + 1}/${options.processSamples} programs, ${(processMs / (i + 1)).toFixed(1)} ms each`);
    }
  }
  const processProgramsPerS = options.processSamples / (processMs / 1000);
  const loadAfter = os.loadavg()[0];
  console.log(
    JSON.stringify({
      programs_per_s: Math.round(programsPerS),
      process_programs_per_s: Number(processProgramsPerS.toFixed(2)),
      speedup_vs_process: Math.round(programsPerS / processProgramsPerS),
      pool_size: options.poolSize,
      tests_per_program: Number(testsPerProgram.toFixed(2)),
      programs: options.programs,
      concurrency: options.concurrency,
      seconds: Number(poolSeconds.toFixed(3)),
      outcomes,
      reference_failures: referenceFailures,
      workers_lost: stats.workersLost,
      process_samples: options.processSamples,
      cpus: os.cpus().length,
      load_average: [Number(loadBefore.toFixed(2)), Number(loadAfter.toFixed(2))],
    }),
  );
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
