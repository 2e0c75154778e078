/**
 * A tiny base policy for trainer tests: a small GPT taught by a few dozen supervised steps to
 * answer two short tasks with their references, so that sampling at temperature 1 gives a mix of
 * right and wrong programs (rewards with variance, hence real advantages and gradients).
 */
import * as tf from "@tensorflow/tfjs";
import { GPT } from "../../src/model/gpt";
import { Tokenizer } from "../../src/model/tokenizer";
import { AdamW, optimizerStep, sftLoss } from "../../src/model/train";
import { savePolicy } from "../../src/model/store";
import { buildPrompt } from "../../src/model/prompt";
import { collate } from "../../src/pretrain/dataset";
import { completionIds } from "../../src/model/prompt";
import { loadSplit } from "../../src/tasks/load";
import { TASKS_DIR } from "../../src/paths";
import type { Task } from "../../src/tasks/types";
import { tempDir } from "./temp";

/** Two validation tasks with short prompts and references. */
export function tinyTasks(): Task[] {
  const tok = new Tokenizer();
  return loadSplit(TASKS_DIR, "validation")
    .filter((t) => t.difficulty === 1 && buildPrompt(tok, t, []).length < 110 && t.reference.length < 30)
    .slice(0, 2);
}

export async function makeTinyBase(steps = 40): Promise<{ dir: string; tasks: Task[] }> {
  const tok = new Tokenizer();
  const tasks = tinyTasks();
  const model = GPT.create({ vocabSize: tok.vocabSize, blockSize: 384, dModel: 32, nLayer: 1, nHead: 2, mlpRatio: 2 }, 0);
  const optimizer = new AdamW({ learningRate: 1e-2 });
  const examples = tasks.map((t) => ({ taskId: t.id, repairs: 0, promptIds: buildPrompt(tok, t, []), completionIds: completionIds(tok, t.reference) }));
  const batch = collate(examples, tok.pad, 384);
  const [ids, targets, mask] = [tf.tensor2d(batch.ids, undefined, "int32"), tf.tensor2d(batch.targets, undefined, "int32"), tf.tensor2d(batch.lossMask)];
  for (let i = 0; i < steps; i++) optimizerStep(model, optimizer, () => sftLoss(model, ids, targets, mask), { clipNorm: 1 });
  tf.dispose([ids, targets, mask]);
  const dir = tempDir("murphy-tiny-base-");
  await savePolicy(dir, model, tok, { meta: { purpose: "test" } });
  optimizer.dispose();
  model.dispose();
  return { dir, tasks };
}
