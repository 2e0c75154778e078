/**
 * How the policy update lays out its training examples as token batches. Two layouts, same
 * gradient:
 *
 * - per-sequence (`toSequenceBatch`): each example is one right-padded row, prompt then
 *   completion, forwarded whole. Simple, and what the log-prob tests check against; but every
 *   sibling of a group re-runs the same prompt, and prompts are 74-81% of the tokens.
 * - shared-prompt (`sharedPromptBatches`): the examples of one sibling group share their prompt
 *   exactly (they were sampled from it), so the prompt minus its last token runs once as a
 *   "prefix" row, and each completion row is [last prompt token, completion tokens but the last],
 *   attending to the prefix's keys and values (GPT.logitsAfterPrefix). Column j of a completion
 *   row predicts completion token j, so only completion positions reach the output head.
 *
 * Micro-batches hold whole groups where they fit (a group larger than the micro-batch is split,
 * and each part runs the prefix again), groups sorted by length so padding stays small.
 */
import type { TrainingExample } from "./pipeline";

/** A padded batch: sequence t-th position scores ids[t]; mask marks completion tokens. */
export interface SequenceBatch {
  ids: number[][];
  oldLogprobs: number[][];
  mask: number[][];
  advantages: number[];
  /** Real (unpadded) tokens: prompt + completion. */
  tokens: number;
  completionTokens: number;
}

function checkExample(e: TrainingExample): void {
  if (e.sampledLogprobs.length !== e.completionIds.length) {
    throw new Error(`task ${e.taskId} node ${e.nodeId}: ${e.completionIds.length} completion tokens but ${e.sampledLogprobs.length} log-probs`);
  }
}

/** Right-pad prompt + completion of each example; completion positions carry mask 1. */
export function toSequenceBatch(examples: readonly TrainingExample[], pad: number): SequenceBatch {
  const width = Math.max(1, ...examples.map((e) => e.promptIds.length + e.completionIds.length));
  const batch: SequenceBatch = { ids: [], oldLogprobs: [], mask: [], advantages: [], tokens: 0, completionTokens: 0 };
  for (const e of examples) {
    checkExample(e);
    const ids = new Array(width).fill(pad);
    const old = new Array(width).fill(0);
    const mask = new Array(width).fill(0);
    const start = e.promptIds.length;
    e.promptIds.forEach((id, t) => (ids[t] = id));
    e.completionIds.forEach((id, i) => {
      ids[start + i] = id;
      old[start + i] = e.sampledLogprobs[i];
      mask[start + i] = 1;
    });
    batch.ids.push(ids);
    batch.oldLogprobs.push(old);
    batch.mask.push(mask);
    batch.advantages.push(e.advantage);
    batch.tokens += start + e.completionIds.length;
    batch.completionTokens += e.completionIds.length;
  }
  return batch;
}

/** One micro-batch in the shared-prompt layout (see the file comment). */
export interface SharedPromptBatch {
  /** `[G, P]`: each group's prompt without its last token, right-padded (P >= 1). */
  prefixIds: number[][];
  /** Real length of each prefix (prompt length - 1). */
  prefixLengths: number[];
  /** `[B, S]`: last prompt token, then the completion without its last token, right-padded. */
  ids: number[][];
  /** `[B, S]`: position of each id in its whole sequence (prefix length + column). */
  positions: number[][];
  /** `[B, S]`: the completion tokens, the token column j predicts; padding where mask is 0. */
  targets: number[][];
  /** `[B, S]`: sampling log-prob of each target. */
  oldLogprobs: number[][];
  /** `[B, S]`: 1 on completion tokens. */
  mask: number[][];
  /** `[B]`: the prefix (row of prefixIds) each completion row continues. */
  rowGroup: number[];
  advantages: number[];
  /** Which example (index into the update's input) each row is. */
  exampleIndex: number[];
  /** Real tokens forwarded: prefix tokens once per group, plus 1 + completion - 1 per row. */
  tokens: number;
  completionTokens: number;
}

const sameIds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Group examples by identical prompt (consecutive or not), then pack groups into micro-batches
 * of at most `microBatchSize` completion rows, longest groups first. Examples with an empty
 * prompt cannot share anything and are refused (every kit prompt holds at least the task).
 */
