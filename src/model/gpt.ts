/**
 * The policy: a small character-level decoder-only transformer (GPT), trained from scratch.
 *
 * Shape (the same as the PyTorch reference, so benchmarks compare like with like):
 *   x = wte[ids] + wpe[position]
 *   per block: x = x + attn(rmsNorm(x) * ln1.g);  x = x + mlp(rmsNorm(x) * ln2.g)
 *   logits = rmsNorm(x) * lnf.g @ head
 * Pre-norm RMSNorm blocks, causal multi-head attention, a ReLU MLP, learned positions, an untied
 * output head and no biases anywhere.
 *
 * Two forward paths share the weights: `logits()` for training and scoring (whole sequences,
 * causal mask, hand-written gradients from ./ops), and `forwardCached()` for sampling (new tokens
 * only, with a key/value cache, per-row positions and an attention bias for padded prompts).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng";
import { batchMatMul, causalAttention, dense, embedding, rmsNorm } from "./ops";

export interface GPTConfig {
  /** Number of token ids; must equal the tokenizer's vocabulary size (pad id 0 included). */
  vocabSize: number;
  /** Longest sequence (prompt + completion) the model can see; the size of `wpe`. */
  blockSize: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Number of transformer blocks. */
  nLayer: number;
  /** Attention heads per block; must divide dModel. */
  nHead: number;
  /** MLP hidden width as a multiple of dModel. */
  mlpRatio: number;
}

/**
 * The kit's default policy: ~0.85M parameters.
 * - vocabSize 100: the char-level tokenizer's ~100 symbols (override with the tokenizer's size).
 * - blockSize 512: a turn-2 prompt holds the task, the failed attempt and its feedback, then the
 *   new attempt; 512 characters fit that for the kit's small tasks.
 * - dModel 128, nLayer 4, nHead 4 (head size 32), mlpRatio 4: on the 2-core wasm machine this
 *   trains at a few thousand tokens/s and samples a 64-row batch with the KV cache at thousands
 *   of tokens/s, so an SFT warm-up takes minutes; narrower heads (size 16) made the batched
 *   attention matMuls a larger share of the step without learning faster. See bench/train.ts.
 */
export const DEFAULT_GPT_CONFIG: Readonly<GPTConfig> = Object.freeze({
  vocabSize: 100,
  blockSize: 512,
  dModel: 128,
  nLayer: 4,
  nHead: 4,
  mlpRatio: 4,
});

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: "float32";
}

/**
 * Per-layer key/value cache for sampling. `keys[l]` is stored already transposed,
 * `[B * nHead, headDim, P]`, so each decoding step multiplies by it directly; `values[l]` is
 * `[B * nHead, P, headDim]`. P is the number of cached slots (padding included).
 */
export interface KVCache {
  keys: tf.Tensor3D[];
  values: tf.Tensor3D[];
}

