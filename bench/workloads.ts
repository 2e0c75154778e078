/**
 * The two training workloads bench/train.ts and bench/profile-train.ts time, each one full
 * optimizer step of the kit's own code:
 *
 * - "reference": the shape of the PyTorch comparison (vocab 64, d_model 64, 2 layers, 4 heads,
 *   T = 64, B = 32): next-token cross-entropy on every position (`sftLoss`), Adam.
 * - "kit": the base checkpoint's model (data/checkpoints/base/config.json) on one real MURPHY
 *   update (bench/rl-step-shape.json: the prompt and completion lengths of every training
 *   example of step 1 of configs/murphy-mars.json): `policyUpdate` with the default config
 *   (micro-batches of 16 right-padded sequences, clipped surrogate on completion tokens,
 *   entropy diagnostics, gradient clip 1, AdamW). Token ids and old log-probs are drawn from a
 *   seed: speed does not depend on their values.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { GPT, type GPTConfig } from "../src/model/gpt";
import { AdamW, optimizerStep, sftLoss } from "../src/model/train";
import { defaultConfig } from "../src/murphy/config";
import type { TrainingExample } from "../src/murphy/pipeline";
import { policyUpdate } from "../src/murphy/update";
import { Rng } from "../src/util/rng";

export type WorkloadName = "reference" | "kit";

export interface Workload {
  name: WorkloadName;
  config: GPTConfig;
  /** Sequences per optimizer step, and the padded [rows, width] of each micro-batch. */
  microBatches: [number, number][];
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
  examples: [number, number][];
}

/** Read bench/rl-step-shape.json and check what bench/train.ts relies on. */
export function readRlShape(file = RL_SHAPE_FILE): RlShape {
  const shape = JSON.parse(fs.readFileSync(file, "utf8")) as RlShape;
  if (!Array.isArray(shape.examples) || shape.examples.some((e) => !Array.isArray(e) || e.length !== 2 || !e.every((n) => Number.isInteger(n) && n >= 1))) {
    throw new Error(`${file}: field "examples" must be a list of [promptTokens, completionTokens] pairs of positive integers`);
  }
  if (!Number.isInteger(shape.microBatchSize) || shape.microBatchSize < 1) throw new Error(`${file}: field "microBatchSize" must be a positive integer`);
  return shape;
}

/** The micro-batches `policyUpdate` builds: consecutive groups, each padded to its longest row. */
export function microBatchShapes(examples: readonly [number, number][], size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < examples.length; i += size) {
    const group = examples.slice(i, i + size);
    out.push([group.length, Math.max(...group.map(([p, c]) => p + c))]);
  }
  return out;
}

/** One real MURPHY update (see the file comment) on the base checkpoint's model shape. */
export function kitWorkload(seed = 0): Workload {
  const shape = readRlShape();
  const base = JSON.parse(fs.readFileSync(BASE_CONFIG_FILE, "utf8")) as { model: GPTConfig };
  const config = base.model;
  const rng = new Rng(`bench-kit-workload:${seed}`);
  const examples: TrainingExample[] = shape.examples.map(([promptLength, completionLength], i) => ({
    taskId: `bench-${i}`,
    nodeId: i,
    turn: 1,
    promptIds: Array.from({ length: promptLength }, () => rng.int(1, config.vocabSize - 1)),
    completionIds: Array.from({ length: completionLength }, () => rng.int(1, config.vocabSize - 1)),
    // Near the policy's own log-probs of a uniform-ish model, so ratios stay near 1.
    sampledLogprobs: Array.from({ length: completionLength }, () => -Math.log(config.vocabSize) + 0.01 * rng.normal()),
    advantage: rng.normal(),
  }));
  const model = GPT.create(config, seed);
  const defaults = defaultConfig();
  const optimizer = new AdamW({ learningRate: defaults.optimizer.lr, weightDecay: defaults.optimizer.weightDecay });
  const microBatches = microBatchShapes(shape.examples, shape.microBatchSize);
  return {
    name: "kit",
    config,
    microBatches,
    paddedTokens: microBatches.reduce((a, [rows, width]) => a + rows * width, 0),
    step: () => {
      const update = policyUpdate(model, optimizer, examples, 0, {
        loss: { ...defaults.loss, maxTokens: defaults.sampling.maxNewTokens },
        updateEpochs: 1,
        microBatchSize: shape.microBatchSize,
        temperature: defaults.sampling.temperature,
        clipNorm: defaults.optimizer.clipNorm,
      });
      return update.epochs[0].loss;
    },
    torchArgs: [...modelFlags(config), "--rl-shape", RL_SHAPE_FILE, "--lr", String(defaults.optimizer.lr), "--clip-norm", String(defaults.optimizer.clipNorm)],
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
  };
}

export function makeWorkload(name: WorkloadName, seed = 0): Workload {
  return name === "reference" ? referenceWorkload(seed) : kitWorkload(seed);
}
