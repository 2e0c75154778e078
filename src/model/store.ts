/**
 * Saving and loading a policy: the GPT's weights, its config, the tokenizer, and (for resumable
 * runs) the optimizer's moments and the run state. One folder per checkpoint (checkpoint.ts writes
 * it atomically). The optimizer's moments are stored under the weights' stable names, so they load
 * into a model whose tf variables carry a different per-instance prefix.
 */
import * as tf from "@tensorflow/tfjs";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint";
import { GPT, validateConfig, type GPTConfig } from "./gpt";
import { Tokenizer, type TokenizerJSON } from "./tokenizer";
import type { AdamW } from "./train";

export interface SavedPolicy {
  model: GPT;
  tokenizer: Tokenizer;
  /** Everything config.json held besides the model config (e.g. how it was trained). */
  meta: Record<string, unknown>;
  /** state.json, if the checkpoint has one (resumable runs). */
  state?: Record<string, unknown>;
  /** Optimizer tensors by stable name (`<weight>/m`, `<weight>/v`, `iter`), if saved. Caller disposes. */
  optimizer?: Map<string, tf.Tensor>;
}

/** The stable weight name of a tf variable name ("gpt3/h.0.attn.wqkv" -> "h.0.attn.wqkv"). */
function stableName(variableName: string): string {
  return variableName.slice(variableName.indexOf("/") + 1);
}

export async function savePolicy(
  dir: string,
  model: GPT,
  tokenizer: Tokenizer,
  opts: { meta?: Record<string, unknown>; state?: Record<string, unknown>; optimizer?: AdamW } = {},
): Promise<void> {
  const extraTensors: Record<string, Map<string, tf.Tensor>> = {};
  const owned: tf.Tensor[] = [];
  if (opts.optimizer) {
    const stored = new Map<string, tf.Tensor>();
    for (const { name, tensor } of await opts.optimizer.getWeights()) {
      if (name === "iter") {
        // tf stores the iteration count as a scalar; keep it as int32 for an exact round trip.
        const iter = tf.scalar(Math.round(tensor.dataSync()[0]), "int32");
        owned.push(iter, tensor);
        stored.set("iter", iter);
      } else {
        stored.set(stableName(name.replace(/\/[mv]$/, "")) + name.slice(name.lastIndexOf("/")), tensor);
      }
    }
    extraTensors.optimizer = stored;
  }
  try {
    saveCheckpoint(dir, {
      tensors: model.weights as Map<string, tf.Tensor>,
      config: { model: model.config, ...(opts.meta ?? {}) },
      tokenizer: tokenizer.toJSON(),
      extraTensors,
      extraJson: opts.state ? { state: opts.state } : {},
    });
  } finally {
    tf.dispose(owned);
  }
}

export function loadPolicy(dir: string): SavedPolicy {
  const peek = loadCheckpoint(dir, { expected: undefined });
  try {
    const { model: modelConfig, ...meta } = peek.config as { model?: GPTConfig };
    if (!modelConfig || typeof modelConfig !== "object") throw new Error(`${dir}/config.json: field "model" must hold the GPT config`);
    validateConfig(modelConfig, `${dir}/config.json: model`);
    const tokenizer = Tokenizer.fromJSON(peek.tokenizer as unknown as TokenizerJSON, `${dir}/tokenizer.json`);
    if (tokenizer.vocabSize !== modelConfig.vocabSize) {
      throw new Error(`${dir}: tokenizer has ${tokenizer.vocabSize} ids but config.json model.vocabSize is ${modelConfig.vocabSize}`);
    }
    // Check names, shapes and dtypes against what this config needs before building the model.
    const expected = GPT.weightSpecs(modelConfig);
    const names = new Set(expected.map((s) => s.name));
    for (const spec of expected) {
      const t = peek.tensors.get(spec.name);
      if (!t) throw new Error(`${dir}/model.safetensors: missing tensor "${spec.name}" (shape [${spec.shape}])`);
      if (!tf.util.arraysEqual(t.shape, spec.shape)) throw new Error(`${dir}/model.safetensors: tensor "${spec.name}" has shape [${t.shape}], expected [${spec.shape}]`);
      if (t.dtype !== spec.dtype) throw new Error(`${dir}/model.safetensors: tensor "${spec.name}" has dtype ${t.dtype}, expected ${spec.dtype}`);
    }
    for (const name of peek.tensors.keys()) if (!names.has(name)) throw new Error(`${dir}/model.safetensors: unexpected tensor "${name}"`);
    const model = GPT.fromWeights(modelConfig, peek.tensors);
    const optimizer = peek.extraTensors.optimizer;
    for (const [name, tensors] of Object.entries(peek.extraTensors)) if (name !== "optimizer") tf.dispose([...tensors.values()]);
    return { model, tokenizer, meta, state: peek.extraJson.state as Record<string, unknown> | undefined, optimizer };
  } finally {
    tf.dispose([...peek.tensors.values()]);
  }
}

/** Load saved optimizer moments into `optimizer` for `model` (names mapped to its variables). */
export async function restoreOptimizer(optimizer: AdamW, model: GPT, saved: Map<string, tf.Tensor>): Promise<void> {
  const prefixOf = new Map([...model.weights].map(([stable, v]) => [stable, v.name]));
  const iter = saved.get("iter");
  if (!iter) throw new Error(`optimizer state has no "iter" tensor`);
  const list: { name: string; tensor: tf.Tensor }[] = [{ name: "iter", tensor: iter }];
  for (const [name, tensor] of saved) {
    if (name === "iter") continue;
    const slash = name.lastIndexOf("/");
    const variable = prefixOf.get(name.slice(0, slash));
    if (!variable) throw new Error(`optimizer state has moments for unknown weight "${name.slice(0, slash)}"`);
    list.push({ name: variable + name.slice(slash), tensor });
  }
  // AdamW.setWeights expects each weight's /m directly followed by its /v.
  list.sort((a, b) => (a.name === "iter" ? -1 : b.name === "iter" ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  await optimizer.setWeights(list);
}

/**
 * Continue a resumable run from its checkpoint: load the policy, check that state.json records
 * the same config (a different config would silently change the rest of the run), and load the
 * optimizer's moments into `optimizer`. `hint` tells the user what to do on a mismatch.
 */
export async function resumeFrom<S extends { config: unknown }>(
  dir: string,
  optimizer: AdamW,
  config: unknown,
  hint: string,
): Promise<{ model: GPT; tokenizer: Tokenizer; state: S }> {
  const saved = loadPolicy(dir);
  try {
    const state = saved.state as S | undefined;
    if (!state) throw new Error(`${dir}: no state.json, cannot resume`);
    if (JSON.stringify(state.config) !== JSON.stringify(config)) {
      throw new Error(`${dir}/state.json: the run was started with a different config; ${hint}`);
    }
    if (saved.optimizer) await restoreOptimizer(optimizer, saved.model, saved.optimizer);
    return { model: saved.model, tokenizer: saved.tokenizer, state };
  } catch (e) {
    saved.model.dispose();
    throw e;
  } finally {
    if (saved.optimizer) tf.dispose([...saved.optimizer.values()]);
  }
}
