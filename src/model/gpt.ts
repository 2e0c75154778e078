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
 * Three forward paths share the weights: `logits()` for training and scoring (whole sequences,
 * causal mask, hand-written gradients from ./ops); `prefixKeysValues()` + `logitsAfterPrefix()`
 * for the shared-prompt policy update (a sibling group's prompt runs once, its completions attend
 * to its keys and values; same gradients as `logits()` on each whole sequence); and
 * `forwardCached()` for sampling (new tokens only, with a key/value cache, per-row positions and
 * an attention bias for padded prompts).
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng";
import { appendSlots, cachedAttention, type KVCache, type LayerCache } from "./kv-cache";
import { attentionBlock, type AttentionPrefix } from "./fused/attention";
import { mlpBlock } from "./fused/mlp";
import { normDense } from "./fused/norm-dense";
import { dense, embedding, rmsNorm } from "./ops";
import { nativeMatMulAvailable, nativeMergeHeads, nativeSplitHeads } from "./native-kernels";
import { gatherRows } from "./wasm-kernels";

/**
 * What `GPT.prefixKeysValues` returns for G prompt prefixes of P (padded) positions: per layer
 * the prefixes' packed q | k | v projections `[G*P, 3D]` (completions read their k and v blocks).
 */
export interface PrefixProjections {
  qkv: tf.Tensor2D[];
  groups: number;
  length: number;
}

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
 * The kit's default policy: 0.88M parameters.
 * - vocabSize 102: the ids of the kit's char-level tokenizer (src/model/tokenizer.ts). Always
 *   build models with `vocabSize: tokenizer.vocabSize`; this value only mirrors it.
 * - blockSize 512: a turn-2 prompt holds the task, the failed attempt and its feedback, then
 *   the new attempt; longer runs (three turns) raise it, e.g. the pretraining config uses 640.
 * - dModel 128, nLayer 4, nHead 4 (head size 32), mlpRatio 4. Measured on the 2-core machine
 *   (wasm, CPU time, T = 512; sampling 64 rows = 8 prompts x 8, 200-token prompts, 100 new):
 *     d128 L4 H4 (0.88M): train 1.0k tokens/s, sample 0.93k tokens/s   <- default
 *     d128 L4 H8 (0.88M): 0.81k / 0.86k   (head size 16: more, smaller attention products)
 *     d128 L4 H2 (0.88M): 1.2k / 1.2k     d96 L4 H4 (0.51M): 1.4k / 1.4k
 *     d128 L3 H4 (0.68M): 1.3k / 1.5k     d192 L4 H4 (1.91M): 0.74k / 0.66k
 *     d128 L6 H4 (1.27M): 0.87k / 0.71k
 *   Cost grows slower than size (d192 has 2.2x the parameters for 1.4x the time), so the
 *   default sits at the size where an SFT warm-up of a few million tokens still takes under an
 *   hour here, with four heads so attention is not starved. How well each size learns the
 *   kit's tasks was not compared. bench/profile-train.ts and bench/train.ts measure the base checkpoint's shape.
 */
