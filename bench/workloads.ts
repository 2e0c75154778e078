/**
 * The two training workloads bench/train.ts and bench/profile-train.ts time, each one full
 * optimizer step of the kit's own code:
 *
 * - "reference": the shape of the PyTorch comparison (vocab 64, d_model 64, 2 layers, 4 heads,
 *   T = 64, B = 32): next-token cross-entropy on every position (`sftLoss`), Adam.
 * - "kit": the base checkpoint's model (data/checkpoints/base/config.json) on one real MURPHY
 *   update (bench/rl-step-shape.json: the prompt and completion lengths of every training
 *   example of step 1 of configs/murphy-mars.json, which siblings share a prompt, which have a
 *   non-zero advantage), run as the trainer runs it: `policyUpdate` with the default config
 *   (shared-prompt layout: each sibling group's prompt forwarded once, advantage-0 completions
 *   skipped, micro-batches of 16 completion rows; clipped surrogate on completion tokens,
 *   entropy diagnostics, gradient clip 1, AdamW). Token ids, advantages and old log-probs are
 *   drawn from a seed: speed does not depend on their values. The layout the update forwards is
 *   written to a temporary file for bench/torch_gpt_step.py, which runs the same computation.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { GPT, type GPTConfig } from "../src/model/gpt";
import { AdamW, optimizerStep, sftLoss } from "../src/model/train";
import { defaultConfig } from "../src/murphy/config";
import type { TrainingExample } from "../src/murphy/pipeline";
import { sharedPromptBatches } from "../src/murphy/packing";
import { policyUpdate } from "../src/murphy/update";
import { Rng } from "../src/util/rng";

export type WorkloadName = "reference" | "kit";

export interface Workload {
  name: WorkloadName;
  config: GPTConfig;
  /**
   * The padded shape of each micro-batch: reference `[rows, width]`; kit (shared-prompt layout)
   * `[prefixes, prefix width, completion rows, row width]`.
   */
  microBatches: number[][];
  /** Positions computed per step (padding included: both frameworks compute them). */
  paddedTokens: number;
  /** One optimizer step; returns the loss. */
  step(): number;
  /** What the PyTorch script needs to run the same step (bench/torch_gpt_step.py flags). */
  torchArgs: string[];
  dispose(): void;
}

export const REFERENCE_CONFIG: GPTConfig = { vocabSize: 64, blockSize: 64, dModel: 64, nLayer: 2, nHead: 4, mlpRatio: 4 };
const REFERENCE_BATCH = 32;

export const RL_SHAPE_FILE = path.join(__dirname, "rl-step-shape.json");
const BASE_CONFIG_FILE = path.join(__dirname, "..", "data", "checkpoints", "base", "config.json");

function modelFlags(c: GPTConfig): string[] {
  return ["--vocab", c.vocabSize, "--block", c.blockSize, "--d-model", c.dModel, "--layers", c.nLayer, "--heads", c.nHead, "--mlp-ratio", c.mlpRatio].map(String);
}

/** The reference shape: sftLoss on every position of a [32, 64] batch, Adam(lr 1e-3). */
export function referenceWorkload(seed = 0): Workload {
  const config = REFERENCE_CONFIG;
  const [B, T] = [REFERENCE_BATCH, config.blockSize];
  const model = GPT.create(config, seed);
  const ids = tf.randomUniform([B, T], 0, config.vocabSize, "int32", seed + 1) as tf.Tensor2D;
  const targets = tf.randomUniform([B, T], 0, config.vocabSize, "int32", seed + 2) as tf.Tensor2D;
  const mask = tf.ones([B, T]) as tf.Tensor2D;
  const optimizer = new AdamW({ learningRate: 1e-3, beta2: 0.999 });
  return {
    name: "reference",
    config,
    microBatches: [[B, T]],
    paddedTokens: B * T,
    step: () => optimizerStep(model, optimizer, () => sftLoss(model, ids, targets, mask)).loss,
    torchArgs: [...modelFlags(config), "--seq", String(T), "--batch", String(B)],
    dispose: () => {
      tf.dispose([ids, targets, mask]);
      optimizer.dispose();
      model.dispose();
    },
  };
}

interface RlShape {
  model: GPTConfig;
  microBatchSize: number;
  temperature: number;
  /** Per training example: [prompt tokens, completion tokens, distinct prompt index, 1 if advantage != 0]. */
  examples: [number, number, number, number][];
}

