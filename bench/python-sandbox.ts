/**
 * Python sandbox throughput: programs per second through PythonSandbox on HumanEval's canonical
 * solutions (each run on its visible tests and its hidden check, as `murphy eval --bench
 * humaneval` runs them), and, in the same run, the rate of the unsandboxed way upstream harnesses
 * work: one plain `python3` per program executing prompt + solution + check.
 *
 *   node --no-node-snapshot --import tsx bench/python-sandbox.ts [--programs 164] [--concurrency n]
 *     [--plain-samples 40]
 *
 * Every program must pass (the run fails otherwise). The last line printed is one JSON object:
 * programs_per_s, plain_programs_per_s, sandbox_cost (plain rate / sandbox rate), programs,
 * concurrency, processes_per_program, and context (load average, CPUs). Other processes on the
 * machine share the CPUs: the load average is printed with the result.
 */
import { spawn } from "node:child_process";
import * as os from "node:os";
import { loadHumanEval } from "../src/benchmarks/humaneval";
import { evaluateBenchProgram } from "../src/benchmarks/evaluate";
import { PythonSandbox } from "../src/pysandbox/index";

function parseOptions(argv: string[]): { programs: number; concurrency: number; plainSamples: number } {
  const options = { programs: 164, concurrency: os.availableParallelism(), plainSamples: 40 };
  const flags: Record<string, keyof typeof options> = { "--programs": "programs", "--concurrency": "concurrency", "--plain-samples": "plainSamples" };
  for (let i = 0; i < argv.length; i += 2) {
    const key = flags[argv[i]];
    const value = Number(argv[i + 1]);
    if (key === undefined || !Number.isInteger(value) || value < 1) throw new Error(`bench/python-sandbox.ts: bad argument ${argv[i]} ${argv[i + 1] ?? ""} (flags: ${Object.keys(flags).join(", ")})`);
    options[key] = value;
  }
  return options;
}

/** Runs `jobs` at most `concurrency` at a time. */
async function pool<T>(jobs: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

function plainRun(source: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn("/usr/bin/python3", ["-c", source], { stdio: "ignore" });
    child.on("close", (code) => resolve(code));
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const problems = loadHumanEval();
  const programs = Array.from({ length: options.programs }, (_, i) => problems[i % problems.length]);
  const sandbox = new PythonSandbox({ concurrency: options.concurrency, timeoutMs: 60_000 });
  // One warm-up program: the sandbox's start-up probe and the file cache, outside the timing.
  await evaluateBenchProgram(sandbox, problems[0], problems[0].reference as string);

  const started = performance.now();
  const evaluations = await Promise.all(programs.map((p) => evaluateBenchProgram(sandbox, p, p.reference as string)));
  const seconds = (performance.now() - started) / 1000;
  await sandbox.close();
  const failed = evaluations.filter((e) => e.outcome !== "passed").length;
  if (failed > 0) throw new Error(`${failed} canonical solutions did not pass in the sandbox`);

  // The unsandboxed baseline: prompt + solution + test + check(entry_point) in one plain python3.
  const plain = programs.slice(0, options.plainSamples).map((p) => () => plainRun(`${p.reference}\n\n${p.setup.slice(p.setup.indexOf("\n    pass\n") + 10)}\ncheck(${p.entryPoint})\n`));
  const plainStarted = performance.now();
  const codes = await pool(plain, options.concurrency);
  const plainSeconds = (performance.now() - plainStarted) / 1000;
  if (codes.some((c) => c !== 0)) throw new Error("a canonical solution failed when run plainly");

  const rate = options.programs / seconds;
  const plainRate = plain.length / plainSeconds;
  const result = {
    programs_per_s: Math.round(rate * 10) / 10,
    plain_programs_per_s: Math.round(plainRate * 10) / 10,
    sandbox_cost: Math.round((plainRate / rate) * 100) / 100,
    programs: options.programs,
    seconds: Math.round(seconds * 10) / 10,
    concurrency: options.concurrency,
    processes_per_program: 2,
    tests_per_program: Math.round((evaluations.reduce((n, e) => n + e.run.tests.length, 0) / evaluations.length) * 10) / 10,
    context: { load_average_1m: Math.round(os.loadavg()[0] * 100) / 100, cpus: os.cpus().length, node: process.version },
  };
  process.stdout.write(`${options.programs} HumanEval canonical programs through the Python sandbox in ${result.seconds} s: ${result.programs_per_s} programs/s (${options.concurrency} at once); plain python3 without a sandbox: ${result.plain_programs_per_s} programs/s\n`);
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/python-sandbox.ts: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
