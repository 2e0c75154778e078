/**
 * From a pool entry to a finished Task: tests are chosen (testcases.ts) and every expected value
 * is computed by running the reference code itself on the host. The host implementations of the
 * operations (`Op.run`) must agree with the code on every probe and every test, or generation
 * stops: that check is what keeps the three views of each operation (words, code, run) honest.
 */
import { Rng } from "../util/rng";
import {
  compileReference,
  copyInput,
  isTestableValue,
  programFingerprint,
  render,
  renderResult,
} from "./behaviour";
import { runSpec } from "./ops";
import type { PoolEntry } from "./pool";
import { chooseTestInputs } from "./testcases";
import type { Task, TestCase, Value } from "../tasks/types";

/** The Rng that chooses a task's tests: it depends only on the seed and the task's reference. */
export function testRng(seed: number, reference: string): Rng {
  return new Rng(`murphy-tasks/${seed}/tests/${reference}`);
}

export function buildTask(entry: PoolEntry, id: string, seed: number): Task {
  const { spec, composed } = entry;
  const program = compileReference(composed.reference);
  const codeFingerprint = programFingerprint(spec.signature, program);
  if (codeFingerprint !== entry.fingerprint) {
    throw new Error(`task ${id}: the code ${composed.reference} and its operations behave differently on the probe inputs`);
  }
  const inputs = chooseTestInputs(spec, testRng(seed, composed.reference));
  const testCase = (input: Value[]): TestCase => {
    const expected = program(...copyInput(input));
    if (!isTestableValue(expected)) {
      throw new Error(`task ${id}: ${composed.reference} returns ${render(expected)} on ${JSON.stringify(input)}, not a short JSON value`);
    }
    const byOperations = renderResult(() => runSpec(spec, input));
    if (render(expected) !== byOperations) {
      throw new Error(`task ${id}: ${composed.reference} returns ${render(expected)} on ${JSON.stringify(input)}, its operations ${byOperations}`);
    }
    return { input, expected };
  };
  return {
    id,
    family: composed.family,
    difficulty: composed.difficulty,
    description: composed.description,
    signature: spec.signature,
    visible: inputs.visible.map(testCase),
    hidden: inputs.hidden.map(testCase),
    reference: composed.reference,
  };
}
