/**
 * The command line against a real server on 127.0.0.1: `murphy serve` in its own process, then
 * `murphy eval --policy openai` and `murphy rollout --policy openai` talking to it.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { loadTreeBatch } from "../src/murphy/tree-file";
import { readJsonl } from "../src/util/files";
import { loadSplit } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { renderTask } from "../src/model/prompt";
import type { ExportedExample } from "../src/murphy/training-export";
import { startServeProcess, type ServeProcess } from "../src/serve/process";
import { chatAnswer, fakeServer, MODELS } from "./helpers/fake-openai";

const ROOT = path.join(__dirname, "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-openai-cli-"));
let serve: ServeProcess;
let baseUrl = "";

function murphy(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trim().split("\n").pop() ?? "" };
}

before(async () => {
  serve = await startServeProcess();
  baseUrl = serve.baseUrl;
});

after(async () => {
  await serve.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("murphy eval --policy openai against murphy serve: the in-process result, attempt for attempt", () => {
  const common = ["--split", "test", "--turns", "2", "--limit", "6", "--seed", "3", "--json"];
  const served = murphy("eval", "--policy", "openai", "--base-url", baseUrl, "--model", "base", "--api", "completions", "--out", path.join(tmp, "served.jsonl"), ...common);
  assert.equal(served.code, 0, served.stderr);
  const local = murphy("eval", "--checkpoint", "data/checkpoints/base", "--out", path.join(tmp, "local.jsonl"), ...common);
  assert.equal(local.code, 0, local.stderr);
  const s = JSON.parse(served.last);
  const l = JSON.parse(local.last);
  assert.deepEqual(s.iter_pass1, l.iter_pass1);
  assert.equal(s.policy, "openai");
  assert.equal(s.model, "base");
  assert.equal(s.max_model_len, 640);
  assert.ok(s.http.requests >= 2);
  assert.equal(fs.readFileSync(path.join(tmp, "served.jsonl"), "utf8"), fs.readFileSync(path.join(tmp, "local.jsonl"), "utf8"));

  const chat = murphy("eval", "--policy", "openai", "--base-url", baseUrl, "--model", "base", "--out", path.join(tmp, "chat.jsonl"), ...common);
  assert.equal(chat.code, 0, chat.stderr);
  const c = JSON.parse(chat.last);
  assert.equal(c.api, "chat");
  assert.equal(c.iter_pass1.length, 2);
  assert.equal(readJsonl(path.join(tmp, "chat.jsonl")).length, c.attempts);
});

test("murphy rollout --policy openai: trees notebooks can open, scores, and a training export", () => {
  const out = path.join(tmp, "rollout");
  const r = murphy("rollout", "--policy", "openai", "--base-url", baseUrl, "--model", "base", "--split", "validation", "--limit", "3",
    "--set", "groupSize=3", "--set", "childrenPerFailed=2", "--set", "sampling.temperature=1", "--seed", "2", "--out", out, "--json");
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.last);
  const batch = loadTreeBatch(path.join(out, "trees.jsonl"));
  assert.equal(batch.header.policy, "openai");
  assert.equal(batch.header.model, "base");
  assert.equal(batch.trees.length, 3);
  assert.equal(summary.candidates, batch.trees.reduce((a, t) => a + t.nodes.length, 0));
  const tasks = new Map(loadSplit(TASKS_DIR, "validation").map((t) => [t.id, t]));
  const scored = readJsonl<{ taskId: string; kept: number[]; advantages: (number | null)[] }>(path.join(out, "scored.jsonl"));
  const examples = readJsonl<ExportedExample>(path.join(out, "examples.jsonl"));
  assert.equal(examples.length, scored.reduce((a, s) => a + s.kept.length, 0));
  assert.equal(summary.examples_with_token_ids, examples.length, "murphy serve returns ids and log-probs for every answer");
  for (const e of examples) {
    const tree = batch.trees.find((t) => t.taskId === e.task_id)!;
    const node = tree.nodes[e.node];
    assert.deepEqual(e.completion_ids, node.completionIds);
    assert.equal(e.old_logprobs.length, e.completion_ids.length);
    assert.deepEqual(e.completion_mask, e.completion_ids.map(() => 1));
    assert.deepEqual(e.prompt_ids, node.promptIds);
    assert.equal(e.advantage, scored.find((s) => s.taskId === e.task_id)!.advantages[e.node]);
    assert.ok(e.messages[0].content.endsWith(renderTask(tasks.get(e.task_id)!)));
    // A repair's prompt carries its parent's answer and feedback.
    assert.equal(e.messages.length, 1 + 2 * (e.turn - 1));
    if (e.turn > 1) assert.ok(e.messages[2].content.includes(tree.nodes[e.parent!].feedback));
  }
  const written = JSON.parse(fs.readFileSync(path.join(out, "rollout.json"), "utf8"));
  assert.equal(written.config.groupSize, 3);
});

test("murphy eval --policy openai: clear errors for a server that is down, an unknown model, missing flags", async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const down = murphy("eval", "--policy", "openai", "--base-url", `http://127.0.0.1:${port}/v1`, "--model", "base", "--limit", "1");
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`http://127\\.0\\.0\\.1:${port}/v1/models failed after 2 tries: connection refused .*Is the server running\\?`));
  const unknown = murphy("eval", "--policy", "openai", "--base-url", baseUrl, "--model", "Qwen/Qwen3-4B", "--limit", "1");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /model "Qwen\/Qwen3-4B" is not served at http:\/\/127\.0\.0\.1:\d+\/v1; it serves: "base"/);
  const noModel = murphy("eval", "--policy", "openai", "--base-url", baseUrl);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /--policy openai needs --model/);
  const mixed = murphy("eval", "--base-url", baseUrl);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /--base-url is for --policy openai/);
});

/** The CLI in a child process without blocking this one (the scripted server below lives here). */
function murphyAsync(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

test("murphy eval --policy openai against a scripted server: a 503 is retried; malformed answers end in a clear error", async () => {
  const flaky = await fakeServer((req) => {
    if (req.path === "/v1/models") return { json: MODELS("fake") };
    if (req.nth === 0) return { status: 503, json: { error: { message: "warming up" } } };
    return { json: chatAnswer(Array.from({ length: req.body.n }, () => "```javascript\n(...args) => 0\n```")) };
  });
  try {
    const r = await murphyAsync("eval", "--policy", "openai", "--base-url", flaky.baseUrl, "--model", "fake", "--split", "test", "--limit", "2", "--turns", "1", "--out", path.join(tmp, "flaky.jsonl"), "--json");
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.equal(summary.http.retries, 1);
    assert.equal(summary.attempts, 2);
    assert.match(r.stderr, /HTTP 503: warming up; retry 1\/4/);
    assert.deepEqual(readJsonl<{ code: string }>(path.join(tmp, "flaky.jsonl")).map((a) => a.code), ["(...args) => 0", "(...args) => 0"]);
  } finally {
    await flaky.close();
  }
  const broken = await fakeServer((req) => (req.path === "/v1/models" ? { json: MODELS("fake") } : { raw: "<html>upstream error</html>" }));
  try {
    const r = await murphyAsync("eval", "--policy", "openai", "--base-url", broken.baseUrl, "--model", "fake", "--limit", "1", "--retries", "1");
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`POST ${broken.baseUrl}/chat/completions failed after 2 tries: malformed answer: the answer is not JSON`));
  } finally {
    await broken.close();
  }
});
