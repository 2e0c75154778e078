import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { OpenAIPolicy, type OpenAIPolicyOptions } from "../src/policy/openai";
import { pythonStyle } from "../src/policy/chat-format";
import { renderTask } from "../src/model/prompt";
import { hashString } from "../src/util/rng";
import { loadSplit } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { chatAnswer, fakeServer, MODELS, type FakeReply, type FakeRequest } from "./helpers/fake-openai";

const [taskA, taskB] = loadSplit(TASKS_DIR, "test").slice(0, 2);
const SAMPLING = { temperature: 0.7, maxNewTokens: 64, seed: 5 };
const quiet = { onRetry: () => {}, backoffMs: 1, maxBackoffMs: 5 };

/** A fake that lists the model and answers chat requests with `chat`. */
async function withChat(chat: (req: FakeRequest) => FakeReply, options: Partial<OpenAIPolicyOptions> = {}) {
  const server = await fakeServer((req) => (req.path === "/v1/models" ? { json: MODELS() } : chat(req)));
  const policy = new OpenAIPolicy({ baseUrl: server.baseUrl, model: "fake-model", ...quiet, ...options });
  return { server, policy };
}

test("chat: one request per sibling group (n = G), the task verbatim, sampling fields and a seed per group", async () => {
  const { server, policy } = await withChat((req) => ({ json: chatAnswer(Array.from({ length: req.body.n }, (_, j) => `Sure.\n\`\`\`javascript\n(xs) => ${j}\n\`\`\`\n`)) }), {
    extraBody: { chat_template_kwargs: { enable_thinking: false } },
  });
  try {
    const history = [{ code: "(xs) => -1", feedback: "passed 0/2 visible" }];
    const conversations = [
      { task: taskA, history: [] },
      { task: taskA, history: [] },
      { task: taskA, history: [] },
      { task: taskB, history },
      { task: taskB, history },
    ];
    const answers = await policy.answer(conversations, { ...SAMPLING, topP: 0.9, topK: 20 });
    const chats = server.requests.filter((r) => r.path === "/v1/chat/completions");
    assert.equal(chats.length, 2);
    const [first, second] = [...chats].sort((a, b) => a.body.n - b.body.n).reverse();
    assert.equal(first.body.n, 3);
    assert.equal(second.body.n, 2);
    assert.equal(first.body.model, "fake-model");
    assert.equal(first.body.temperature, 0.7);
    assert.equal(first.body.top_p, 0.9);
    assert.equal(first.body.top_k, 20);
    assert.equal(first.body.max_tokens, 64);
    assert.equal(first.body.logprobs, true);
    assert.equal(first.body.return_token_ids, true);
    assert.deepEqual(first.body.chat_template_kwargs, { enable_thinking: false });
    assert.equal(first.body.seed, hashString("5/row0"));
    assert.equal(second.body.seed, hashString("5/row3"));
    assert.ok(first.body.messages[0].content.endsWith(renderTask(taskA)));
    assert.equal(second.body.messages.length, 3, "task, earlier answer, feedback");
    assert.equal(second.body.messages[1].role, "assistant");
    assert.ok(second.body.messages[2].content.includes("passed 0/2 visible"));
    assert.deepEqual(answers.map((a) => a.code), ["(xs) => 0", "(xs) => 1", "(xs) => 2", "(xs) => 0", "(xs) => 1"]);
    assert.ok(answers[0].text.startsWith("Sure."));
    // No ids from this server: none are invented.
    assert.deepEqual([answers[0].promptIds, answers[0].completionIds, answers[0].sampledLogprobs], [[], [], []]);
    assert.equal(policy.stats.requests, 2);
    assert.equal(policy.stats.answers, 5);
  } finally {
    await server.close();
  }
});

