/**
 * Sampling with the KV cache: exact log-probs (equal to tokenLogProbs on prompt + completion),
 * rows independent of their batch, determinism, stopping rules, greedy decoding, top-k/top-p,
 * and the distribution pickToken draws from.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { GPT, type GPTConfig } from "../src/model/gpt";
import { tokenLogProbs } from "../src/model/logprobs";
import { greedy, pickToken, rowStreams, sample } from "../src/model/sample";
import { Rng } from "../src/util/rng";

before(async () => {
  await selectBackend();
});

const config: GPTConfig = { vocabSize: 13, blockSize: 24, dModel: 16, nLayer: 2, nHead: 2, mlpRatio: 2 };
const prompts = [[1, 2, 3], [4, 5, 6, 7, 8, 9, 10], [1, 2, 3], [12], [7, 7, 2, 11]];

/** Log-probs of `completion` after `prompt` under tokenLogProbs (no cache, no padding). */
function scored(model: GPT, prompt: number[], completion: number[], temperature: number): number[] {
  return tf.tidy(() => {
    const all = tokenLogProbs(model, tf.tensor2d([[...prompt, ...completion]], undefined, "int32"), { temperature }).logprobs.arraySync()[0];
    return all.slice(prompt.length);
  });
}

test("sampled log-probs equal tokenLogProbs on prompt + completion within 1e-4 (with top-k and top-p on)", () => {
  const model = GPT.create(config, 11);
  const before = tf.memory().numTensors;
  const temperature = 0.8;
  const result = sample(model, prompts, { temperature, topK: 6, topP: 0.9, maxNewTokens: 12, stopToken: 0, seed: 7 });
  assert.equal(tf.memory().numTensors, before, "sampling leaks no tensors");
  let checked = 0;
  prompts.forEach((prompt, row) => {
    assert.equal(result.tokens[row].length, result.logprobs[row].length);
    assert.ok(result.tokens[row].length >= 1);
    const want = scored(model, prompt, result.tokens[row], temperature);
    result.logprobs[row].forEach((lp, i) => {
      assert.ok(Math.abs(lp - want[i]) < 1e-4, `row ${row} token ${i}: sampled ${lp}, scored ${want[i]}`);
      checked++;
    });
  });
  assert.ok(checked > 20);
  // Prefilling the distinct prompts one at a time changes nothing.
  const chunked = sample(model, prompts, { temperature, topK: 6, topP: 0.9, maxNewTokens: 12, stopToken: 0, seed: 7, prefillRows: 1 });
  assert.deepEqual(chunked.tokens, result.tokens);
  chunked.logprobs.forEach((row, r) => row.forEach((lp, i) => assert.ok(Math.abs(lp - result.logprobs[r][i]) < 1e-5)));
  model.dispose();
});

test("a row gives the same tokens alone as inside a batch, given its own stream", () => {
  const model = GPT.create(config, 12);
  const opts = { temperature: 1.2, maxNewTokens: 10, stopToken: 0 };
  const batch = sample(model, prompts, { ...opts, seed: 99 });
  const streams = rowStreams(99, prompts.length);
  prompts.forEach((prompt, row) => {
    const alone = sample(model, [prompt], { ...opts, seed: [streams[row]] });
    assert.deepEqual(alone.tokens[0], batch.tokens[row], `row ${row}`);
    alone.logprobs[0].forEach((lp, i) => assert.ok(Math.abs(lp - batch.logprobs[row][i]) < 1e-5));
  });
  // Rows 0 and 2 share a prompt but not a stream.
  assert.notDeepEqual(batch.tokens[0], batch.tokens[2]);
  model.dispose();
});

