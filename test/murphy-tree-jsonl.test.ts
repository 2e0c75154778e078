import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatTreeBatch, parseTreeBatch, TREE_BATCH_FORMAT, type TreeBatch } from "../src/murphy/tree-jsonl";
import { loadTreeBatch, saveTreeBatch } from "../src/murphy/tree-file";
import { toyTree } from "../src/murphy/toy-tree";
import { ROOT } from "../src/paths";

const batch: TreeBatch = {
  header: { format: TREE_BATCH_FORMAT, version: 1, seed: 3, note: "toy" },
  trees: [toyTree([{ reward: 0, children: [{ reward: 1 }, { reward: 0.5 }] }, { reward: 1 }], "a"), toyTree([{ reward: 0.2 }, { reward: 0.2 }], "b")],
};

test("a batch of trees round-trips through JSONL: header line, then one tree per line", () => {
  const text = formatTreeBatch(batch);
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.deepEqual(JSON.parse(lines[0]), { format: "murphy-rollout-trees", version: 1, seed: 3, note: "toy" });
  assert.equal(JSON.parse(lines[2]).taskId, "b");
  assert.deepEqual(parseTreeBatch(text), batch);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-trees-"));
  try {
    const file = path.join(dir, "batch.jsonl");
    saveTreeBatch(file, batch);
    assert.deepEqual(loadTreeBatch(file), batch);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("bad batches name the source, the line and the field", () => {
  const [header, first] = formatTreeBatch(batch).split("\n");
  assert.throws(() => parseTreeBatch("", "x.jsonl"), /x\.jsonl: empty/);
  assert.throws(() => parseTreeBatch(first, "x.jsonl"), /x\.jsonl line 1: the first line must be the header/);
  assert.throws(() => parseTreeBatch(header, "x.jsonl"), /x\.jsonl: the header is followed by no tree/);
  assert.throws(() => parseTreeBatch(`${header}\n{oops`, "x.jsonl"), /x\.jsonl line 2: not valid JSON/);
  const broken = JSON.parse(first);
  broken.nodes[2].reward = "high";
  assert.throws(() => parseTreeBatch(`${header}\n\n${JSON.stringify(broken)}`, "x.jsonl"), /x\.jsonl line 3: tree "a" nodes\[2\]\.reward must be a number \(got "high"\)/);
  broken.nodes[2].reward = 1;
  broken.nodes[2].parent = 1;
  assert.throws(() => parseTreeBatch(`${header}\n${JSON.stringify(broken)}`, "x.jsonl"), /x\.jsonl line 2: tree "a": node 0 lists child 2, whose parent is 1/);
  assert.throws(() => parseTreeBatch(header.replace('"version":1', '"version":2') + "\n" + first, "x.jsonl"), /header field "version" must be 1 \(got 2\)/);
});

test("the committed batch of base-policy trees loads, with its provenance", () => {
  const { header, trees } = loadTreeBatch(path.join(ROOT, "data", "rollouts", "base-validation-s1.jsonl"));
  assert.equal(header.checkpoint, "data/checkpoints/base");
  assert.match(String(header.command), /^murphy rollouts /);
  assert.deepEqual(trees.map((t) => t.taskId), header.taskIds);
  assert.ok(trees.every((t) => t.nodes.every((n) => n.completionIds.length > 0 && n.promptIds.length > 0)));
});