export function sharedPromptBatches(examples: readonly TrainingExample[], pad: number, microBatchSize: number): SharedPromptBatch[] {
  if (!(Number.isInteger(microBatchSize) && microBatchSize >= 1)) throw new Error(`sharedPromptBatches: microBatchSize must be an integer >= 1 (got ${microBatchSize})`);
  const groups: { prompt: number[]; members: number[] }[] = [];
  const byKey = new Map<string, number>();
  examples.forEach((e, i) => {
    checkExample(e);
    if (e.promptIds.length === 0) throw new Error(`task ${e.taskId} node ${e.nodeId}: empty prompt (the shared-prompt update needs at least one prompt token)`);
    const key = e.promptIds.join(",");
    let g = byKey.get(key);
    if (g === undefined || !sameIds(groups[g].prompt, e.promptIds)) {
      g = groups.length;
      byKey.set(key, g);
      groups.push({ prompt: e.promptIds, members: [] });
    }
    groups[g].members.push(i);
  });
  // Split groups larger than a micro-batch; then longest first, so each micro-batch's groups are alike in length.
  const parts: { prompt: number[]; members: number[] }[] = [];
  for (const g of groups) for (let i = 0; i < g.members.length; i += microBatchSize) parts.push({ prompt: g.prompt, members: g.members.slice(i, i + microBatchSize) });
  const length = (p: { prompt: number[]; members: number[] }) => p.prompt.length + Math.max(...p.members.map((i) => examples[i].completionIds.length));
  parts.sort((a, b) => length(b) - length(a));

  const batches: SharedPromptBatch[] = [];
  let current: { prompt: number[]; members: number[] }[] = [];
  let rows = 0;
  const flush = () => {
    if (current.length) batches.push(packGroups(current, examples, pad));
    current = [];
    rows = 0;
  };
  for (const part of parts) {
    if (rows + part.members.length > microBatchSize) flush();
    current.push(part);
    rows += part.members.length;
  }
  flush();
  return batches;
}

function packGroups(parts: { prompt: number[]; members: number[] }[], examples: readonly TrainingExample[], pad: number): SharedPromptBatch {
  const P = Math.max(1, ...parts.map((p) => p.prompt.length - 1));
  const S = Math.max(1, ...parts.flatMap((p) => p.members.map((i) => examples[i].completionIds.length)));
  const batch: SharedPromptBatch = {
    prefixIds: [], prefixLengths: [], ids: [], positions: [], targets: [], oldLogprobs: [], mask: [],
    rowGroup: [], advantages: [], exampleIndex: [], tokens: 0, completionTokens: 0,
  };
  parts.forEach((part, g) => {
    const prefixLength = part.prompt.length - 1;
    const prefix = new Array(P).fill(pad);
    for (let t = 0; t < prefixLength; t++) prefix[t] = part.prompt[t];
    batch.prefixIds.push(prefix);
    batch.prefixLengths.push(prefixLength);
    batch.tokens += prefixLength;
    for (const i of part.members) {
      const e = examples[i];
      const n = e.completionIds.length;
      const ids = new Array(S).fill(pad);
      const targets = new Array(S).fill(pad);
      const old = new Array(S).fill(0);
      const mask = new Array(S).fill(0);
      ids[0] = part.prompt[prefixLength];
      for (let j = 0; j < n; j++) {
        if (j + 1 < n) ids[j + 1] = e.completionIds[j];
        targets[j] = e.completionIds[j];
        old[j] = e.sampledLogprobs[j];
        mask[j] = 1;
      }
      batch.ids.push(ids);
      // Padding columns get in-range positions too (their outputs are masked out).
      batch.positions.push(Array.from({ length: S }, (_, j) => Math.min(prefixLength + j, prefixLength + Math.max(0, n - 1))));
      batch.targets.push(targets);
      batch.oldLogprobs.push(old);
      batch.mask.push(mask);
      batch.rowGroup.push(g);
      batch.advantages.push(e.advantage);
      batch.exampleIndex.push(i);
      batch.tokens += Math.max(1, n);
      batch.completionTokens += n;
    }
  });
  return batch;
}