test("chat: exact token ids and log-probs kept from vLLM's, SGLang's and token_id-string answers", async () => {
  const logprobs = (values: number[], tokens?: string[]) => ({ content: values.map((logprob, i) => ({ token: tokens?.[i] ?? "t", logprob, top_logprobs: [] })) });
  const replies = [
    // vLLM: prompt ids at the top, completion ids per choice.
    chatAnswer(["(a)=>1"], { prompt_token_ids: [1, 2, 3] }),
    // SGLang: both per choice.
    chatAnswer(["(a)=>2"]),
    // --return-tokens-as-token-ids: ids spelled in the log-prob tokens.
    chatAnswer(["(a)=>3"]),
    // Ids and log-probs that do not line up: neither is kept.
    chatAnswer(["(a)=>4"]),
  ];
  (replies[0].choices[0] as any).token_ids = [7, 8];
  (replies[0].choices[0] as any).logprobs = logprobs([-0.5, -0.25]);
  Object.assign(replies[1].choices[0], { prompt_token_ids: [4, 5], token_ids: [9], logprobs: logprobs([-1]) });
  Object.assign(replies[2].choices[0], { logprobs: logprobs([-0.1, -0.2], ["token_id:11", "token_id:12"]) });
  Object.assign(replies[3].choices[0], { token_ids: [1, 2, 3], logprobs: logprobs([-0.1]) });
  const { server, policy } = await withChat((req) => ({ json: replies[req.nth] }), { concurrency: 1 });
  try {
    const tasks = [taskA, taskB, taskA, taskB].map((task, i) => ({ task, history: i < 2 ? [] : [{ code: "x", feedback: `f${i}` }] }));
    const answers = await policy.answer(tasks, SAMPLING);
    assert.deepEqual(answers.map((a) => [a.promptIds, a.completionIds, a.sampledLogprobs]), [
      [[1, 2, 3], [7, 8], [-0.5, -0.25]],
      [[4, 5], [9], [-1]],
      [[], [11, 12], [-0.1, -0.2]],
      [[], [], []],
    ]);
  } finally {
    await server.close();
  }
});

test("retries: 429 (honouring Retry-After) and 5xx are repeated with backoff, then succeed", async () => {
  const retries: string[] = [];
  const { server, policy } = await withChat(
    (req) => {
      if (req.nth === 0) return { status: 429, json: { error: { message: "slow down" } }, headers: { "retry-after": "0" } };
      if (req.nth === 1) return { status: 503, json: { error: { message: "overloaded" } } };
      return { json: chatAnswer(["(a) => 1"]) };
    },
    { onRetry: (m) => retries.push(m), backoffMs: 1, maxBackoffMs: 5 },
  );
  try {
    const [answer] = await policy.answer([{ task: taskA, history: [] }], SAMPLING);
    assert.equal(answer.code, "(a) => 1");
    assert.equal(server.requests.filter((r) => r.path === "/v1/chat/completions").length, 3);
    assert.equal(retries.length, 2);
    assert.match(retries[0], /HTTP 429: slow down; retry 1\/4/);
    assert.match(retries[1], /HTTP 503: overloaded; retry 2\/4/);
    assert.equal(policy.stats.retries, 2);
  } finally {
    await server.close();
  }
});

test("a server that keeps failing: the error names the URL, the status and the server's message", async () => {
  const { server, policy } = await withChat(() => ({ status: 500, json: { error: { message: "CUDA out of memory" } } }), { maxRetries: 2 });
  try {
    await assert.rejects(policy.answer([{ task: taskA, history: [] }], SAMPLING), (e: Error) => {
      assert.match(e.message, new RegExp(`POST ${server.baseUrl}/chat/completions failed after 3 tries: HTTP 500: CUDA out of memory`));
      return true;
    });
    assert.equal(server.requests.filter((r) => r.path === "/v1/chat/completions").length, 3);
  } finally {
    await server.close();
  }
});

