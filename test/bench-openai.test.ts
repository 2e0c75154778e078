/**
 * A served model on a Python benchmark, through the command line: `murphy eval --bench humaneval
 * --policy openai` and `murphy rollout --bench humaneval --policy openai` against a scripted
 * OpenAI-compatible server on 127.0.0.1 that answers with Python programs (right, wrong, one that
 * passes only the visible examples, one answer with no program at all). Iter-k is checked against
 * numbers worked out by hand from the script; every reward against the Python sandbox run here.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluateBenchProgram, loadHumanEval, type BenchProblem } from "../src/benchmarks/index";
import { PythonSandbox } from "../src/pysandbox/index";
import { FEEDBACK_INTRO, pythonStyle } from "../src/policy/chat-format";
import { loadTreeBatch } from "../src/murphy/tree-file";
import { loadConfig } from "../src/murphy/config";
import { paperIterKFor } from "../src/eval/paper-iterk";
import type { AttemptRecord } from "../src/eval/iterk";
import type { ExportedExample } from "../src/murphy/training-export";
import { readJsonl } from "../src/util/files";
import { ROOT } from "../src/paths";
import { chatAnswer, fakeServer, MODELS, type FakeRequest } from "./helpers/fake-openai";
import { tempDir } from "./helpers/temp";

const sandbox = new PythonSandbox({ timeoutMs: 20_000 });
after(() => sandbox.close());
const dir = tempDir("murphy-bench-openai-");
const [P0, P1, P2] = loadHumanEval().slice(0, 3) as BenchProblem[];

/** A chat model's answer: a sentence, then the program in a python fence. */
const fenced = (code: string) => `Here is the function.\n\n\`\`\`python\n${code}\n\`\`\``;
const RIGHT = (p: BenchProblem) => p.reference as string;
const ALWAYS_TRUE = "def has_close_elements(numbers, threshold):\n    return True"; // fails the visible example [1.0, 2.0, 3.0], 0.5 -> False
const EMPTY_LIST = "def separate_paren_groups(paren_string):\n    return []"; // fails the visible example
const SPLIT_WORDS = "def separate_paren_groups(paren_string):\n    return paren_string.split()"; // fails it too
const HALF = "def truncate_number(number):\n    return 0.5"; // passes the visible 3.5 -> 0.5, fails the hidden tests
const IDENTITY = "def truncate_number(number):\n    return number"; // fails the visible example
/** An answer without any program: the whole text is taken as the program, a syntax error. */
const NO_CODE = "The decimal part is the number minus its integer part.";

/** The program a chat message carries (the answers above are fenced, except NO_CODE). */
const programOf = (answer: string) => (answer === NO_CODE ? NO_CODE : /```python\n([\s\S]*)\n```/.exec(answer)![1]);

/** Which problem a conversation is about, from its first user message (the benchmark's prompt verbatim). */
function problemOf(messages: { content: string }[]): BenchProblem {
  const found = [P0, P1, P2].find((p) => messages[0].content.endsWith(p.prompt));
  assert.ok(found, `the first user message ends with a HumanEval prompt: ${messages[0].content.slice(0, 200)}`);
  return found;
}

async function scriptedServer(answers: (problem: BenchProblem, turn: number, choice: number, previous: string | null) => string) {
  return fakeServer((req: FakeRequest) => {
    if (req.path === "/v1/models") return { json: MODELS("scripted-python") };
    assert.equal(req.path, "/v1/chat/completions");
    const messages = req.body.messages as { role: string; content: string }[];
    const turn = (messages.length + 1) / 2;
    const previous = turn > 1 ? programOf(messages[messages.length - 2].content) : null;
    const problem = problemOf(messages);
    const texts = Array.from({ length: req.body.n }, (_, choice) => answers(problem, turn, choice, previous));
    return { json: chatAnswer(texts.map((t) => (t === NO_CODE ? t : fenced(t)))) };
  });
}

/** The CLI in a child process without blocking this one (the scripted server lives here). */
function murphy(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; json: () => any }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout.trim().split("\n").pop() as string) }));
  });
}

