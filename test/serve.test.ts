/**
 * `murphy serve` (the kit's model behind an OpenAI-compatible API) and the HTTP policy against it,
 * end to end: the server really generates, so Iter-k over HTTP can be compared with Iter-k
 * in-process for the same seeds.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { CHECKPOINTS_DIR, TASKS_DIR } from "../src/paths";
import { loadPolicy } from "../src/model/store";
import { GptPolicy } from "../src/model/gpt-policy";
import { fitPrompt } from "../src/model/context";
import { buildPrompt } from "../src/model/prompt";
import { selectBackend } from "../src/backend";
import { loadSplit } from "../src/tasks/load";
import { SandboxPool } from "../src/sandbox/pool";
import { evaluateIterK } from "../src/eval/iterk";
import { OpenAIPolicy } from "../src/policy/openai";
import { conversationMessages, KIT_STYLE } from "../src/policy/chat-format";
import { hashString } from "../src/util/rng";
import { startServer, type RunningServer } from "../src/serve/server";

let policy: GptPolicy;
let server: RunningServer;
let dispose: () => void;
const pool = new SandboxPool();
const tasks = loadSplit(TASKS_DIR, "test").slice(0, 8);

before(async () => {
  await selectBackend("wasm");
  const saved = loadPolicy(path.join(CHECKPOINTS_DIR, "base"));
  policy = new GptPolicy(saved.model, saved.tokenizer);
  dispose = () => saved.model.dispose();
  server = await startServer({ policy, modelName: "base", port: 0 });
});
after(async () => {
  await server.close();
  await pool.close();
  dispose();
});

async function post(route: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(server.baseUrl.replace(/\/v1$/, "") + route, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

test("serve: models, chat and completions in the OpenAI shapes, with exact ids and log-probs", async () => {
  const models = await (await fetch(`${server.baseUrl}/models`)).json();
  assert.deepEqual(models.data.map((m: any) => [m.id, m.max_model_len]), [["base", policy.blockSize]]);

  const messages = conversationMessages(KIT_STYLE, tasks[0], []);
  const chat = await post("/v1/chat/completions", { model: "base", messages, n: 3, temperature: 0.7, max_tokens: 96, seed: 11, logprobs: true, return_token_ids: true });
  assert.equal(chat.status, 200);
  const prompt = buildPrompt(policy.tokenizer, tasks[0], []);
  assert.deepEqual(chat.json.prompt_token_ids, prompt, "the chat template is the kit's own prompt");
  // The n choices are the rows of one batched call with the request's seed.
  const direct = await policy.sample([prompt, prompt, prompt], { temperature: 0.7, maxNewTokens: 96, seed: 11 });
  chat.json.choices.forEach((c: any, j: number) => {
    assert.equal(c.index, j);
    assert.deepEqual(c.token_ids, direct.tokens[j]);
    assert.deepEqual(c.logprobs.content.map((e: any) => e.logprob), direct.logprobs[j]);
    const end = direct.tokens[j].indexOf(policy.tokenizer.end);
    assert.equal(c.message.content, policy.tokenizer.decode(end >= 0 ? direct.tokens[j].slice(0, end) : direct.tokens[j]));
    assert.equal(c.finish_reason, end >= 0 ? "stop" : "length");
  });
  assert.equal(chat.json.usage.completion_tokens, direct.tokens.flat().length);

  // Completions: a batch of token-id prompts x n, choice p*n + j.
  const other = buildPrompt(policy.tokenizer, tasks[1], []);
  const done = await post("/v1/completions", { model: "base", prompt: [prompt, other], n: 2, temperature: 1, max_tokens: 40, seed: 3, logprobs: 1, return_token_ids: true });
  assert.equal(done.status, 200);
  const rows = await policy.sample([prompt, prompt, other, other], { temperature: 1, maxNewTokens: 40, seed: 3 });
  assert.deepEqual(done.json.choices.map((c: any) => c.index), [0, 1, 2, 3]);
  assert.deepEqual(done.json.choices.map((c: any) => c.token_ids), rows.tokens);
  assert.deepEqual(done.json.choices.map((c: any) => c.logprobs.token_logprobs), rows.logprobs);
  assert.deepEqual(done.json.choices[2].prompt_token_ids, other);

  // /tokenize: vLLM's shape; the messages render to the kit's prompt.
  const tok = await post("/tokenize", { model: "base", messages, add_generation_prompt: true });
  assert.deepEqual(tok.json, { count: prompt.length, max_model_len: policy.blockSize, tokens: prompt });
  const bare = await post("/tokenize", { messages, add_generation_prompt: false });
  assert.deepEqual(bare.json.tokens, prompt.slice(0, -1));
});

test("serve: stop strings cut the text and the ids before them", async () => {
  const messages = conversationMessages(KIT_STYLE, tasks[0], []);
  const full = await post("/v1/chat/completions", { messages, temperature: 0, max_tokens: 96, seed: 1, logprobs: true, return_token_ids: true });
  const text: string = full.json.choices[0].message.content;
  assert.ok(text.length > 4, text);
  const stop = text.slice(2, 4);
  const cut = await post("/v1/chat/completions", { messages, temperature: 0, max_tokens: 96, seed: 1, stop: [stop], logprobs: true, return_token_ids: true });
  const c = cut.json.choices[0];
  assert.equal(c.message.content, text.slice(0, text.indexOf(stop)));
  assert.equal(c.finish_reason, "stop");
  assert.equal(policy.tokenizer.decode(c.token_ids), c.message.content.slice(0, policy.tokenizer.decode(c.token_ids).length));
  assert.ok(policy.tokenizer.decode(c.token_ids).length <= c.message.content.length);
  assert.equal(c.logprobs.content.length, c.token_ids.length);
});

test("serve: clear errors (unknown model 404, bad requests 400)", async () => {
  const messages = conversationMessages(KIT_STYLE, tasks[0], []);
  const cases: [unknown, number, RegExp][] = [
    [{ model: "gpt-4", messages }, 404, /The model `gpt-4` does not exist\. This server serves "base"/],
    [{ messages, stream: true }, 400, /"stream": true is not supported/],
    [{ messages, max_tokens: policy.blockSize }, 400, /"max_tokens" must be an integer in 1\.\.639/],
    [{ messages, temperature: -1 }, 400, /"temperature" must be a number in \[0, 100\]/],
    [{ messages, n: 0 }, 400, /"n" must be an integer in 1\.\.256/],
    [{ messages: [{ role: "assistant", content: "x" }] }, 400, /must be from the user/],
    [{ messages: "hi" }, 400, /"messages" must be a non-empty list/],
  ];
  for (const [body, status, message] of cases) {
    const r = await post("/v1/chat/completions", body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(r.json.error.message, message);
  }
  const ids = await post("/v1/completions", { prompt: [1, 2, 99999] });
  assert.equal(ids.status, 400);
  assert.match(ids.json.error.message, /prompt\[2\] must be a token id in 0\.\.\d+ \(got 99999\)/);
  const long = await post("/v1/completions", { prompt: Array(policy.blockSize - 10).fill(7), max_tokens: 20 });
  assert.match(long.json.error.message, /prompt 0 has 630 tokens and max_tokens is 20: together more than the model's context length 640/);
  const notJson = await fetch(`${server.baseUrl}/chat/completions`, { method: "POST", body: "{" });
  assert.equal(notJson.status, 400);
  const nowhere = await fetch(`${server.baseUrl}/embeddings`, { method: "POST", body: "{}" });
  assert.equal(nowhere.status, 404);
});

test("Iter-k through murphy serve equals Iter-k in-process: completions exactly, chat exactly when greedy", async () => {
  const opts = { turns: 3, samples: 2, temperature: 0.7, maxNewTokens: 96, seed: 0 };
  const local = await evaluateIterK(policy, tasks, pool, opts);
  assert.ok(local.records.some((r) => r.turn > 1), "some chains need feedback turns, so multi-turn prompts are compared too");

  // Completions: the server's /tokenize renders the kit's prompt, the policy fits it exactly as
  // fitPrompt does, and a batch goes as one request with the batch's seed.
  const completions = new OpenAIPolicy({ baseUrl: server.baseUrl, model: "base", api: "completions" });
  const viaCompletions = await evaluateIterK(completions, tasks, pool, opts);
  assert.deepEqual(viaCompletions.records, local.records);
  assert.deepEqual(viaCompletions.iterPass1, local.iterPass1);

  // Chat at temperature 0: the same programs, prompts and token counts.
  const chat = new OpenAIPolicy({ baseUrl: server.baseUrl, model: "base" });
  const greedy = { ...opts, temperature: 0 };
  assert.deepEqual((await evaluateIterK(chat, tasks, pool, greedy)).records, (await evaluateIterK(policy, tasks, pool, greedy)).records);
});

test("chat at temperature > 0: each sibling group is sampled with its own seed, which is the whole difference", async () => {
  // In-process, the rows of one batch share the batch's seed (row r draws stream r). The chat API
  // has one seed per request, so the policy sends hash(seed, first row) with each group. The
  // answers over HTTP are then exactly the in-process samples of each group's prompt with that seed.
  const chat = new OpenAIPolicy({ baseUrl: server.baseUrl, model: "base" });
  const conversations = tasks.slice(0, 3).flatMap((task) => [{ task, history: [] }, { task, history: [] }]);
  const answers = await chat.answer(conversations, { temperature: 0.7, maxNewTokens: 96, seed: 42 });
  for (let start = 0; start < conversations.length; start += 2) {
    const prompt = fitPrompt(policy.tokenizer, conversations[start].task, [], policy.blockSize - 96).ids;
    const group = await policy.sample([prompt, prompt], { temperature: 0.7, maxNewTokens: 96, seed: hashString(`42/row${start}`) });
    assert.deepEqual([answers[start].completionIds, answers[start + 1].completionIds], group.tokens);
    assert.deepEqual([answers[start].promptIds, answers[start + 1].promptIds], [prompt, prompt]);
  }
  // ... and reproducible for the same seed.
  const again = await chat.answer(conversations, { temperature: 0.7, maxNewTokens: 96, seed: 42 });
  assert.deepEqual(again, answers);
});