test("timeouts: a request that hangs is abandoned, retried, then reported", async () => {
  const { server, policy } = await withChat((req) => (req.nth === 0 ? { delayMs: 2000, json: chatAnswer(["late"]) } : { json: chatAnswer(["(a) => 2"]) }), { timeoutMs: 150 });
  try {
    const [answer] = await policy.answer([{ task: taskA, history: [] }], SAMPLING);
    assert.equal(answer.code, "(a) => 2", "the retry after the timeout answered");
  } finally {
    await server.close();
  }
  const hanging = await withChat(() => ({ delayMs: 2000, json: chatAnswer(["late"]) }), { timeoutMs: 100, maxRetries: 1 });
  try {
    await assert.rejects(hanging.policy.answer([{ task: taskA, history: [] }], SAMPLING), /failed after 2 tries: timed out/);
  } finally {
    await hanging.server.close();
  }
});

test("malformed answers are retried, then reported with what was wrong", async () => {
  const cases: [FakeReply, RegExp][] = [
    [{ raw: "<html>502 Bad Gateway</html>" }, /malformed answer: the answer is not JSON/],
    [{ json: chatAnswer(["a", "b"]) }, /malformed answer: 2 choices, expected 1/],
    [{ json: { choices: [{ index: 0, message: { content: 42 } }] } }, /choices\[0\]\.message\.content must be a string or null/],
    [{ json: { choices: [{ index: 0, message: { content: "x" }, logprobs: { content: [{ logprob: "high" }] } }] } }, /logprobs\.content\[0\]\.logprob must be a number/],
    [{ json: { result: "ok" } }, /no "choices" list/],
  ];
  for (const [reply, message] of cases) {
    const { server, policy } = await withChat(() => reply, { maxRetries: 1 });
    try {
      await assert.rejects(policy.answer([{ task: taskA, history: [] }], SAMPLING), message);
      assert.equal(server.requests.filter((r) => r.path === "/v1/chat/completions").length, 2, "retried once");
    } finally {
      await server.close();
    }
  }
  // A null content (e.g. a refusal) is an empty answer, not a malformed one.
  const { server, policy } = await withChat(() => ({ json: { choices: [{ index: 0, message: { role: "assistant", content: null }, finish_reason: "length" }] } }));
  try {
    const [answer] = await policy.answer([{ task: taskA, history: [] }], SAMPLING);
    assert.equal(answer.code, "");
    assert.equal(policy.stats.truncated, 1);
  } finally {
    await server.close();
  }
});

test("a request the server refuses (400) is not retried; its message is quoted", async () => {
  const { server, policy } = await withChat(() => ({ status: 400, json: { error: { message: "max_tokens is too large" } } }));
  try {
    await assert.rejects(policy.answer([{ task: taskA, history: [] }], SAMPLING), /HTTP 400: max_tokens is too large/);
    assert.equal(server.requests.filter((r) => r.path === "/v1/chat/completions").length, 1);
  } finally {
    await server.close();
  }
});

test("an unknown model and a server that is down: errors that name the URL and say what to do", async () => {
  const server = await fakeServer(() => ({ json: MODELS("Qwen/Qwen3-4B") }));
  try {
    const policy = new OpenAIPolicy({ baseUrl: server.baseUrl, model: "qwen3", ...quiet });
    await assert.rejects(policy.answer([{ task: taskA, history: [] }], SAMPLING), (e: Error) => {
      assert.equal(e.message, `model "qwen3" is not served at ${server.baseUrl}; it serves: "Qwen/Qwen3-4B" (pass one of them to --model)`);
      return true;
    });
  } finally {
    await server.close();
  }
  // A port with nothing listening: find a free one, then close it.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const down = new OpenAIPolicy({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "m", ...quiet });
  const started = Date.now();
  await assert.rejects(down.answer([{ task: taskA, history: [] }], SAMPLING), (e: Error) => {
    assert.match(e.message, new RegExp(`GET http://127\\.0\\.0\\.1:${port}/v1/models failed after 2 tries: connection refused`));
    assert.match(e.message, /Is the server running\?/);
    return true;
  });
  assert.ok(Date.now() - started < 5000, "a refused connection is reported at once, not after minutes of backoff");
  assert.throws(() => new OpenAIPolicy({ baseUrl: "localhost:8000", model: "m" }), /base URL must start with http:\/\/ or https:\/\/ \(got "localhost:8000"\)/);
  assert.throws(() => new OpenAIPolicy({ baseUrl: "http://x/v1", model: "" }), /a model name is required/);
});

