/**
 * Sampling throughput: `sample()` with its key/value cache against recomputing the whole prefix
 * for every new token, on the same model, the same prompts and the same per-row random streams
 * (so both must produce exactly the same tokens, which is checked).
 *
 *   node --import tsx bench/sample.ts [--batch 64] [--new 64] [--prompt 64]
 *
 * The model is DEFAULT_GPT_CONFIG, randomly initialised (speed does not depend on training).
 * Progress goes to stdout; the LAST line is one JSON object.
 */
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { DEFAULT_GPT_CONFIG, GPT } from "../src/model/gpt";
import { pickToken, rowStreams, sample } from "../src/model/sample";
import { Rng } from "../src/util/rng";

interface Args {
  batch: number;
  newTokens: number;
  promptLength: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { batch: 64, newTokens: 64, promptLength: 64 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], Number(argv[++i])];
    if (!Number.isInteger(value) || value < 1) throw new Error(`bench/sample.ts: ${flag} needs a positive integer (got ${argv[i]})`);
    if (flag === "--batch") args.batch = value;
    else if (flag === "--new") args.newTokens = value;
    else if (flag === "--prompt") args.promptLength = value;
    else throw new Error(`bench/sample.ts: unknown argument "${flag}" (expected --batch N, --new N, --prompt N)`);
  }
  return args;
}

/** The baseline: a full forward pass over every row's whole sequence for each new token. */
function sampleByRecomputing(model: GPT, prompts: number[][], newTokens: number, streams: Rng[], temperature: number): number[][] {
  const sequences = prompts.map((p) => [...p]);
  const V = model.config.vocabSize;
  for (let step = 0; step < newTokens; step++) {
    const T = sequences[0].length;
    const last = tf.tidy(() => {
      const logits = model.logits(tf.tensor2d(sequences, undefined, "int32"));
      return tf.slice(logits, [0, T - 1, 0], [sequences.length, 1, V]).dataSync() as Float32Array;
    });
    sequences.forEach((seq, row) => seq.push(pickToken(last.subarray(row * V, (row + 1) * V), { temperature }, streams[row]).token));
    if ((step + 1) % 16 === 0) console.log(`recompute: ${step + 1}/${newTokens} tokens per row`);
  }
  return sequences.map((seq, row) => seq.slice(prompts[row].length));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = await selectBackend();
  const model = GPT.create(DEFAULT_GPT_CONFIG, 0);
  if (args.promptLength + args.newTokens > model.config.blockSize) throw new Error(`bench/sample.ts: --prompt + --new must fit blockSize ${model.config.blockSize}`);
  console.log(`backend ${backend.tfName}; ${model.summary()}; batch ${args.batch}, prompt ${args.promptLength}, ${args.newTokens} new tokens`);
  // Distinct prompts (no row shares its prefill with another), ids 1.. (0 is padding).
  const rng = new Rng("bench/sample/prompts");
  const prompts = Array.from({ length: args.batch }, () => Array.from({ length: args.promptLength }, () => rng.int(1, model.config.vocabSize - 1)));
  const temperature = 1;
  const generated = args.batch * args.newTokens;

  // Warm up both paths (kernel setup, XNNPACK operators), then time.
  sample(model, prompts.slice(0, 2), { temperature, maxNewTokens: 2, stopToken: null, seed: 0 });
  sampleByRecomputing(model, prompts.slice(0, 2), 2, rowStreams(0, 2), temperature);
  const tensorsBefore = tf.memory().numTensors;

  let started = performance.now();
  const cached = sample(model, prompts, { temperature, maxNewTokens: args.newTokens, stopToken: null, seed: 1 });
  const kvSeconds = (performance.now() - started) / 1000;
  console.log(`kv cache: ${kvSeconds.toFixed(2)} s`);

  started = performance.now();
  const recomputed = sampleByRecomputing(model, prompts, args.newTokens, rowStreams(1, args.batch), temperature);
  const recomputeSeconds = (performance.now() - started) / 1000;
  console.log(`recompute: ${recomputeSeconds.toFixed(2)} s`);

  if (tf.memory().numTensors !== tensorsBefore) throw new Error(`bench/sample.ts: tensor count grew from ${tensorsBefore} to ${tf.memory().numTensors}`);
  const sameTokens = JSON.stringify(cached.tokens) === JSON.stringify(recomputed);
  console.log(`same tokens from both: ${sameTokens}`);
  model.dispose();
  const kvTokensPerS = generated / kvSeconds;
  const recomputeTokensPerS = generated / recomputeSeconds;
  console.log(
    JSON.stringify({
      backend: backend.tfName,
      model: DEFAULT_GPT_CONFIG,
      batch: args.batch,
      prompt_length: args.promptLength,
      new_tokens: args.newTokens,
      kv_tokens_per_s: Math.round(kvTokensPerS * 10) / 10,
      recompute_tokens_per_s: Math.round(recomputeTokensPerS * 10) / 10,
      kv_speedup: Math.round((kvTokensPerS / recomputeTokensPerS) * 100) / 100,
      same_tokens: sameTokens,
    }),
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
