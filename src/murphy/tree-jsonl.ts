/**
 * A batch of rollout trees as JSONL text, so trees sampled once can be read back by a notebook, the
 * pruning explorer (in a browser) or a test without sampling again:
 *
 *   line 1   {"format": "murphy-rollout-trees", "version": 1, ...provenance}
 *   line 2+  one RolloutTree per line: {"taskId": "...", "nodes": [TreeNode, ...]}
 *
 * The header's other fields say where the trees came from (checkpoint, config, seed, command;
 * `bench` for trees on a Python benchmark, whose `taskId`s are its problem ids: "HumanEval/0");
 * they are kept as written and not interpreted. Pure string functions, no file system: the browser
 * bundle uses them too (tree-file.ts reads and writes files).
 */
import { OUTCOMES } from "../sandbox/types";
import { checkTree } from "./tree-check";
import type { RolloutTree, TreeNode } from "./tree";

export const TREE_BATCH_FORMAT = "murphy-rollout-trees";
export const TREE_BATCH_VERSION = 1;

export interface TreeBatchHeader {
  format: typeof TREE_BATCH_FORMAT;
  version: typeof TREE_BATCH_VERSION;
  /** Provenance: free-form fields (checkpoint, config, seed, command, ...). */
  [field: string]: unknown;
}

export interface TreeBatch {
  header: TreeBatchHeader;
  trees: RolloutTree[];
}

/** The batch as JSONL text (header first, one tree per line, trailing newline). */
export function formatTreeBatch(batch: TreeBatch): string {
  for (const tree of batch.trees) checkTree(tree);
  const header = { ...batch.header, format: TREE_BATCH_FORMAT, version: TREE_BATCH_VERSION };
  return [header, ...batch.trees].map((record) => JSON.stringify(record)).join("\n") + "\n";
}

const isIntegerArray = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isInteger(x));
const isNumberArray = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** The checks of one node's fields; each returns what the field must be, or "" when it is fine. */
const NODE_FIELDS: Record<keyof TreeNode, (v: unknown) => string> = {
  id: (v) => (Number.isInteger(v) ? "" : "an integer"),
  parent: (v) => (v === null || Number.isInteger(v) ? "" : "an integer or null"),
  children: (v) => (isIntegerArray(v) ? "" : "an array of integers"),
  turn: (v) => (Number.isInteger(v) ? "" : "an integer"),
  promptIds: (v) => (isIntegerArray(v) ? "" : "an array of integers (token ids)"),
  completionIds: (v) => (isIntegerArray(v) ? "" : "an array of integers (token ids)"),
  sampledLogprobs: (v) => (isNumberArray(v) ? "" : "an array of numbers"),
  code: (v) => (typeof v === "string" ? "" : "a string"),
  outcome: (v) => (typeof v === "string" && (OUTCOMES as readonly string[]).includes(v) ? "" : `one of ${OUTCOMES.join(", ")}`),
  reward: (v) => (typeof v === "number" && Number.isFinite(v) ? "" : "a number"),
  visiblePassed: (v) => (typeof v === "boolean" ? "" : "a boolean"),
  feedback: (v) => (typeof v === "string" ? "" : "a string"),
  answer: (v) => (v === undefined || typeof v === "string" ? "" : "a string when present"),
};

function parseTree(record: unknown, where: string): RolloutTree {
  const tree = record as { taskId?: unknown; nodes?: unknown };
  if (typeof tree !== "object" || tree === null || Array.isArray(tree)) throw new Error(`${where}: a tree must be a JSON object {"taskId": ..., "nodes": [...]}`);
  if (typeof tree.taskId !== "string" || tree.taskId === "") throw new Error(`${where}: field "taskId" must be a non-empty string`);
  if (!Array.isArray(tree.nodes) || tree.nodes.length === 0) throw new Error(`${where}: tree "${tree.taskId}": field "nodes" must be a non-empty array`);
  tree.nodes.forEach((node: unknown, i: number) => {
    if (typeof node !== "object" || node === null) throw new Error(`${where}: tree "${tree.taskId}" nodes[${i}] must be an object`);
    for (const [field, check] of Object.entries(NODE_FIELDS)) {
      const expected = check((node as Record<string, unknown>)[field]);
      if (expected) throw new Error(`${where}: tree "${tree.taskId}" nodes[${i}].${field} must be ${expected} (got ${JSON.stringify((node as Record<string, unknown>)[field])?.slice(0, 60)})`);
    }
    const n = node as TreeNode;
    if (n.sampledLogprobs.length !== n.completionIds.length) {
      throw new Error(`${where}: tree "${tree.taskId}" nodes[${i}] has ${n.completionIds.length} completionIds but ${n.sampledLogprobs.length} sampledLogprobs`);
    }
  });
  const parsed = { taskId: tree.taskId, nodes: tree.nodes as TreeNode[] };
  try {
    checkTree(parsed);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  return parsed;
}

/**
 * Parse the JSONL text of a batch. `where` names the source (a file name) in errors, which also
 * give the line: "my-trees.jsonl line 3: tree "test-00001" nodes[2].reward must be a number".
 */
export function parseTreeBatch(text: string, where = "tree batch"): TreeBatch {
  const lines = text.split("\n").map((line, i) => ({ line: line.trim(), number: i + 1 })).filter((l) => l.line !== "");
  if (lines.length === 0) throw new Error(`${where}: empty; expected a header line {"format": "${TREE_BATCH_FORMAT}", "version": 1} and one tree per line`);
  const records = lines.map(({ line, number }) => {
    try {
      return { record: JSON.parse(line) as unknown, where: `${where} line ${number}` };
    } catch (e) {
      throw new Error(`${where} line ${number}: not valid JSON (${(e as Error).message})`);
    }
  });
  const header = records[0].record as Partial<TreeBatchHeader> | null;
  if (typeof header !== "object" || header === null || header.format !== TREE_BATCH_FORMAT) {
    throw new Error(`${records[0].where}: the first line must be the header {"format": "${TREE_BATCH_FORMAT}", "version": ${TREE_BATCH_VERSION}, ...} (got ${JSON.stringify(header)?.slice(0, 80)})`);
  }
  if (header.version !== TREE_BATCH_VERSION) throw new Error(`${records[0].where}: header field "version" must be ${TREE_BATCH_VERSION} (got ${JSON.stringify(header.version)})`);
  const trees = records.slice(1).map(({ record, where: at }) => parseTree(record, at));
  if (trees.length === 0) throw new Error(`${where}: the header is followed by no tree`);
  return { header: header as TreeBatchHeader, trees };
}