test("bounded concurrency: never more requests in flight than allowed", async () => {
  const { server, policy } = await withChat(() => ({ delayMs: 40, json: chatAnswer(["(a) => 0"]) }), { concurrency: 3 });
  try {
    const conversations = Array.from({ length: 12 }, (_, i) => ({ task: taskA, history: [{ code: `(a) => ${i}`, feedback: "no" }] }));
    const answers = await policy.answer(conversations, SAMPLING);
    assert.equal(answers.length, 12);
    assert.equal(server.requests.filter((r) => r.path === "/v1/chat/completions").length, 12);
    assert.equal(server.maxInFlight, 3);
  } finally {
    await server.close();
  }
});

test("completions: the server's template renders the prompt, the oldest attempts are dropped to fit, one batched request with the seed", async () => {
  const server = await fakeServer((req) => {
    if (req.path === "/v1/models") return { json: MODELS("fake-model", 100) };
    if (req.path === "/tokenize") {
      // 30 tokens for the task, 40 per earlier attempt (answer + feedback).
      const attempts = (req.body.messages.length - 1) / 2;
      return { json: { count: 30 + 40 * attempts, max_model_len: 100, tokens: Array.from({ length: 30 + 40 * attempts }, (_, i) => i % 7) } };
    }
    return {
      json: {
        choices: req.body.prompt.map((p: number[], index: number) => ({ index, text: `(a) => ${p.length}`, finish_reason: "stop", token_ids: [1, 2], logprobs: { tokens: ["a", "b"], token_logprobs: [-1, -2] } })),
      },
    };
  });
  try {
    const policy = new OpenAIPolicy({ baseUrl: server.baseUrl, model: "fake-model", api: "completions", ...quiet, extraBody: { chat_template_kwargs: { enable_thinking: false }, repetition_penalty: 1 } });
    const twoAttempts = [{ code: "(a) => 1", feedback: "no" }, { code: "(a) => 2", feedback: "still no" }];
    const answers = await policy.answer([{ task: taskA, history: [] }, { task: taskA, history: twoAttempts }], { ...SAMPLING, maxNewTokens: 20 });
    // 30 + 2*40 + 20 > 100 and 30 + 40 + 20 <= 100: one attempt dropped.
    assert.deepEqual(answers.map((a) => [a.code, a.droppedAttempts, a.promptIds.length, a.completionIds, a.sampledLogprobs]), [
      ["(a) => 30", 0, 30, [1, 2], [-1, -2]],
      ["(a) => 70", 1, 70, [1, 2], [-1, -2]],
    ]);
    const tokenizes = server.requests.filter((r) => r.path === "/tokenize");
    assert.ok(tokenizes.every((r) => r.body.add_generation_prompt === true && r.body.chat_template_kwargs.enable_thinking === false));
    const [completion] = server.requests.filter((r) => r.path === "/v1/completions");
    assert.equal(completion.body.seed, 5);
    assert.equal(completion.body.prompt.length, 2);
    assert.equal(completion.body.logprobs, 1);
    assert.equal(completion.body.repetition_penalty, 1);
    assert.equal(completion.body.chat_template_kwargs, undefined, "template options go to /tokenize, not to the sampler");
  } finally {
    await server.close();
  }
});

