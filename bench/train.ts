/**
 * Training throughput of the kit against PyTorch on an optimised BLAS, side by side.
 *
 * Two workloads (bench/workloads.ts): the "reference" shape of the PyTorch comparison (V64 D64
 * L2 H4, T 64, B 32, cross-entropy, Adam) and the "kit" shape (the base checkpoint's model on
 * one real MURPHY update as the trainer runs it: of its 68 completions the 20 with a non-zero
 * advantage, each sibling group's prompt forwarded once, clipped surrogate, AdamW; PyTorch runs
 * the same shared-prompt computation). For each, the kit's step and the same step in PyTorch
 * (bench/torch_gpt_step.py, a long-lived process driven over stdin) ALTERNATE, repetition by
 * repetition, so both see the same machine load; medians are reported. Both use one thread:
 * torch.set_num_threads(1) with OPENBLAS_NUM_THREADS=1 / OMP_NUM_THREADS=1, and the kit's wasm
 * backend with OpenBLAS on one thread. With --two-threads, then the same with two threads each
 * (kit: OpenBLAS on two threads; torch: two threads); off by default, because on a machine whose
 * cores are busy with other jobs two spinning threads per process make both sides many times
 * slower and the comparison says nothing.
 *
 * PyTorch's BLAS: Debian's python3-torch alone links the reference (netlib) BLAS, several times
 * slower than what a researcher's PyTorch uses. The bench reports which BLAS torch loaded (from
 * torch.__config__ and the libraries mapped into its process) and OpenBLAS's core type, and
 * refuses to report a ratio unless it is OpenBLAS (`npm run bench:train` installs it as root:
 * scripts/setup-bench.sh). OpenBLAS reads OPENBLAS_* variables (e.g. OPENBLAS_CORETYPE,
 * OPENBLAS_L2_SIZE) that can make it slower: torch runs once with every OPENBLAS_* variable
 * removed ("unset") and, when the shell sets any, once more with them ("shell"). Ratios are
 * against the faster of the two.
 *
 *   node --no-node-snapshot --import tsx bench/train.ts [--reps 7] [--workload both|reference|kit]
 *        [--two-threads] [--naive]
 *
 * `--naive` adds a straightforward tfjs implementation of the reference step (tf.matMul with
 * transpose flags and tf's own gradients) to show what src/model/ops.ts buys.
 * Progress goes to stdout; the LAST line is one JSON object.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as path from "node:path";
import * as readline from "node:readline";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { GPT } from "../src/model/gpt";
import { nativeKernelsInfo, setNativeThreads } from "../src/model/native-kernels";
import { naiveLoss } from "./naive-gpt";
import { REFERENCE_CONFIG, makeWorkload, type Workload, type WorkloadName } from "./workloads";

interface Args {
  reps: number;
  workloads: WorkloadName[];
  twoThreads: boolean;
  naive: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { reps: 7, workloads: ["reference", "kit"], twoThreads: false, naive: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--reps") args.reps = Number(argv[++i]);
    else if (flag === "--workload") {
      const w = argv[++i];
      if (w !== "both" && w !== "reference" && w !== "kit") throw new Error(`bench/train.ts: --workload must be both, reference or kit (got ${w})`);
      args.workloads = w === "both" ? ["reference", "kit"] : [w];
    } else if (flag === "--two-threads") args.twoThreads = true;
    else if (flag === "--naive") args.naive = true;
    else throw new Error(`bench/train.ts: unknown argument "${flag}" (expected --reps N, --workload both|reference|kit, --two-threads, --naive)`);
  }
  if (!Number.isInteger(args.reps) || args.reps < 1) throw new Error(`bench/train.ts: --reps must be a positive integer (got ${args.reps})`);
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

interface TorchBlas {
  kind: "openblas" | "reference" | "other";
  torch_blas_info: string;
  libraries: string[];
  openblas_env: Record<string, string>;
  core?: string;
  config?: string;
  openblas_threads?: number;
}

/** A bench/torch_gpt_step.py --serve process: one timed step per request. */
class TorchServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = "";
  ready!: { tokens: number; threads: number; torch_version: string; blas: TorchBlas };

  constructor(readonly variant: string, torchArgs: string[], threads: number, env: NodeJS.ProcessEnv) {
    const script = path.join(__dirname, "torch_gpt_step.py");
    const threadEnv = { OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
    this.child = spawn("/usr/bin/python3", [script, ...torchArgs, "--threads", String(threads), "--serve"], { env: { ...env, ...threadEnv } });
    this.child.stderr.on("data", (d) => (this.stderr += d));
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  private async next(): Promise<string> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`torch (${this.variant}) exited: ${this.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    return value;
  }

  async start(): Promise<this> {
    this.ready = JSON.parse(await this.next());
    return this;
  }

  async step(): Promise<{ ms: number; cpu_ms: number; loss: number }> {
    this.child.stdin.write("step\n");
    return JSON.parse(await this.next());
  }

  close(): void {
    this.child.stdin.end("quit\n");
  }
}

/** The environment with every OPENBLAS_* variable removed. */
function withoutOpenblasVars(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("OPENBLAS_")));
}

/** OPENBLAS_* settings of the shell, except the thread count the bench sets itself. */
function shellOpenblasVars(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("OPENBLAS_") && k !== "OPENBLAS_NUM_THREADS") as [string, string][]);
}

function timedKit(workload: Workload): { ms: number; cpuMs: number; loss: number } {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  const loss = workload.step();
  const cpu = process.cpuUsage(cpuStarted);
  return { ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, loss };
}

interface Measured {
  kit_ms: number;
  kit_cpu_ms: number;
  kit_tokens_per_s: number;
  torch: Record<string, { ms: number; cpu_ms: number; tokens_per_s: number }>;
  best_torch_variant: string;
  ratio: number;
  ratio_cpu: number;
}

/** Alternate kit and torch steps `reps` times (after warm-up) and take medians. */
async function sideBySide(workload: Workload, servers: TorchServer[], reps: number, label: string): Promise<Measured> {
  for (let i = 0; i < 2; i++) workload.step();
  const kit = { ms: [] as number[], cpu: [] as number[] };
  const torch = servers.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  const tensorsBefore = tf.memory().numTensors;
  for (let r = 0; r < reps; r++) {
    // Alternate who goes first so neither always runs right after the other's cache footprint.
    const order = r % 2 === 0 ? ["kit", ...servers.map((_, i) => i)] : [...servers.map((_, i) => i), "kit"];
    const parts: string[] = [];
    for (const who of order) {
      if (who === "kit") {
        const k = timedKit(workload);
        kit.ms.push(k.ms);
        kit.cpu.push(k.cpuMs);
        parts.push(`kit ${k.ms.toFixed(0)} ms (loss ${k.loss.toFixed(3)})`);
      } else {
        const i = who as number;
        const t = await servers[i].step();
        torch[i].ms.push(t.ms);
        torch[i].cpu.push(t.cpu_ms);
        parts.push(`torch/${servers[i].variant} ${t.ms.toFixed(0)} ms`);
      }
    }
    console.log(`${label} rep ${r + 1}/${reps}: ${parts.join(", ")}`);
  }
  if (tf.memory().numTensors !== tensorsBefore) throw new Error(`bench/train.ts: tensor count grew from ${tensorsBefore} to ${tf.memory().numTensors}`);
  const tokens = workload.paddedTokens;
  const kitMs = median(kit.ms);
  const kitCpu = median(kit.cpu);
  const torchOut: Measured["torch"] = {};
  servers.forEach((s, i) => {
    if (s.ready.tokens !== tokens) throw new Error(`bench/train.ts: torch computes ${s.ready.tokens} positions per step, the kit ${tokens}`);
    torchOut[s.variant] = { ms: round1(median(torch[i].ms)), cpu_ms: round1(median(torch[i].cpu)), tokens_per_s: round1(tokens / (median(torch[i].ms) / 1000)) };
  });
  const best = servers.map((s) => s.variant).sort((a, b) => torchOut[a].ms - torchOut[b].ms)[0];
  return {
    kit_ms: round1(kitMs),
    kit_cpu_ms: round1(kitCpu),
    kit_tokens_per_s: round1(tokens / (kitMs / 1000)),
    torch: torchOut,
    best_torch_variant: best,
    ratio: round2(torchOut[best].ms / kitMs),
    ratio_cpu: round2(torchOut[best].cpu_ms / kitCpu),
  };
}

async function startServers(workload: Workload, threads: number): Promise<TorchServer[]> {
  const variants: [string, NodeJS.ProcessEnv][] = [["unset", withoutOpenblasVars(process.env)]];
  if (Object.keys(shellOpenblasVars()).length > 0) variants.push(["shell", process.env]);
  return Promise.all(variants.map(([name, env]) => new TorchServer(name, workload.torchArgs, threads, env).start()));
}

/** The naive tfjs reference step (see the file comment); returns its median ms over `reps`. */
async function naiveReference(reps: number): Promise<number> {
  const model = GPT.create(REFERENCE_CONFIG, 0);
  const ids = tf.randomUniform([32, 64], 0, 64, "int32", 1) as tf.Tensor2D;
  const targets = tf.randomUniform([32, 64], 0, 64, "int32", 2) as tf.Tensor2D;
  const adam = tf.train.adam(1e-3);
  const vars = [...model.weights.values()];
  const times: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const started = performance.now();
    const loss = adam.minimize(() => naiveLoss(model, ids, targets), true, vars)!;
    loss.dataSync();
    loss.dispose();
    if (i > 0) times.push(performance.now() - started);
  }
  tf.dispose([ids, targets]);
  adam.dispose();
  model.dispose();
  return median(times);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = await selectBackend();
  const native = nativeKernelsInfo();
  console.log(`backend ${backend.tfName}; native OpenBLAS kernels: ${native.available ? `${native.core} (${native.config})` : `off (${native.why})`}`);
  const shellVars = shellOpenblasVars();
  console.log(`shell OPENBLAS_* settings: ${Object.keys(shellVars).length ? JSON.stringify(shellVars) : "none (torch runs once, with them unset)"}`);

  const result: Record<string, unknown> = {
    backend: backend.tfName,
    kit_blas: native.available ? `OpenBLAS ${native.core}` : `none (wasm XNNPACK; ${native.why})`,
    shell_openblas_env: shellVars,
  };
  let refused: string | undefined;
  for (const name of args.workloads) {
    const workload = makeWorkload(name);
    const suffix = name === "reference" ? "" : "_kit_shape";
    const c = workload.config;
    console.log(`${name}: vocab ${c.vocabSize}, d ${c.dModel}, ${c.nLayer} layers x ${c.nHead} heads, mlp ${c.mlpRatio}x; micro-batches ${name === "kit" ? "[prefixes, prefix width, rows, row width]" : "[rows, width]"} ${JSON.stringify(workload.microBatches)}; ${workload.paddedTokens} positions per step`);
    for (const threads of args.twoThreads ? [1, 2] : [1]) {
      setNativeThreads(threads);
      const servers = await startServers(workload, threads);
      try {
        const blas = servers[0].ready.blas;
        const blasName = blas.kind === "openblas" ? `OpenBLAS (${blas.core}; ${blas.libraries.find((l) => l.includes("libopenblas"))})` : `${blas.kind} (${blas.libraries.join(", ") || "no BLAS library mapped"})`;
        if (threads === 1) {
          result.torch_version = servers[0].ready.torch_version;
          result.torch_blas = blasName;
          result.torch_blas_info = blas.torch_blas_info;
          result.torch_openblas_core = blas.core ?? null;
        }
        if (blas.kind !== "openblas") {
          refused = `torch loaded ${blasName}, not OpenBLAS: no ratio is reported against it (run as root: bash scripts/setup-bench.sh)`;
          console.log(`refusing to compare: ${refused}`);
          break;
        }
        const m = await sideBySide(workload, servers, threads === 1 ? args.reps : 3, `${name} ${threads}T`);
        console.log(`${name}, ${threads} thread(s): kit ${m.kit_ms} ms/step, torch ${JSON.stringify(m.torch)} -> ratio ${m.ratio} (cpu ${m.ratio_cpu})`);
        const key = threads === 1 ? suffix : `${suffix}_2threads`;
        result[`ratio_vs_torch${key}`] = m.ratio;
        result[`ratio_vs_torch_cpu${key}`] = m.ratio_cpu;
        result[`tfjs_ms_per_step${key}`] = m.kit_ms;
        result[`tfjs_tokens_per_s${key}`] = m.kit_tokens_per_s;
        result[`torch_ms_per_step${key}`] = m.torch[m.best_torch_variant].ms;
        result[`torch_tokens_per_s${key}`] = m.torch[m.best_torch_variant].tokens_per_s;
        result[`torch_variants${key}`] = m.torch;
      } finally {
        servers.forEach((s) => s.close());
        setNativeThreads(1);
      }
    }
    result[`config${suffix}`] = { ...workload.config, microBatches: workload.microBatches, positionsPerStep: workload.paddedTokens };
    workload.dispose();
    if (refused) break;
  }
  if (args.naive) {
    const ms = await naiveReference(args.reps);
    result.naive_tfjs_ms_per_step = round1(ms);
    console.log(`naive tfjs reference step: ${ms.toFixed(0)} ms`);
  }
  result.threads = 1;
  result.reps = args.reps;
  if (refused) {
    result.ratio_vs_torch = null;
    result.ratio_vs_torch_kit_shape = null;
    result.refused = refused;
  }
  console.log(JSON.stringify(result));
  if (refused) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
