/**
 * Training throughput of the kit's GPT: one full step (forward, backward, Adam update) in
 * tokens/s, next to
 *   - a straightforward tfjs implementation of the same model and step (plain tf.matMul with
 *     transpose flags and tf's own gradients, one-hot matMul embedding, tf.train.adam), to show
 *     what the fast ops of src/model/ops.ts buy, and
 *   - the same step in PyTorch (bench/torch_gpt_step.py), when /usr/bin/python3 has torch.
 * The two tfjs variants alternate step by step and torch runs after them. The cores may be
 * shared with other jobs, so besides wall-clock medians (the main fields) the JSON also gives
 * throughput per second of CPU time of each process (`*_cpu_*`), which load disturbs less.
 *
 *   node --import tsx bench/train.ts [--steps 8] [--shape reference|default] [--no-torch]
 *
 * Shapes: "reference" = vocab 64, d_model 64, 2 layers, 4 heads, seq 64, batch 32 (the shape
 * of the PyTorch comparison); "default" = DEFAULT_GPT_CONFIG at seq 512, batch 8.
 * Progress goes to stdout; the LAST line is one JSON object.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from "../src/model/gpt";
import { AdamW, optimizerStep, sftLoss } from "../src/model/train";

interface Args {
  steps: number;
  shape: "reference" | "default";
  torch: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { steps: 8, shape: "reference", torch: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--steps") args.steps = Number(argv[++i]);
    else if (flag === "--shape") args.shape = argv[++i] as Args["shape"];
    else if (flag === "--no-torch") args.torch = false;
    else throw new Error(`bench/train.ts: unknown argument "${flag}" (expected --steps N, --shape reference|default, --no-torch)`);
  }
  if (!Number.isInteger(args.steps) || args.steps < 1) throw new Error(`bench/train.ts: --steps must be a positive integer (got ${args.steps})`);
  if (args.shape !== "reference" && args.shape !== "default") throw new Error(`bench/train.ts: --shape must be reference or default (got ${args.shape})`);
  return args;
}

/**
 * The straightforward tfjs forward pass: what one writes first. Same weights and maths as
 * GPT.logits, but dense layers are tf.matMul on 2-D views with tf's gradients (which use the
 * transposeA/transposeB forms), attention uses tf.matMul(q, k, false, true), and the embedding
 * is a one-hot matMul (tf.gather has no gradient on wasm).
 */
export function naiveLogits(model: GPT, ids: tf.Tensor2D): tf.Tensor3D {
  const { dModel: D, nHead: H, nLayer, vocabSize: V } = model.config;
  const [B, T] = ids.shape;
  const hd = D / H;
  const w = (name: string) => model.weights.get(name)! as tf.Tensor;
  const rms = (x: tf.Tensor, g: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), g);
  const linear = (x: tf.Tensor, weight: tf.Tensor) => tf.matMul(x as tf.Tensor2D, weight as tf.Tensor2D);
  const toHeads = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]) as tf.Tensor3D;
  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, V), "float32");
    const positions = tf.slice(w("wpe"), [0, 0], [T, D]);
    let x = tf.reshape(tf.add(tf.reshape(linear(oneHot, w("wte")), [B, T, D]), positions), [B * T, D]);
    const mask = tf.tensor2d(Array.from({ length: T * T }, (_, i) => (i % T > Math.floor(i / T) ? -1e9 : 0)), [T, T]);
    for (let l = 0; l < nLayer; l++) {
      const qkv = linear(rms(x, w(`h.${l}.ln1.g`)), w(`h.${l}.attn.wqkv`));
      const [q, k, v] = tf.split(qkv, 3, 1).map(toHeads);
      const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd)), mask);
      const heads = tf.matMul(tf.softmax(scores) as tf.Tensor3D, v);
      const merged = tf.reshape(tf.transpose(tf.reshape(heads, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, D]);
      x = tf.add(x, linear(merged, w(`h.${l}.attn.wo`)));
      x = tf.add(x, linear(tf.relu(linear(rms(x, w(`h.${l}.ln2.g`)), w(`h.${l}.mlp.wfc`))), w(`h.${l}.mlp.wproj`)));
    }
    return tf.reshape(linear(rms(x, w("lnf.g")), w("head")), [B, T, V]) as tf.Tensor3D;
  });
}