test("the same seed gives the same tokens; another seed, others; an Rng seed advances", () => {
  const model = GPT.create(config, 13);
  const opts = { temperature: 1, maxNewTokens: 8, stopToken: null };
  const a = sample(model, prompts, { ...opts, seed: 1 });
  const b = sample(model, prompts, { ...opts, seed: 1 });
  const c = sample(model, prompts, { ...opts, seed: 2 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.deepEqual(a.logprobs, b.logprobs);
  assert.notDeepEqual(a.tokens, c.tokens);
  const rng = new Rng("caller");
  const first = sample(model, prompts, { ...opts, seed: rng });
  const second = sample(model, prompts, { ...opts, seed: rng });
  assert.notDeepEqual(first.tokens, second.tokens);
  const replay = sample(model, prompts, { ...opts, seed: new Rng("caller") });
  assert.deepEqual(replay.tokens, first.tokens);
  model.dispose();
});

test("rows stop at their stop token (kept), at maxNewTokens, and at blockSize", () => {
  const model = GPT.create(config, 14);
  // A stop token that is likely: the most likely first token of row 0 under greedy decoding.
  const stop = greedy(model, [prompts[0]], { maxNewTokens: 1, stopToken: null }).tokens[0][0];
  const result = sample(model, prompts, { temperature: 1, maxNewTokens: 9, stopToken: stop, seed: 3 });
  let stopped = 0;
  result.tokens.forEach((tokens, row) => {
    const at = tokens.indexOf(stop);
    if (at >= 0) assert.equal(at, tokens.length - 1, `row ${row} ends at its first stop token`);
    else assert.equal(tokens.length, 9, `row ${row} runs to maxNewTokens`);
    if (at >= 0 && at < 8) stopped++;
    // Rows leave the batch at different steps; the survivors' log-probs stay exact.
    const want = scored(model, prompts[row], tokens, 1);
    result.logprobs[row].forEach((lp, i) => assert.ok(Math.abs(lp - want[i]) < 1e-4, `row ${row} token ${i}`));
  });
  assert.ok(stopped >= 1 && stopped < prompts.length, `some rows stop early, others continue (${stopped})`);
  const long = Array.from({ length: config.blockSize - 2 }, (_, i) => 1 + (i % 10));
  const full = Array.from({ length: config.blockSize }, () => 3);
  const capped = sample(model, [long, full, [5]], { temperature: 1, maxNewTokens: 10, stopToken: null, seed: 4 });
  assert.equal(capped.tokens[0].length, 2, "prompt + completion reaches blockSize");
  assert.deepEqual(capped.tokens[1], [], "a prompt that fills blockSize gets no tokens");
  assert.equal(capped.tokens[2].length, 10);
  const none = sample(model, prompts, { temperature: 1, maxNewTokens: 0, stopToken: null, seed: 4 });
  assert.deepEqual(none.tokens, prompts.map(() => []));
  model.dispose();
});

test("greedy decoding takes the argmax of the model's next-token logits at every step", () => {
  const model = GPT.create(config, 15);
  const result = greedy(model, prompts, { maxNewTokens: 6, stopToken: null });
  prompts.forEach((prompt, row) => {
    const seq = [...prompt, ...result.tokens[row]];
    const logits = tf.tidy(() => model.logits(tf.tensor2d([seq], undefined, "int32")).arraySync()[0]);
    result.tokens[row].forEach((token, i) => {
      const row_ = logits[prompt.length + i - 1];
      assert.equal(token, row_.indexOf(Math.max(...row_)), `row ${row} step ${i}`);
    });
    // Greedy log-probs are reported at temperature 1.
    const want = scored(model, prompt, result.tokens[row], 1);
    result.logprobs[row].forEach((lp, i) => assert.ok(Math.abs(lp - want[i]) < 1e-4));
  });
  model.dispose();
});

test("pickToken draws from softmax(logits / T), and top-k / top-p restrict the draw but not the log-prob", () => {
  const logits = [2, 1, 0.5, 0, -1];
  const temperature = 0.7;
  const p = logits.map((v) => Math.exp(v / temperature));
  const z = p.reduce((a, b) => a + b, 0);
  const probs = p.map((v) => v / z);
  const rng = new Rng("pick");
  const counts = new Array(logits.length).fill(0);
  const draws = 20000;
  for (let i = 0; i < draws; i++) {
    const { token, logprob } = pickToken(logits, { temperature }, rng);
    counts[token]++;
    assert.ok(Math.abs(logprob - Math.log(probs[token])) < 1e-12);
  }
  // Each frequency within 4 standard errors of its probability.
  counts.forEach((c, i) => {
    const se = Math.sqrt((probs[i] * (1 - probs[i])) / draws);
    assert.ok(Math.abs(c / draws - probs[i]) < 4 * se, `token ${i}: ${c / draws} vs ${probs[i]}`);
  });
  // top-k 2: only the two most likely ids; log-prob still from the full distribution.
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    const { token, logprob } = pickToken(logits, { temperature, topK: 2 }, rng);
    seen.add(token);
    assert.ok(Math.abs(logprob - Math.log(probs[token])) < 1e-12);
  }
  assert.deepEqual([...seen].sort(), [0, 1]);
  // top-p just above the first probability: the nucleus is the two most likely ids.
  const nucleus = new Set<number>();
  for (let i = 0; i < 500; i++) nucleus.add(pickToken(logits, { temperature, topP: probs[0] + 0.01 }, rng).token);
  assert.deepEqual([...nucleus].sort(), [0, 1]);
  // top-p below the first probability: always the argmax.
  for (let i = 0; i < 50; i++) assert.equal(pickToken(logits, { temperature, topP: probs[0] / 2 }, rng).token, 0);
  // Greedy: argmax, ties to the lowest id, log-prob at temperature 1.
  const tie = pickToken([0, 3, 3, 1], { temperature: 0 }, rng);
  assert.equal(tie.token, 1);
  const z1 = [0, 3, 3, 1].reduce((s, v) => s + Math.exp(v), 0);
  assert.ok(Math.abs(tie.logprob - (3 - Math.log(z1))) < 1e-12);
  assert.throws(() => pickToken([0, NaN, 1], { temperature: 1 }, rng), /non-finite logits/);
  assert.throws(() => pickToken([0, Infinity], { temperature: 1 }, rng), /non-finite logits/);
});

test("bad sampling arguments are clear errors", () => {
  const model = GPT.create(config, 16);
  const ok = { temperature: 1, maxNewTokens: 4, stopToken: 0, seed: 1 };
  assert.throws(() => sample(model, [[]], ok), /prompt 0 is empty/);
  assert.throws(() => sample(model, [[1], Array(25).fill(1)], ok), /prompt 1 has 25 tokens, more than blockSize 24/);
  assert.throws(() => sample(model, [[1, 13]], ok), /prompt 0 holds token 13, outside \[0, 13\)/);
  assert.throws(() => sample(model, [[1]], { ...ok, temperature: -1 }), /temperature must be >= 0/);
  assert.throws(() => sample(model, [[1]], { ...ok, topP: 0 }), /topP must be in \(0, 1\]/);
  assert.throws(() => sample(model, [[1]], { ...ok, stopToken: 20 }), /stopToken must be null or an id in \[0, 13\)/);
  assert.throws(() => sample(model, [[1], [2]], { ...ok, seed: [new Rng(1)] }), /seed has 1 row streams for 2 prompts/);
  assert.deepEqual(sample(model, [], ok), { tokens: [], logprobs: [] });
  model.dispose();
});