export const DEFAULT_GPT_CONFIG: Readonly<GPTConfig> = Object.freeze({
  vocabSize: 102,
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

  /** One line for logs, e.g. "GPT 0.88M params (vocab 102, block 512, d 128, 4 layers x 4 heads, mlp 4x)". */
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
   * Queries, keys and values of layer `l` for `h: [B*T, D]` (the normed residual stream), each
   * `[B*H, T, hd]`, as the sampling cache keeps them (training reads the packed product instead:
   * `block`). wqkv's columns are [q | k | v]. With the native kernels: one product with the
   * whole wqkv, then one copy pass into the three head layouts (./native-kernels). Otherwise the
   * three `[D, D]` column blocks are sliced from the weight and applied separately, because on
   * wasm slicing the `[B*T, 3D]` product instead costs three full copies of it (the Slice kernel
   * copies its whole input first), and heads move next to the batch with rank-4 transposes
   * (wasm's rank-5 transpose is ~50x slower).
   */
  private projectHeads(h: tf.Tensor2D, l: number, B: number, T: number): tf.Tensor3D[] {
    const { dModel: D, nHead: H } = this.config;
    const hd = this.headDim;
    const wqkv = this.w<tf.Rank.R2>(`h.${l}.attn.wqkv`);
    if (nativeMatMulAvailable()) return nativeSplitHeads(dense(h, wqkv), B, H, 3)!;
    return [0, 1, 2].map((part) => {
      const projected = dense(h, tf.slice(wqkv, [0, part * D], [D, D]));
      return tf.reshape(tf.transpose(tf.reshape(projected, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]) as tf.Tensor3D;
    });
  }

  /**
   * The rest of block `l` after cached attention (sampling): merge the heads `[B*H, T, hd]` back
   * into rows, project with attn.wo into the residual stream `x: [B*T, D]`, then the MLP.
   */
  private finishBlock(x: tf.Tensor2D, heads: tf.Tensor3D, l: number, B: number, T: number): tf.Tensor2D {
    const { dModel: D, nHead: H } = this.config;
    const merged = nativeMergeHeads([heads], B) ?? (tf.reshape(tf.transpose(tf.reshape(heads, [B, H, T, this.headDim]), [0, 2, 1, 3]), [B * T, D]) as tf.Tensor2D);
    const attended = tf.add(x, dense(merged, this.w(`h.${l}.attn.wo`))) as tf.Tensor2D;
    return this.mlp(attended, l);
  }

  /** The pre-norm MLP of block `l` with its residual (./fused/mlp). */
  private mlp(x: tf.Tensor2D, l: number): tf.Tensor2D {
    return mlpBlock(x, this.w(`h.${l}.ln2.g`), this.w(`h.${l}.mlp.wfc`), this.w(`h.${l}.mlp.wproj`));
  }

  /** The packed q | k | v projection of layer `l` of the residual stream `x: [B*T, D]`: `[B*T, 3D]`. */
  private projectQkv(x: tf.Tensor2D, l: number): tf.Tensor2D {
    return normDense(x, this.w(`h.${l}.ln1.g`), this.w(`h.${l}.attn.wqkv`));
  }

  /**
   * Block `l` for training and scoring, given the stream `x: [B*T, D]` and its projection `qkv`:
   * attention (causal, after a shared prefix when given) with its residual, then the MLP. Both
   * halves are one fused op each (./fused/).
   */
  private block(x: tf.Tensor2D, qkv: tf.Tensor2D, l: number, B: number, prefix?: AttentionPrefix): tf.Tensor2D {
    return this.mlp(attentionBlock(x, qkv, this.w(`h.${l}.attn.wo`), B, this.config.nHead, prefix), l);
  }

  /**
   * Keys and values of every layer for a batch of prompt prefixes, differentiable: the part of a
   * shared-prompt update that runs once per sibling group instead of once per completion.
   * `ids: [G, P]` int32, rows right-padded (padding is causal-masked from every real position and
   * hidden from completions by `logitsAfterPrefix`). Returns per layer the packed projections
   * `[G*P, 3D]` (see `PrefixProjections`). The last layer's attention and MLP are skipped:
   * nothing reads the prefix's own outputs.
   */
  prefixKeysValues(ids: tf.Tensor2D): PrefixProjections {
    this.checkIds(ids, "GPT.prefixKeysValues");
    const [G, P] = ids.shape;
    const { dModel: D, nLayer } = this.config;
    const qkv = tf.tidy(() => {
      const tokens = embedding(tf.reshape(ids, [-1]) as tf.Tensor1D, this.w("wte"));
      const positions = tf.slice(this.w<tf.Rank.R2>("wpe"), [0, 0], [P, D]);
      let x = tf.reshape(tf.add(tf.reshape(tokens, [G, P, D]), positions), [G * P, D]) as tf.Tensor2D;
      const layers: tf.Tensor2D[] = [];
      for (let l = 0; l < nLayer; l++) {
        layers.push(this.projectQkv(x, l));
        if (l < nLayer - 1) x = this.block(x, layers[l], l, G);
      }
      return layers;
    });
    return { qkv, groups: G, length: P };
  }

  /**
   * Next-token logits of rows that continue shared prefixes, differentiable with respect to every
   * weight (through the prefix's keys and values too: a prefix used by n rows receives the sum of
   * their gradients, exactly as if each row had run it).
   * - `ids: [B, S]` int32: each row's tokens after its prefix; `positions: [B, S]` int32: their
   *   positions in the whole sequence (the prefix's real length + column);
   * - `prefix`: `prefixKeysValues` of `[G, P]` prefixes; `rowGroup[b]` is the prefix row b continues;
   *   `prefixLengths[g]` the real (unpadded) length of prefix g.
   * Returns `[B, S, V]`; row b, column j predicts the token after ids[b, j].
   */
  logitsAfterPrefix(ids: tf.Tensor2D, positions: tf.Tensor2D, prefix: PrefixProjections, rowGroup: readonly number[], prefixLengths: readonly number[]): tf.Tensor3D {
    this.checkIds(ids, "GPT.logitsAfterPrefix");
    const [B, S] = ids.shape;
    const { nLayer, vocabSize: V, blockSize } = this.config;
    const { groups: G, length: P } = prefix;
    if (rowGroup.length !== B || rowGroup.some((g) => !Number.isInteger(g) || g < 0 || g >= G)) {
      throw new Error(`GPT.logitsAfterPrefix: rowGroup must hold ${B} prefix indices in [0, ${G}) (got [${rowGroup}])`);
    }
    if (prefixLengths.length !== G || prefixLengths.some((n) => n < 0 || n > P)) {
      throw new Error(`GPT.logitsAfterPrefix: prefixLengths must hold ${G} lengths in [0, ${P}] (got [${prefixLengths}])`);
    }
    const positionValues = positions.dataSync();
    if (positionValues.some((p) => p < 0 || p >= blockSize)) throw new Error(`GPT.logitsAfterPrefix: positions must lie in [0, ${blockSize})`);
    return tf.tidy(() => {
      const tokens = embedding(tf.reshape(ids, [-1]) as tf.Tensor1D, this.w("wte"));
      const placed = embedding(tf.reshape(positions, [-1]) as tf.Tensor1D, this.w("wpe"));
      let x = tf.add(tokens, placed) as tf.Tensor2D;
      for (let l = 0; l < nLayer; l++) {
        x = this.block(x, this.projectQkv(x, l), l, B, { qkv: prefix.qkv[l], rowGroup, lengths: prefixLengths });
      }
      return tf.reshape(normDense(x, this.w("lnf.g"), this.w("head")), [B, S, V]) as tf.Tensor3D;
    });
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
    const { dModel: D, nLayer, vocabSize: V } = this.config;
    return tf.tidy(() => {
      const tokens = embedding(tf.reshape(ids, [-1]) as tf.Tensor1D, this.w("wte"));
      const positions = tf.slice(this.w<tf.Rank.R2>("wpe"), [0, 0], [T, D]);
      let x = tf.reshape(tf.add(tf.reshape(tokens, [B, T, D]), positions), [B * T, D]) as tf.Tensor2D;
      for (let l = 0; l < nLayer; l++) x = this.block(x, this.projectQkv(x, l), l, B);
      return tf.reshape(normDense(x, this.w("lnf.g"), this.w("head")), [B, T, V]) as tf.Tensor3D;
    });
  }

  /**
   * Inference forward over S new tokens per row, attending to a cache of P earlier slots.
   * - `ids: [B, S]` int32 new tokens; `positions: [B, S]` int32 position of each token in its
   *   own row (rows of a batch may be at different positions);
   * - `bias: [B, S, P + S]` float32 added to the attention scores (0 = visible, -1e9 = hidden):
   *   the caller encodes causality and padding here;
   * - `cache`: the previous call's cache, or null for the first call. It is CONSUMED: its
   *   tensors move into the returned cache or are disposed; do not use it afterwards.
   * Returns `logits: [B, S, V]` and the cache with P + S slots (see ./kv-cache). Not
   * differentiable by design (sampling never needs gradients); the caller disposes the results.
   */
  forwardCached(ids: tf.Tensor2D, positions: tf.Tensor2D, bias: tf.Tensor3D, cache: KVCache | null): { logits: tf.Tensor3D; cache: KVCache } {
    const [B, S] = ids.shape;
    const { dModel: D, nHead: H, nLayer, vocabSize: V } = this.config;
    const hd = this.headDim;
    const past = cache ? cache.length : 0;
    if (!tf.util.arraysEqual(bias.shape, [B, S, past + S])) {
      throw new Error(`GPT.forwardCached: bias has shape [${bias.shape}], expected [${[B, S, past + S]}]`);
    }
    const layers: LayerCache[] = [];
    const logits = tf.tidy(() => {
      // Row copies (./wasm-kernels) rather than wasm's slow GatherV2; the ids are few.
      const tokenRows = gatherRows(this.w<tf.Rank.R2>("wte"), Array.from(ids.dataSync()));
      let x = tf.add(tokenRows, gatherRows(this.w<tf.Rank.R2>("wpe"), Array.from(positions.dataSync()))) as tf.Tensor2D;
      const headBias = tf.reshape(bias, [B, 1, S, past + S]) as tf.Tensor4D;
      for (let l = 0; l < nLayer; l++) {
        const [q, k, v] = this.projectHeads(rmsNorm(x, this.w(`h.${l}.ln1.g`)), l, B, S);
        const layer = appendSlots(cache ? cache.layers[l] : null, k, v);
        layers.push(layer);
        x = this.finishBlock(x, cachedAttention(q, layer, headBias, H), l, B, S);
      }
      return tf.reshape(dense(rmsNorm(x, this.w("lnf.g")), this.w("head")), [B, S, V]) as tf.Tensor3D;
    });
    return { logits, cache: { layers, length: past + S } };
  }
}
