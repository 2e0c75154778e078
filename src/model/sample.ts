/**
 * Batched sampling from the policy with a key/value cache.
 *
 * Rollouts dominate the cost of RL, so this is built for throughput: prompts are left-padded to a
 * common length and each distinct prompt is run through the model once (a GRPO group is G copies
 * of one prompt), its cache is copied to every row that uses it, and then each step feeds only
 * the one new token per row (./kv-cache). Finished rows leave the batch in bulk, whenever a
 * quarter of it has finished.
 *
 * Exactness contract (GRPO depends on it):
 * - `tokens` are the ids exactly as drawn; a row ends after its stop token (included), after
 *   `maxNewTokens`, or when prompt + completion reaches the model's blockSize.
 * - `logprobs[b][i]` is log p(token | prefix) under the model's distribution at `temperature`,
 *   BEFORE top-k / top-p truncation: the same number `tokenLogProbs(model, prompt + completion,
 *   {temperature})` gives, which is what GRPO's old log-probs must equal. (Truncation only
 *   decides which tokens can be drawn.) Greedy decoding (temperature 0) reports log-probs at
 *   temperature 1.
 * - A row's result depends only on its prompt and its own random stream, never on the other
 *   rows: row i draws from `rowStreams(seed, n)[i]`, and padding is masked out of attention with
 *   per-row positions, so a prompt sampled alone (with that stream) gives the same tokens.
 */
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng";
import { causalMask } from "./ops";
import type { GPT } from "./gpt";
import { disposeCache, selectCacheRows, type KVCache } from "./kv-cache";

export interface SampleOptions {
  /** Softmax temperature; 0 means greedy (argmax, ties to the lowest id). */
  temperature: number;
  /** Draw only among the k most likely tokens (off when absent or 0). */
  topK?: number;
  /** Draw only from the smallest set of most likely tokens whose probability reaches p (off when absent or 1). */
  topP?: number;
  /** Most new tokens per row, the stop token included. */
  maxNewTokens: number;
  /** The id that ends a completion (kept in its tokens); null for none. */
  stopToken: number | null;
  /**
   * Randomness: a number or an Rng (one draw from it derives every row's stream), or one Rng
   * per row (advanced in place), e.g. to re-sample one row of an earlier batch by itself.
   */
  seed: number | Rng | Rng[];
  /**
   * Most distinct prompts run through the model together before sampling starts. Default: as
   * many as keep the attention scores of one chunk under 4M floats (16 MB). Results do not
   * depend on it.
   */
  prefillRows?: number;
}

export interface SampleResult {
  /** New token ids per prompt, exactly as sampled. */
  tokens: number[][];
  /** Log-prob of each sampled token (see the file comment for the exact definition). */
  logprobs: number[][];
}

const HIDDEN = -1e9;
/** Prefill scores for this many floats at most per chunk ([rows * heads, T, T]), to bound memory. */
const PREFILL_CHUNK_FLOATS = 1 << 22;

/** The random stream of each of `count` rows, derived from the seed and the row index. */
export function rowStreams(seed: number | Rng, count: number): Rng[] {
  const base = typeof seed === "number" ? `n${seed}` : `r${seed.nextUint32()}`;
  return Array.from({ length: count }, (_, row) => new Rng(`sample/${base}/row${row}`));
}

/**
 * Choose the next token from one row of logits. Returns the token and its log-prob under the
 * temperature-scaled distribution before truncation (temperature 1 for greedy).
 */
export function pickToken(logits: Float32Array | number[], opts: Pick<SampleOptions, "temperature" | "topK" | "topP">, rng: Rng): { token: number; logprob: number } {
  const V = logits.length;
  const greedy = opts.temperature === 0;
  const invTemp = greedy ? 1 : 1 / opts.temperature;
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < V; i++) {
    if (logits[i] > max) {
      max = logits[i];
      argmax = i;
    }
  }
  // Log-softmax in float64, shifted by the max for stability.
  const weights = new Float64Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    weights[i] = Math.exp((logits[i] - max) * invTemp);
    total += weights[i];
  }
  if (!Number.isFinite(max) || !Number.isFinite(total)) {
    throw new Error(`sample: the model produced non-finite logits (max ${max}); the policy has diverged`);
  }
  const logZ = Math.log(total);
  const logprobOf = (i: number) => (logits[i] - max) * invTemp - logZ;
  if (greedy) return { token: argmax, logprob: logprobOf(argmax) };

  // Candidates most likely first (ties by id, so the order is deterministic).
  let order = Array.from({ length: V }, (_, i) => i);
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  if (topK > 0 || topP < 1) {
    order.sort((a, b) => weights[b] - weights[a] || a - b);
    if (topK > 0) order = order.slice(0, topK);
    if (topP < 1) {
      // Nucleus over what top-k left (renormalised), as when the two are applied in sequence.
      let left = 0;
      for (const i of order) left += weights[i];
      let mass = 0;
      let keep = 0;
      while (keep < order.length && mass < topP * left) mass += weights[order[keep++]];
      order = order.slice(0, Math.max(1, keep));
    }
  }
  let kept = 0;
  for (const i of order) kept += weights[i];
  let u = rng.next() * kept;
  for (const i of order) {
    u -= weights[i];
    if (u < 0) return { token: i, logprob: logprobOf(i) };
  }
  // Rounding left u marginally >= 0: the last candidate with non-zero weight.
  const last = [...order].reverse().find((i) => weights[i] > 0) ?? order[0];
  return { token: last, logprob: logprobOf(last) };
}

