/**
 * The key/value cache used while sampling: every earlier slot's keys and values, per layer, so a
 * decoding step only runs the new token through the model.
 *
 * tf tensors are immutable, so "appending" a slot copies the cache. Copying the whole cache at
 * every step costs O(length) per token (at 500 slots it was most of a step on wasm). So each
 * layer keeps its slots as a few chunks, oldest first: one step appends to the small newest
 * chunk (at most CHUNK_SLOTS long) or starts a new one, and only when there are more than
 * MAX_CHUNKS chunks are the older ones merged into one. Attention runs over the chunks
 * side by side: scores per chunk, one softmax over all of them, then the chunk-weighted sums.
 */
import * as tf from "@tensorflow/tfjs";
import { batchMatMul } from "./ops";
import { gatherRows } from "./wasm-kernels";

/** One layer's cache: chunks of `[B * nHead, slots, headDim]`, oldest first, same slots for keys and values. */
export interface LayerCache {
  keys: tf.Tensor3D[];
  values: tf.Tensor3D[];
}

export interface KVCache {
  layers: LayerCache[];
  /** Slots cached so far (padding included): the sum of the chunk lengths. */
  length: number;
}

/** The newest chunk grows one slot at a time up to this length. */
export const CHUNK_SLOTS = 32;
/** Beyond this many chunks, all but the newest are merged (one copy every ~CHUNK_SLOTS * MAX_CHUNKS steps). */
export const MAX_CHUNKS = 6;

/**
 * Add `keys, values: [G, S, hd]` as the newest slots of `layer` (null for an empty cache).
 * Consumes `layer`, `keys` and `values`: each either moves into the result or is disposed.
 * The returned tensors are kept (they survive the caller's tf.tidy).
 */
export function appendSlots(layer: LayerCache | null, keys: tf.Tensor3D, values: tf.Tensor3D): LayerCache {
  if (!layer) return { keys: [tf.keep(keys)], values: [tf.keep(values)] };
  const out: LayerCache = { keys: [...layer.keys], values: [...layer.values] };
  const last = out.keys.length - 1;
  const oneSlot = keys.shape[1] === 1;
  if (oneSlot && out.keys[last].shape[1] < CHUNK_SLOTS) {
    const [oldK, oldV] = [out.keys[last], out.values[last]];
    out.keys[last] = tf.keep(tf.concat([oldK, keys], 1));
    out.values[last] = tf.keep(tf.concat([oldV, values], 1));
    tf.dispose([oldK, oldV, keys, values]);
  } else {
    out.keys.push(tf.keep(keys));
    out.values.push(tf.keep(values));
  }
  if (out.keys.length > MAX_CHUNKS) {
    const n = out.keys.length - 1;
    const mergedK = tf.keep(tf.concat(out.keys.slice(0, n), 1));
    const mergedV = tf.keep(tf.concat(out.values.slice(0, n), 1));
    tf.dispose([...out.keys.slice(0, n), ...out.values.slice(0, n)]);
    out.keys = [mergedK, out.keys[n]];
    out.values = [mergedV, out.values[n]];
  }
  return out;
}

/**
 * Attention of `q: [B * H, S, hd]` over every cached slot of `layer` (the new slots included):
 * `softmax(q K^T / sqrt(hd) + bias) V`, with `headBias: [B, 1, S, P]` (0 visible, -1e9 hidden)
 * broadcast over heads. Returns `[B * H, S, hd]`.
 */
export function cachedAttention(q: tf.Tensor3D, layer: LayerCache, headBias: tf.Tensor4D, heads: number): tf.Tensor3D {
  const [G, S, hd] = q.shape;
  const B = G / heads;
  return tf.tidy(() => {
    // One new token per row: the backend's own batched matMul with transposeB reads both
    // operands contiguously, and is the fastest here; for a prompt, plain products that can go
    // through the per-slice kernel.
    const parts = layer.keys.map((k) => (S === 1 ? tf.matMul(q, k, false, true) : batchMatMul(q, tf.transpose(k, [0, 2, 1]) as tf.Tensor3D)));
    const scores = parts.length === 1 ? parts[0] : (tf.concat(parts, 2) as tf.Tensor3D);
    const P = scores.shape[2] as number;
    const biased = tf.add(tf.reshape(tf.mul(scores, 1 / Math.sqrt(hd)), [B, heads, S, P]), headBias);
    const probs = tf.reshape(tf.softmax(biased), [G, S, P]) as tf.Tensor3D;
    if (layer.values.length === 1) return batchMatMul(probs, layer.values[0]);
    const pieces = tf.split(probs, layer.values.map((v) => v.shape[1]), 2) as tf.Tensor3D[];
    return tf.addN(pieces.map((p, i) => batchMatMul(p, layer.values[i]))) as tf.Tensor3D;
  });
}

/** Keep (or repeat) batch rows: `rows[i]` is the old row that becomes row i. Consumes `cache`. */
export function selectCacheRows(cache: KVCache, rows: number[], heads: number): KVCache {
  const index = rows.flatMap((r) => Array.from({ length: heads }, (_, h) => r * heads + h));
  const layers = cache.layers.map((layer) => ({
    keys: layer.keys.map((k) => gatherRows(k, index)),
    values: layer.values.map((v) => gatherRows(v, index)),
  }));
  disposeCache(cache);
  return { layers, length: cache.length };
}

/** Dispose every tensor of a cache. */
export function disposeCache(cache: KVCache | null): void {
  if (cache) for (const layer of cache.layers) tf.dispose([...layer.keys, ...layer.values]);
}