function naiveLoss(model: GPT, ids: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  const V = model.config.vocabSize;
  return tf.tidy(() => {
    const logp = tf.logSoftmax(tf.reshape(naiveLogits(model, ids), [-1, V]));
    const oneHot = tf.cast(tf.oneHot(tf.reshape(targets, [-1]) as tf.Tensor1D, V), "float32");
    return tf.neg(tf.mean(tf.sum(tf.mul(logp, oneHot), -1))) as tf.Scalar;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface TorchResult {
  tokens_per_s: number;
  ms_per_step: number;
  cpu_tokens_per_s: number;
  threads: number;
  torch_version: string;
}

function runTorch(config: GPTConfig, seq: number, batch: number, steps: number): { result: TorchResult | null; why?: string } {
  const python = "/usr/bin/python3";
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) return { result: null, why: `${python} -c 'import torch' failed (apt-get install python3-torch)` };
  const script = path.join(__dirname, "torch_gpt_step.py");
  const flags = ["--vocab", config.vocabSize, "--d-model", config.dModel, "--layers", config.nLayer, "--heads", config.nHead, "--mlp-ratio", config.mlpRatio, "--seq", seq, "--batch", batch, "--steps", steps].map(String);
  const run = spawnSync(python, [script, ...flags], { encoding: "utf8" });
  if (run.status !== 0) return { result: null, why: `torch_gpt_step.py exited ${run.status}: ${run.stderr.trim().split("\n").pop()}` };
  const lines = run.stdout.trim().split("\n");
  return { result: JSON.parse(lines[lines.length - 1]) as TorchResult };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = await selectBackend();
  const [seq, batch] = args.shape === "reference" ? [64, 32] : [DEFAULT_GPT_CONFIG.blockSize, 8];
  const config: GPTConfig =
    args.shape === "reference" ? { vocabSize: 64, blockSize: seq, dModel: 64, nLayer: 2, nHead: 4, mlpRatio: 4 } : { ...DEFAULT_GPT_CONFIG };
  const fast = GPT.create(config, 0);
  const naive = GPT.create(config, 0);
  console.log(`backend ${backend.tfName}; ${fast.summary()}; batch ${batch} x seq ${seq}; ${args.steps} timed steps each`);

  const ids = tf.randomUniform([batch, seq], 0, config.vocabSize, "int32", 1) as tf.Tensor2D;
  const targets = tf.randomUniform([batch, seq], 0, config.vocabSize, "int32", 2) as tf.Tensor2D;
  const mask = tf.ones([batch, seq]) as tf.Tensor2D;
  const check = tf.tidy(() => tf.max(tf.abs(tf.sub(fast.logits(ids), naiveLogits(naive, ids)))).dataSync()[0]);
  console.log(`same logits from both implementations: max |difference| = ${check.toExponential(2)}`);
  if (!(check < 1e-3)) throw new Error(`bench/train.ts: the fast and naive forward passes disagree (${check})`);

  const adamW = new AdamW({ learningRate: 1e-3, beta2: 0.999 });
  const adam = tf.train.adam(1e-3);
  const naiveVars = [...naive.weights.values()];
  const stepFast = () => optimizerStep(fast, adamW, () => sftLoss(fast, ids, targets, mask)).loss;
  const stepNaive = () => {
    const loss = adam.minimize(() => naiveLoss(naive, ids, targets), true, naiveVars)!;
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  };
  const timed = (f: () => number) => {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const loss = f();
    const cpu = process.cpuUsage(cpuStarted);
    return { ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, loss };
  };
  for (let i = 0; i < 2; i++) {
    stepFast();
    stepNaive();
  }
  const [fastMs, naiveMs, fastCpuMs, naiveCpuMs]: number[][] = [[], [], [], []];
  const tensorsBefore = tf.memory().numTensors;
  for (let i = 0; i < args.steps; i++) {
    const a = timed(stepFast);
    const b = timed(stepNaive);
    fastMs.push(a.ms);
    naiveMs.push(b.ms);
    fastCpuMs.push(a.cpuMs);
    naiveCpuMs.push(b.cpuMs);
    console.log(`step ${i + 1}/${args.steps}: kit ${a.ms.toFixed(0)} ms (loss ${a.loss.toFixed(3)}), naive ${b.ms.toFixed(0)} ms (loss ${b.loss.toFixed(3)})`);
  }
  if (tf.memory().numTensors !== tensorsBefore) throw new Error(`bench/train.ts: tensor count grew from ${tensorsBefore} to ${tf.memory().numTensors}`);
  const tokens = batch * seq;
  const tfjsTokensPerS = tokens / (median(fastMs) / 1000);
  const naiveTokensPerS = tokens / (median(naiveMs) / 1000);
  const tfjsCpuTokensPerS = tokens / (median(fastCpuMs) / 1000);

  let torch: TorchResult | null = null;
  if (args.torch) {
    console.log("running bench/torch_gpt_step.py ...");
    const run = runTorch(config, seq, batch, args.steps);
    torch = run.result;
    if (!torch) console.log(`torch not measured: ${run.why}`);
    else console.log(`torch ${torch.torch_version}, ${torch.threads} thread(s): ${torch.ms_per_step.toFixed(0)} ms/step`);
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  const result = {
    backend: backend.tfName,
    shape: args.shape,
    config: { ...config, seq, batch },
    parameters: fast.parameterCount(),
    tfjs_ms_per_step: round(median(fastMs)),
    tfjs_tokens_per_s: round(tfjsTokensPerS),
    naive_tfjs_ms_per_step: round(median(naiveMs)),
    naive_tfjs_tokens_per_s: round(naiveTokensPerS),
    speedup_vs_naive: Math.round((tfjsTokensPerS / naiveTokensPerS) * 100) / 100,
    torch_tokens_per_s: torch ? torch.tokens_per_s : null,
    torch_threads: torch ? torch.threads : null,
    ratio_vs_torch: torch ? Math.round((tfjsTokensPerS / torch.tokens_per_s) * 100) / 100 : null,
    tfjs_cpu_tokens_per_s: round(tfjsCpuTokensPerS),
    naive_tfjs_cpu_tokens_per_s: round(tokens / (median(naiveCpuMs) / 1000)),
    torch_cpu_tokens_per_s: torch ? torch.cpu_tokens_per_s : null,
    ratio_vs_torch_cpu: torch ? Math.round((tfjsCpuTokensPerS / torch.cpu_tokens_per_s) * 100) / 100 : null,
    steps: args.steps,
  };
  tf.dispose([ids, targets, mask]);
  adamW.dispose();
  adam.dispose();
  fast.dispose();
  naive.dispose();
  console.log(JSON.stringify(result));
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