function validate(model: GPT, prompts: number[][], opts: SampleOptions): void {
  const { vocabSize, blockSize } = model.config;
  if (!(opts.temperature >= 0) || !Number.isFinite(opts.temperature)) throw new Error(`sample: temperature must be >= 0 (got ${opts.temperature})`);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new Error(`sample: maxNewTokens must be an integer >= 0 (got ${opts.maxNewTokens})`);
  if (opts.topK !== undefined && (!Number.isInteger(opts.topK) || opts.topK < 0)) throw new Error(`sample: topK must be an integer >= 0 (got ${opts.topK})`);
  if (opts.topP !== undefined && !(opts.topP > 0 && opts.topP <= 1)) throw new Error(`sample: topP must be in (0, 1] (got ${opts.topP})`);
  if (opts.stopToken !== null && !(Number.isInteger(opts.stopToken) && opts.stopToken >= 0 && opts.stopToken < vocabSize)) {
    throw new Error(`sample: stopToken must be null or an id in [0, ${vocabSize}) (got ${opts.stopToken})`);
  }
  if (opts.prefillRows !== undefined && (!Number.isInteger(opts.prefillRows) || opts.prefillRows < 1)) {
    throw new Error(`sample: prefillRows must be an integer >= 1 (got ${opts.prefillRows})`);
  }
  if (Array.isArray(opts.seed) && opts.seed.length !== prompts.length) {
    throw new Error(`sample: seed has ${opts.seed.length} row streams for ${prompts.length} prompts`);
  }
  prompts.forEach((prompt, row) => {
    if (prompt.length === 0) throw new Error(`sample: prompt ${row} is empty`);
    if (prompt.length > blockSize) throw new Error(`sample: prompt ${row} has ${prompt.length} tokens, more than blockSize ${blockSize}`);
    for (const id of prompt) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`sample: prompt ${row} holds token ${id}, outside [0, ${vocabSize})`);
    }
  });
}

/**
 * Run the distinct prompts, left-padded to `length`, through the model in memory-bounded chunks.
 * Returns their cache (one row per distinct prompt) and each prompt's next-token logits.
 */
function prefill(model: GPT, distinct: number[][], length: number, maxRows?: number): { cache: KVCache; lastLogits: Float32Array[] } {
  const { nHead, vocabSize: V } = model.config;
  const rowsPerChunk = maxRows ?? Math.max(1, Math.floor(PREFILL_CHUNK_FLOATS / (nHead * length * length)));
  const parts: KVCache[] = [];
  const lastLogits: Float32Array[] = [];
  for (let start = 0; start < distinct.length; start += rowsPerChunk) {
    const chunk = distinct.slice(start, start + rowsPerChunk);
    const ids = new Int32Array(chunk.length * length);
    const positions = new Int32Array(chunk.length * length);
    const padBias = new Float32Array(chunk.length * length);
    chunk.forEach((prompt, r) => {
      const pad = length - prompt.length;
      for (let j = 0; j < length; j++) {
        ids[r * length + j] = j < pad ? 0 : prompt[j - pad];
        positions[r * length + j] = Math.max(0, j - pad);
        padBias[r * length + j] = j < pad ? HIDDEN : 0;
      }
    });
    const inputs = [tf.tensor2d(ids, [chunk.length, length], "int32"), tf.tensor2d(positions, [chunk.length, length], "int32")] as const;
    const bias = tf.tidy(() => tf.add(causalMask(length), tf.tensor3d(padBias, [chunk.length, 1, length])) as tf.Tensor3D);
    const { logits, cache } = model.forwardCached(inputs[0], inputs[1], bias, null);
    const last = tf.tidy(() => tf.slice(logits, [0, length - 1, 0], [chunk.length, 1, V]));
    const values = last.dataSync() as Float32Array;
    for (let r = 0; r < chunk.length; r++) lastLogits.push(values.slice(r * V, (r + 1) * V));
    tf.dispose([...inputs, bias, logits, last]);
    parts.push(cache);
  }
  if (parts.length === 1) return { cache: parts[0], lastLogits };
  // Each part holds a single chunk per layer (the prompt); stack the parts' rows.
  const cache: KVCache = {
    length,
    layers: parts[0].layers.map((_, l) => ({
      keys: [tf.concat(parts.map((p) => p.layers[l].keys[0]), 0)],
      values: [tf.concat(parts.map((p) => p.layers[l].values[0]), 0)],
    })),
  };
  parts.forEach(disposeCache);
  return { cache, lastLogits };
}