/** Each recorded program gets from the sandbox here exactly the reward, outcome, feedback and stop the run recorded. */
async function assertMatchesSandbox(problem: BenchProblem, code: string, recorded: { reward: number; outcome: string; feedback: string; visiblePassed: boolean }, where: string) {
  const e = await evaluateBenchProgram(sandbox, problem, code);
  assert.deepEqual(
    { reward: recorded.reward, outcome: recorded.outcome, feedback: recorded.feedback, visiblePassed: recorded.visiblePassed },
    { reward: e.reward, outcome: e.outcome, feedback: e.feedback, visiblePassed: e.visiblePassed },
    where,
  );
}

test("murphy eval --bench humaneval --policy openai: Iter-k from a scripted server, worked out by hand", async () => {
  // Turn 1, two chains per problem (one request with n = 2 each):
  //   HumanEval/0  [right, always True]        -> chain 0 solved at turn 1
  //   HumanEval/1  [empty list, split words]   -> both fail a visible example
  //   HumanEval/2  [no code, 0.5]              -> chain 0 a syntax error; chain 1 passes the visible
  //                                               example only, so it stops there, unsolved
  // Turn 2 (the four chains that failed a visible test, one request each):
  //   HumanEval/0 chain 1 -> right; HumanEval/1 chain 0 -> right, chain 1 -> split words again;
  //   HumanEval/2 chain 0 -> identity (wrong)
  // Solved at turn: [1, 2], [2, 0], [0, 0]. Iter-1 = (1/2 + 0 + 0) / 3 = 1/6, Iter-2 = (1 + 1/2 + 0) / 3 = 1/2.
  const server = await scriptedServer((problem, turn, choice, previous) => {
    if (problem === P0) return turn === 1 ? [RIGHT(P0), ALWAYS_TRUE][choice] : RIGHT(P0);
    if (problem === P1) return turn === 1 ? [EMPTY_LIST, SPLIT_WORDS][choice] : previous === EMPTY_LIST ? RIGHT(P1) : SPLIT_WORDS;
    return turn === 1 ? [NO_CODE, HALF][choice] : IDENTITY;
  });
  try {
    const out = path.join(dir, "eval.jsonl");
    const r = await murphy("eval", "--bench", "humaneval", "--policy", "openai", "--base-url", server.baseUrl, "--model", "scripted-python",
      "--turns", "2", "--samples", "2", "--limit", "3", "--out", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const summary = r.json();
    assert.deepEqual([summary.bench, summary.policy, summary.model, summary.problems, summary.turns, summary.samples], ["humaneval", "openai", "scripted-python", 3, 2, 2]);
    assert.equal(summary.iter_pass1.length, 2);
    assert.ok(Math.abs(summary.iter_pass1[0] - 1 / 6) < 1e-12, `Iter-1 ${summary.iter_pass1[0]}`);
    assert.ok(Math.abs(summary.iter_pass1[1] - 1 / 2) < 1e-12, `Iter-2 ${summary.iter_pass1[1]}`);
    // pass@2: a problem counts if either chain solved it; at Iter-2 that is HumanEval/0 and /1.
    assert.ok(Math.abs(summary.pass_at_k[0]["pass@2"] - 1 / 3) < 1e-12 && Math.abs(summary.pass_at_k[1]["pass@2"] - 2 / 3) < 1e-12, JSON.stringify(summary.pass_at_k));
    assert.deepEqual([summary.solved, summary.unsolved, summary.attempts], [2, ["HumanEval/2"], 10]);
    // One request per problem at turn 1 (n = 2), one per continuing chain at turn 2.
    assert.equal(summary.http.requests, 3 + 4);
    assert.deepEqual(summary.paper, paperIterKFor("humaneval"));

    const records = readJsonl<AttemptRecord>(out);
    assert.equal(records.length, 10);
    const problems = new Map([P0, P1, P2].map((p) => [p.id, p]));
    for (const rec of records) await assertMatchesSandbox(problems.get(rec.taskId)!, rec.code, rec, `${rec.taskId} chain ${rec.chain} turn ${rec.turn}`);
    const noCode = records.find((rec) => rec.code === NO_CODE)!;
    assert.deepEqual([noCode.taskId, noCode.chain, noCode.turn, noCode.outcome, noCode.reward], ["HumanEval/2", 0, 1, "syntax_error", 0]);
    const half = records.find((rec) => rec.code === HALF)!;
    assert.deepEqual([half.visiblePassed, half.solved, records.some((rec) => rec.taskId === "HumanEval/2" && rec.chain === 1 && rec.turn === 2)], [true, false, false]);
    assert.ok(records.filter((rec) => rec.code !== NO_CODE).every((rec) => rec.answer === fenced(rec.code)), "the whole answer is kept beside the program");

    // Turn-2 prompts: the problem verbatim, the model's own answer, then the visible-test feedback of
    // that answer, and nothing of the hidden tests.
    const turn2 = server.requests.filter((q) => q.path === "/v1/chat/completions" && q.body.messages.length === 3);
    assert.equal(turn2.length, 4);
    for (const q of turn2) {
      const [task, answer, feedback] = q.body.messages as { role: string; content: string }[];
      const problem = problemOf([task]);
      const style = pythonStyle(problem);
      assert.equal(task.content, `${style.instruction}\n\n${problem.prompt}`);
      // An answer that was more than its program is replayed as written; a bare one (NO_CODE) in a fence.
      const first = records.find((rec) => rec.taskId === problem.id && rec.turn === 1 && answer.content === (rec.answer ?? "```python\n" + rec.code + "\n```"))!;
      assert.ok(first, `turn 2 replays a turn-1 answer of ${problem.id}`);
      assert.equal(answer.role, "assistant");
      assert.equal(feedback.content, `${FEEDBACK_INTRO}\n${first.feedback}\n\n${style.retry}`);
      assert.ok(!JSON.stringify(q.body).includes("def check(candidate)") && !JSON.stringify(q.body).includes("METADATA"), "no hidden test reaches the model");
    }
  } finally {
    await server.close();
  }
});

test("murphy rollout --bench humaneval --policy openai: trees that load back, rewards from the sandbox, credit and a training export", async () => {
  // G = 3 first attempts per problem, G_s = 2 repairs of each failed one (one request with n = 2):
  // repair 0 is right, repair 1 repeats the parent's program.
  const server = await scriptedServer((problem, turn, choice, previous) => {
    if (turn === 2) return choice === 0 ? RIGHT(problem) : (previous as string);
    return problem === P0 ? [RIGHT(P0), ALWAYS_TRUE, NO_CODE][choice] : [EMPTY_LIST, RIGHT(P1), SPLIT_WORDS][choice];
  });
  try {
    const out = path.join(dir, "rollout");
    const r = await murphy("rollout", "--bench", "humaneval", "--policy", "openai", "--base-url", server.baseUrl, "--model", "scripted-python", "--limit", "2",
      "--set", "groupSize=3", "--set", "childrenPerFailed=2", "--set", "turns=2", "--seed", "5", "--out", out, "--json");
    assert.equal(r.code, 0, r.stderr);
    const summary = r.json();
    assert.deepEqual([summary.bench, summary.policy, summary.trees, summary.candidates], ["humaneval", "openai", 2, 2 * (3 + 2 * 2)]);
    assert.equal(summary.http.requests, 2 + 2 * 2);

    const batch = loadTreeBatch(path.join(out, "trees.jsonl"));
    assert.deepEqual([batch.header.bench, batch.header.model, batch.header.taskIds, batch.header.groupSize, batch.header.seed], ["humaneval", "scripted-python", ["HumanEval/0", "HumanEval/1"], 3, 5]);
    assert.equal(batch.header.split, undefined, "HumanEval has no split");
    const config = loadConfig("configs/murphy-mars.json", ["groupSize=3", "childrenPerFailed=2", "turns=2", "seed=5"]);
    const gamma = config.credit.gamma;
    const scored = readJsonl<{ taskId: string; propagatedRewards: number[]; advantages: (number | null)[]; kept: number[] }>(path.join(out, "scored.jsonl"));
    for (const [t, tree] of batch.trees.entries()) {
      const problem = [P0, P1][t];
      assert.equal(tree.taskId, problem.id);
      for (const node of tree.nodes) await assertMatchesSandbox(problem, node.code, node, `${problem.id} node ${node.id}`);
      const first = tree.nodes.filter((n) => n.parent === null);
      // HumanEval's verdict is one hidden test, so rewards are 0 or 1; the right program is the leaf.
      assert.deepEqual(first.map((n) => n.reward), t === 0 ? [1, 0, 0] : [0, 1, 0]);
      for (const n of first) {
        assert.equal(n.children.length, n.reward === 1 ? 0 : 2);
        for (const c of n.children.map((id) => tree.nodes[id])) assert.equal(c.code, c === tree.nodes[n.children[0]] ? RIGHT(problem) : n.code);
      }
      // A chat server without ids: text only; the whole answer is kept where it was more than the program.
      for (const n of tree.nodes) assert.deepEqual([n.completionIds, n.sampledLogprobs, n.answer], [[], [], n.code === NO_CODE ? undefined : fenced(n.code)]);
      // MaRS by hand: a leaf keeps r; a failed attempt whose repair is right gets gamma x 1.
      const R = scored[t].propagatedRewards;
      for (const n of tree.nodes) assert.ok(Math.abs(R[n.id] - (n.children.length ? Math.max(n.reward, gamma * 1) : n.reward)) < 1e-12, `R(${n.id}) = ${R[n.id]}`);
    }
    const noCode = batch.trees[0].nodes[2];
    assert.deepEqual([noCode.code, noCode.outcome, noCode.reward, noCode.visiblePassed], [NO_CODE, "syntax_error", 0, false]);

    const examples = readJsonl<ExportedExample>(path.join(out, "examples.jsonl"));
    assert.equal(examples.length, scored.reduce((a, s) => a + s.kept.length, 0));
    assert.equal(summary.examples_with_token_ids, 0);
    for (const e of examples) {
      const tree = batch.trees.find((t) => t.taskId === e.task_id)!;
      const problem = [P0, P1].find((p) => p.id === e.task_id)!;
      assert.equal(e.advantage, scored.find((s) => s.taskId === e.task_id)!.advantages[e.node]);
      assert.equal(e.messages[0].content, `${pythonStyle(problem).instruction}\n\n${problem.prompt}`);
      assert.equal(e.messages.length, 1 + 2 * (e.turn - 1));
      if (e.turn > 1) assert.equal(e.messages[2].content, `${FEEDBACK_INTRO}\n${tree.nodes[e.parent!].feedback}\n\n${pythonStyle(problem).retry}`);
      assert.equal(e.completion, tree.nodes[e.node].answer ?? tree.nodes[e.node].code);
    }
  } finally {
    await server.close();
  }
});

test("murphy eval / rollout --bench with a served model: clear errors for missing or misplaced flags", async () => {
  const noModel = await murphy("eval", "--bench", "humaneval", "--policy", "openai", "--base-url", "http://127.0.0.1:9/v1", "--limit", "1");
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /murphy eval: --policy openai needs --model/);
  const misplaced = await murphy("eval", "--bench", "humaneval", "--policy", "canonical", "--model", "x", "--limit", "1");
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /murphy eval: --model is for --policy openai \(--policy is canonical\)/);
  const kitRollout = await murphy("rollout", "--bench", "mbpp", "--out", path.join(dir, "nope"));
  assert.equal(kitRollout.code, 2);
  assert.match(kitRollout.stderr, /murphy rollout: --bench mbpp needs --policy openai --base-url URL --model NAME/);
  assert.equal(fs.existsSync(path.join(dir, "nope")), false);
});