/** Check a config and say which field is wrong. */
export function validateConfig(config: GPTConfig, where = "GPTConfig"): void {
  for (const field of ["vocabSize", "blockSize", "dModel", "nLayer", "nHead", "mlpRatio"] as const) {
    const value = config[field];
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${where}.${field} must be a positive integer (got ${JSON.stringify(value)})`);
    }
  }
  if (config.dModel % config.nHead !== 0) {
    throw new Error(`${where}.dModel (${config.dModel}) must be divisible by ${where}.nHead (${config.nHead})`);
  }
}

let instanceCount = 0;

export class GPT {
  readonly config: Readonly<GPTConfig>;
  /** Trainable weights by stable name (see `weightSpecs`). */
  readonly weights: Map<string, tf.Variable>;
  private readonly headDim: number;

  private constructor(config: GPTConfig, initial: Map<string, tf.Tensor>) {
    this.config = Object.freeze({ ...config });
    this.headDim = config.dModel / config.nHead;
    // tfjs registers variables globally by name; a per-instance prefix lets several models
    // (policy, frozen reference, a test's copy) live side by side under the same stable keys.
    const prefix = `gpt${instanceCount++}/`;
    this.weights = new Map();
    for (const spec of GPT.weightSpecs(config)) {
      this.weights.set(spec.name, tf.variable(initial.get(spec.name)!, true, prefix + spec.name));
    }
  }

  /** Names, shapes and dtypes of every weight, in a fixed order (used to validate checkpoints). */
  static weightSpecs(config: GPTConfig): WeightSpec[] {
    validateConfig(config);
    const { vocabSize: V, blockSize, dModel: D, nLayer, mlpRatio } = config;
    const specs: WeightSpec[] = [
      { name: "wte", shape: [V, D], dtype: "float32" },
      { name: "wpe", shape: [blockSize, D], dtype: "float32" },
    ];
    for (let l = 0; l < nLayer; l++) {
      specs.push(
        { name: `h.${l}.ln1.g`, shape: [D], dtype: "float32" },
        // Columns are [q | k | v], each split into nHead consecutive slices of headDim.
        { name: `h.${l}.attn.wqkv`, shape: [D, 3 * D], dtype: "float32" },
        { name: `h.${l}.attn.wo`, shape: [D, D], dtype: "float32" },
        { name: `h.${l}.ln2.g`, shape: [D], dtype: "float32" },
        { name: `h.${l}.mlp.wfc`, shape: [D, mlpRatio * D], dtype: "float32" },
        { name: `h.${l}.mlp.wproj`, shape: [mlpRatio * D, D], dtype: "float32" },
      );
    }
    specs.push({ name: "lnf.g", shape: [D], dtype: "float32" }, { name: "head", shape: [D, V], dtype: "float32" });
    return specs;
  }

  /**
   * A freshly initialised model. Initialisation draws from the kit's Rng (not tf's), so the same
   * seed gives the same weights on every backend. Matrices ~ N(0, 0.02); the two projections
   * that write into the residual stream (attn.wo, mlp.wproj) are scaled by 1/sqrt(2 nLayer) so
   * the stream's variance does not grow with depth (GPT-2); RMSNorm gains start at 1.
   */
  static create(config: GPTConfig, seed: number | Rng): GPT {
    const rng = typeof seed === "number" ? new Rng(`gpt-init:${seed}`) : seed.fork("gpt-init");
    const residualScale = 1 / Math.sqrt(2 * config.nLayer);
    const initial = new Map<string, tf.Tensor>();
    for (const spec of GPT.weightSpecs(config)) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(size);
      if (spec.name.endsWith(".g")) {
        values.fill(1);
      } else {
        const std = /attn\.wo$|mlp\.wproj$/.test(spec.name) ? 0.02 * residualScale : 0.02;
        for (let i = 0; i < size; i++) values[i] = std * rng.normal();
      }
      initial.set(spec.name, tf.tensor(values, spec.shape, "float32"));
    }
    const model = new GPT(config, initial);
    tf.dispose([...initial.values()]);
    return model;
  }

  /**
   * A model holding copies of the given weights. Every name in `weightSpecs(config)` must be
   * present with exactly that shape and dtype, and no other names are allowed; the error names
   * the first mismatch. The caller keeps ownership of the tensors passed in.
   */
  static fromWeights(config: GPTConfig, weights: Map<string, tf.Tensor>): GPT {
    const specs = GPT.weightSpecs(config);
    const expected = new Set(specs.map((s) => s.name));
    for (const name of weights.keys()) {
      if (!expected.has(name)) throw new Error(`GPT.fromWeights: unexpected weight "${name}" (not in weightSpecs for this config)`);
    }
    for (const spec of specs) {
      const tensor = weights.get(spec.name);
      if (!tensor) throw new Error(`GPT.fromWeights: missing weight "${spec.name}" (expected shape [${spec.shape}])`);
      if (!tf.util.arraysEqual(tensor.shape, spec.shape)) {
        throw new Error(`GPT.fromWeights: weight "${spec.name}" has shape [${tensor.shape}], expected [${spec.shape}]`);
      }
      if (tensor.dtype !== spec.dtype) {
        throw new Error(`GPT.fromWeights: weight "${spec.name}" has dtype ${tensor.dtype}, expected ${spec.dtype}`);
      }
    }
    return new GPT(config, weights);
  }

  /** Total number of trainable numbers. */
  parameterCount(): number {
    let total = 0;
    for (const w of this.weights.values()) total += w.size;
    return total;
  }

  /** One line for logs, e.g. "GPT 0.85M params (vocab 100, block 512, d 128, 4 layers x 4 heads, mlp 4x)". */
  summary(): string {
    const c = this.config;
    const millions = (this.parameterCount() / 1e6).toFixed(2);
    return `GPT ${millions}M params (vocab ${c.vocabSize}, block ${c.blockSize}, d ${c.dModel}, ${c.nLayer} layers x ${c.nHead} heads, mlp ${c.mlpRatio}x)`;
  }

  /** Frees every weight. The model must not be used afterwards. */
  dispose(): void {
    for (const w of this.weights.values()) w.dispose();
    this.weights.clear();
  }

  private w<R extends tf.Rank>(name: string): tf.Tensor<R> {
    const v = this.weights.get(name);
    if (!v) throw new Error(`GPT: weight "${name}" not found (was the model disposed?)`);
    return v as unknown as tf.Tensor<R>;
  }

  /**
   * `qkv: [B*T, 3D]` (columns [q | k | v], heads consecutive) -> q, k, v each `[B*H, T, hd]`.
   * One rank-4 transpose `[B, T, 3H, hd] -> [B, 3H, T, hd]` then a split: the wasm backend's
   * rank-5 transpose is ~50x slower than its rank-4 one, so the obvious `[B,T,3,H,hd]` layout
   * is avoided.
   */
  private splitHeads(qkv: tf.Tensor2D, B: number, T: number): tf.Tensor3D[] {
    const { nHead: H } = this.config;
    const hd = this.headDim;
    const byHead = tf.transpose(tf.reshape(qkv, [B, T, 3 * H, hd]), [0, 2, 1, 3]);
    return tf.split(byHead, 3, 1).map((t) => tf.reshape(t, [B * H, T, hd]) as tf.Tensor3D);
  }

  /** Throws unless `ids` is an int32 [B, T] tensor of token ids with 1 <= T <= blockSize. */
  private checkIds(ids: tf.Tensor, what: string): void {
    if (ids.rank !== 2 || ids.dtype !== "int32") {
      throw new Error(`${what}: ids must be an int32 tensor of shape [batch, time] (got ${ids.dtype} [${ids.shape}])`);
    }
    const T = ids.shape[1] as number;
    if (T < 1 || T > this.config.blockSize) {
      throw new Error(`${what}: sequence length ${T} must be between 1 and blockSize ${this.config.blockSize}`);
    }
    // Out-of-range ids would silently read garbage rows in gather; the ids are small, so check.
    const values = ids.dataSync();
    for (let i = 0; i < values.length; i++) {
      if (values[i] < 0 || values[i] >= this.config.vocabSize) {
        throw new Error(`${what}: token id ${values[i]} at flat index ${i} is outside [0, ${this.config.vocabSize})`);
      }
    }
  }

  /**
   * Next-token logits for whole sequences, differentiable with respect to every weight.
   * `ids: [B, T]` int32 -> `[B, T, V]`; row t holds the logits predicting token t + 1.
   */
  logits(ids: tf.Tensor2D): tf.Tensor3D {
    this.checkIds(ids, "GPT.logits");
    const [B, T] = ids.shape;
    const { dModel: D, nHead: H, nLayer, vocabSize: V } = this.config;
    const hd = this.headDim;
    return tf.tidy(() => {
      const tokens = embedding(tf.reshape(ids, [-1]) as tf.Tensor1D, this.w("wte"));
      const positions = tf.slice(this.w<tf.Rank.R2>("wpe"), [0, 0], [T, D]);
      let x = tf.reshape(tf.add(tf.reshape(tokens, [B, T, D]), positions), [B * T, D]) as tf.Tensor2D;
      for (let l = 0; l < nLayer; l++) {
        const qkv = dense(rmsNorm(x, this.w(`h.${l}.ln1.g`)), this.w(`h.${l}.attn.wqkv`));
        const [q, k, v] = this.splitHeads(qkv, B, T);
        const heads = causalAttention(q, k, v);
        const merged = tf.reshape(tf.transpose(tf.reshape(heads, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, D]) as tf.Tensor2D;
        x = tf.add(x, dense(merged, this.w(`h.${l}.attn.wo`)));
        const hidden = tf.relu(dense(rmsNorm(x, this.w(`h.${l}.ln2.g`)), this.w(`h.${l}.mlp.wfc`)));
        x = tf.add(x, dense(hidden, this.w(`h.${l}.mlp.wproj`)));
      }
      const out = dense(rmsNorm(x, this.w("lnf.g")), this.w("head"));
      return tf.reshape(out, [B, T, V]) as tf.Tensor3D;
    });
  }

  /**
   * Inference forward over S new tokens per row, attending to a cache of P earlier slots.
   * - `ids: [B, S]` int32 new tokens; `positions: [B, S]` int32 position of each token in its
   *   own row (rows of a batch may be at different positions);
   * - `bias: [B, S, P + S]` float32 added to the attention scores (0 = visible, -1e9 = hidden):
   *   the caller encodes causality and padding here;
   * - `cache`: the previous result's cache, or null for the first call.
   * Returns `logits: [B, S, V]` and the extended cache (P + S slots). Not differentiable by
   * design (sampling never needs gradients). The caller owns and disposes all returned tensors,
   * including the cache it passed in once it is no longer needed.
   */
  forwardCached(ids: tf.Tensor2D, positions: tf.Tensor2D, bias: tf.Tensor3D, cache: KVCache | null): { logits: tf.Tensor3D; cache: KVCache } {
    const [B, S] = ids.shape;
    const { dModel: D, nHead: H, nLayer, vocabSize: V } = this.config;
    const hd = this.headDim;
    const past = cache ? cache.values[0].shape[1] : 0;
    if (!tf.util.arraysEqual(bias.shape, [B, S, past + S])) {
      throw new Error(`GPT.forwardCached: bias has shape [${bias.shape}], expected [${[B, S, past + S]}]`);
    }
    const keys: tf.Tensor3D[] = [];
    const values: tf.Tensor3D[] = [];
    const logits = tf.tidy(() => {
      const flatPositions = tf.reshape(positions, [-1]) as tf.Tensor1D;
      let x = tf.add(tf.gather(this.w("wte"), tf.reshape(ids, [-1])), tf.gather(this.w("wpe"), flatPositions)) as tf.Tensor2D;
      const headBias = tf.reshape(bias, [B, 1, S, past + S]);
      for (let l = 0; l < nLayer; l++) {
        const qkv = dense(rmsNorm(x, this.w(`h.${l}.ln1.g`)), this.w(`h.${l}.attn.wqkv`));
        const [q, kNew, vNew] = this.splitHeads(qkv, B, S);
        const kNewT = tf.transpose(kNew, [0, 2, 1]) as tf.Tensor3D;
        const kAll = cache ? (tf.concat([cache.keys[l], kNewT], 2) as tf.Tensor3D) : kNewT;
        const vAll = cache ? (tf.concat([cache.values[l], vNew], 1) as tf.Tensor3D) : vNew;
        keys.push(tf.keep(kAll));
        values.push(tf.keep(vAll));
        const scores = tf.mul(batchMatMul(q, kAll), 1 / Math.sqrt(hd)); // [B*H, S, P+S]
        const biased = tf.reshape(tf.add(tf.reshape(scores, [B, H, S, past + S]), headBias), [B * H, S, past + S]);
        const heads = batchMatMul(tf.softmax(biased) as tf.Tensor3D, vAll);
        const merged = tf.reshape(tf.transpose(tf.reshape(heads, [B, H, S, hd]), [0, 2, 1, 3]), [B * S, D]) as tf.Tensor2D;
        x = tf.add(x, dense(merged, this.w(`h.${l}.attn.wo`)));
        const hidden = tf.relu(dense(rmsNorm(x, this.w(`h.${l}.ln2.g`)), this.w(`h.${l}.mlp.wfc`)));
        x = tf.add(x, dense(hidden, this.w(`h.${l}.mlp.wproj`)));
      }
      return tf.reshape(dense(rmsNorm(x, this.w("lnf.g")), this.w("head")), [B, S, V]) as tf.Tensor3D;
    });
    return { logits, cache: { keys, values } };
  }
}

/** Dispose every tensor of a cache. */
export function disposeCache(cache: KVCache | null): void {
  if (cache) tf.dispose([...cache.keys, ...cache.values]);
}