test("--openai-strict: only standard OpenAI fields are sent", async () => {
  const { server, policy } = await withChat(() => ({ json: chatAnswer(["x"]) }), { extensions: false, logprobs: false, stop: ["\n\n\n"], system: "Be brief." });
  try {
    await policy.answer([{ task: taskA, history: [] }], { ...SAMPLING, topK: 20 });
    const [req] = server.requests.filter((r) => r.path === "/v1/chat/completions");
    assert.equal(req.body.return_token_ids, undefined);
    assert.equal(req.body.top_k, undefined);
    assert.equal(req.body.top_p, 1, "sampling fields are always sent, so a server's defaults cannot change them");
    assert.equal(req.body.logprobs, undefined);
    assert.deepEqual(req.body.stop, ["\n\n\n"]);
    assert.deepEqual(req.body.messages[0], { role: "system", content: "Be brief." });
    assert.equal(req.headers.authorization, undefined);
  } finally {
    await server.close();
  }
  const keyed = await withChat(() => ({ json: chatAnswer(["x"]) }), { apiKey: "sk-test" });
  try {
    await keyed.policy.answer([{ task: taskA, history: [] }], SAMPLING);
    assert.ok(keyed.server.requests.every((r) => r.headers.authorization === "Bearer sk-test"));
  } finally {
    await keyed.server.close();
  }
});

test("a server that ignores n (one choice for n > 1): the other samples are asked one by one, each with its row's seed", async () => {
  const notices: string[] = [];
  const { server, policy } = await withChat((req) => ({ json: chatAnswer([`(a) => ${req.body.seed % 1000}`]) }), { onRetry: (m) => notices.push(m) });
  try {
    const conversations = [taskA, taskA, taskA, taskB, taskB].map((task) => ({ task, history: [] }));
    const answers = await policy.answer(conversations, SAMPLING);
    assert.deepEqual(answers.map((a) => a.code), [0, 1, 2, 3, 4].map((row) => `(a) => ${hashString(`5/row${row}`) % 1000}`));
    const chats = server.requests.filter((r) => r.path === "/v1/chat/completions");
    // Both groups go out at once (n = 3 and n = 2), each gets one choice, then 2 + 1 single requests.
    assert.deepEqual(chats.map((r) => r.body.n).sort(), [1, 1, 1, 2, 3]);
    assert.equal(notices.filter((m) => /ignores "n"/.test(m)).length, 1);
    // Defaults sent when the kit does not restrict sampling.
    assert.equal(chats[0].body.top_p, 1);
    assert.equal(chats[0].body.top_k, -1);
  } finally {
    await server.close();
  }
});

test("any problem type with an id: a Python benchmark problem goes out in its own style", async () => {
  const problem = { id: "HumanEval/0", prompt: "def add(a, b):\n    \"\"\"Add.\n    >>> add(1, 2)\n    3\n    \"\"\"\n", entryPoint: "add" };
  const server = await fakeServer((req) => (req.path === "/v1/models" ? { json: MODELS() } : { json: chatAnswer(["Here:\n```python\ndef add(a, b):\n    return a + b\n```"]) }));
  try {
    const policy = new OpenAIPolicy<typeof problem>({ baseUrl: server.baseUrl, model: "fake-model", style: pythonStyle, ...quiet });
    const [answer] = await policy.answer([{ task: problem, history: [{ code: "def add(a, b):\n    return a - b", feedback: "passed 0/1 visible; add(1, 2): expected 3, got -1" }] }], SAMPLING);
    assert.equal(answer.code, "def add(a, b):\n    return a + b");
    const [req] = server.requests.filter((r) => r.path === "/v1/chat/completions");
    assert.ok(req.body.messages[0].content.endsWith(`\n\n${problem.prompt}`));
    assert.equal(req.body.messages[1].content, "```python\ndef add(a, b):\n    return a - b\n```");
    assert.match(req.body.messages[2].content, /expected 3, got -1\n\nWrite a corrected version of the complete function in one ```python code block\.$/);
  } finally {
    await server.close();
  }
});