/**
 * Sample one completion per prompt (see the file comment for the guarantees).
 * @param prompts token ids, each non-empty and at most blockSize long; lengths may differ.
 */
export function sample(model: GPT, prompts: number[][], opts: SampleOptions): SampleResult {
  validate(model, prompts, opts);
  const { blockSize, nHead, vocabSize: V } = model.config;
  const streams = Array.isArray(opts.seed) ? opts.seed : rowStreams(opts.seed, prompts.length);
  const tokens: number[][] = prompts.map(() => []);
  const logprobs: number[][] = prompts.map(() => []);
  const canGrow = (row: number) => tokens[row].length < opts.maxNewTokens && prompts[row].length + tokens[row].length < blockSize;

  const sampling = prompts.map((_, row) => row).filter(canGrow);
  if (sampling.length === 0) return { tokens, logprobs };
  // Distinct prompts are run once; their cache rows are then copied to every row using them.
  const keyOf = (row: number) => prompts[row].join(",");
  const distinctIndex = new Map<string, number>();
  const distinct: number[][] = [];
  for (const row of sampling) {
    if (!distinctIndex.has(keyOf(row))) {
      distinctIndex.set(keyOf(row), distinct.length);
      distinct.push(prompts[row]);
    }
  }
  const length = Math.max(...sampling.map((row) => prompts[row].length));
  const first = prefill(model, distinct, length, opts.prefillRows);
  const sources = sampling.map((row) => distinctIndex.get(keyOf(row))!);
  let cache: KVCache | null = sources.every((d, i) => d === i) ? first.cache : selectCacheRows(first.cache, sources, nHead);

  // Cache row i belongs to prompt row `rows[i]`; finished rows stay (ignored) until a quarter
  // of the cache is finished, then the cache is compacted: copying it costs about one step.
  let rows = sampling;
  let done = rows.map(() => false);
  let logits: Float32Array[] = sources.map((d) => first.lastLogits[d]);
  // Cache slots before the first real token of each row (left padding): hidden from attention.
  let pads = rows.map((row) => length - prompts[row].length);
  try {
    for (;;) {
      rows.forEach((row, i) => {
        if (done[i]) return;
        const { token, logprob } = pickToken(logits[i], opts, streams[row]);
        tokens[row].push(token);
        logprobs[row].push(logprob);
        if (token === opts.stopToken || !canGrow(row)) done[i] = true;
      });
      const finished = done.filter(Boolean).length;
      if (finished === rows.length) break;
      if (finished >= rows.length / 4) {
        const keep = rows.map((_, i) => i).filter((i) => !done[i]);
        cache = selectCacheRows(cache!, keep, nHead);
        rows = keep.map((i) => rows[i]);
        pads = keep.map((i) => pads[i]);
        done = rows.map(() => false);
      }
      // Each row's newest token at its own position; it sees every real slot and itself.
      // A finished row repeats its last token at its last position (its output is ignored).
      const slots = cache!.length + 1;
      const inputs = rows.map((row) => tokens[row][tokens[row].length - 1]);
      const positions = rows.map((row) => prompts[row].length + tokens[row].length - 1);
      const bias = new Float32Array(rows.length * slots);
      pads.forEach((pad, i) => bias.fill(HIDDEN, i * slots, i * slots + pad));
      const stepInputs = [
        tf.tensor2d(inputs, [rows.length, 1], "int32"),
        tf.tensor2d(positions, [rows.length, 1], "int32"),
        tf.tensor3d(bias, [rows.length, 1, slots]),
      ] as const;
      const step = model.forwardCached(stepInputs[0], stepInputs[1], stepInputs[2], cache);
      cache = step.cache;
      tf.dispose([...stepInputs]);
      const values = step.logits.dataSync() as Float32Array;
      step.logits.dispose();
      logits = rows.map((_, i) => values.subarray(i * V, (i + 1) * V));
    }
  } finally {
    disposeCache(cache);
  }
  return { tokens, logprobs };
}

/** Greedy decoding: `sample` at temperature 0 (no randomness is used). */
export function greedy(model: GPT, prompts: number[][], opts: Pick<SampleOptions, "maxNewTokens" | "stopToken">): SampleResult {
  return sample(model, prompts, { ...opts, temperature: 0, seed: 0 });
}