/** Read bench/rl-step-shape.json and check what bench/train.ts relies on. */
export function readRlShape(file = RL_SHAPE_FILE): RlShape {
  const shape = JSON.parse(fs.readFileSync(file, "utf8")) as RlShape;
  const ok = (e: unknown) => Array.isArray(e) && e.length === 4 && e.every((n) => Number.isInteger(n) && n >= 0) && e[0] >= 1 && e[1] >= 1 && e[3] <= 1;
  if (!Array.isArray(shape.examples) || !shape.examples.every(ok)) {
    throw new Error(`${file}: field "examples" must be a list of [promptTokens >= 1, completionTokens >= 1, promptIndex, trained 0|1] (regenerate: node --import tsx bench/rl-step-shape.ts)`);
  }
  const promptLength = new Map<number, number>();
  for (const [p, , g] of shape.examples) {
    if ((promptLength.get(g) ?? p) !== p) throw new Error(`${file}: prompt ${g} appears with lengths ${promptLength.get(g)} and ${p}`);
    promptLength.set(g, p);
  }
  if (!Number.isInteger(shape.microBatchSize) || shape.microBatchSize < 1) throw new Error(`${file}: field "microBatchSize" must be a positive integer`);
  if (!(shape.temperature > 0)) throw new Error(`${file}: field "temperature" must be a number > 0`);
  return shape;
}

/**
 * The micro-batches the update runs, as bench/torch_gpt_step.py rebuilds them: for each, the real
 * length of each prefix and its padded width P, and for each completion row its prefix and its
 * real length, padded to S (src/murphy/packing.ts).
 */
export interface PrefixLayout {
  prefixLengths: number[];
  P: number;
  rows: [number, number][];
  S: number;
}

/** One real MURPHY update (see the file comment) on the base checkpoint's model shape. */
export function kitWorkload(seed = 0): Workload {
  const shape = readRlShape();
  const base = JSON.parse(fs.readFileSync(BASE_CONFIG_FILE, "utf8")) as { model: GPTConfig };
  const config = base.model;
  const rng = new Rng(`bench-kit-workload:${seed}`);
  const tokens = (n: number) => Array.from({ length: n }, () => rng.int(1, config.vocabSize - 1));
  const prompts = new Map<number, number[]>();
  const examples: TrainingExample[] = shape.examples.map(([promptLength, completionLength, prompt, trained], i) => {
    if (!prompts.has(prompt)) prompts.set(prompt, tokens(promptLength));
    return {
      taskId: `bench-${prompt}`,
      nodeId: i,
      turn: 1,
      promptIds: prompts.get(prompt)!,
      completionIds: tokens(completionLength),
      // Near the policy's own log-probs of a uniform-ish model, so ratios stay near 1.
      sampledLogprobs: Array.from({ length: completionLength }, () => -Math.log(config.vocabSize) + 0.01 * rng.normal()),
      advantage: trained ? rng.normal() : 0,
    };
  });
  const model = GPT.create(config, seed);
  const defaults = defaultConfig();
  const optimizer = new AdamW({ learningRate: defaults.optimizer.lr, weightDecay: defaults.optimizer.weightDecay });
  // What policyUpdate will forward: the trained examples in the shared-prompt layout.
  const batches = sharedPromptBatches(
    examples.filter((e) => e.advantage !== 0),
    0,
    shape.microBatchSize,
  );
  const layout: PrefixLayout[] = batches.map((b) => ({
    prefixLengths: b.prefixLengths,
    P: b.prefixIds[0].length,
    rows: b.rowGroup.map((g, r) => [g, examples[b.exampleIndex[r]].completionIds.length]),
    S: b.ids[0].length,
  }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-bench-"));
  const layoutFile = path.join(dir, "kit-layout.json");
  const batchTokens = examples.reduce((a, e) => a + e.completionIds.length, 0);
  fs.writeFileSync(layoutFile, JSON.stringify({ batches: layout, batchTokens, temperature: shape.temperature }));
  return {
    name: "kit",
    config,
    microBatches: layout.map((l) => [l.prefixLengths.length, l.P, l.rows.length, l.S]),
    paddedTokens: layout.reduce((a, l) => a + l.prefixLengths.length * l.P + l.rows.length * l.S, 0),
    step: () => {
      const update = policyUpdate(model, optimizer, examples, 0, {
        loss: { ...defaults.loss, maxTokens: defaults.sampling.maxNewTokens },
        updateEpochs: 1,
        microBatchSize: shape.microBatchSize,
        temperature: shape.temperature,
        clipNorm: defaults.optimizer.clipNorm,
      });
      return update.epochs[0].loss;
    },
    torchArgs: [...modelFlags(config), "--rl-layout", layoutFile, "--lr", String(defaults.optimizer.lr), "--clip-norm", String(defaults.optimizer.clipNorm)],
    dispose: () => {
      optimizer.dispose();
      model.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function makeWorkload(name: WorkloadName, seed = 0): Workload {
  return name === "reference" ? referenceWorkload(seed) : kitWorkload(seed);
}
