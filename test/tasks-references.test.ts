/**
 * Every committed reference solution passes all of its own tests when run the way the model's
 * programs are run: through the project's sandbox (isolated-vm, frozen globals). This catches
 * anything the host computed differently from the sandbox (built-ins, -0, rendering).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";
import type { Split, Task } from "../src/tasks/types";

const DATA_DIR = path.join(__dirname, "..", "data", "tasks");
const SPLITS: Split[] = ["train", "validation", "test"];

test("every committed reference passes all its tests in the sandbox", async () => {
  const tasks: Task[] = SPLITS.flatMap((split) => loadSplit(DATA_DIR, split));
  const pool = new SandboxPool();
  const failures: string[] = [];
  try {
    // A few runs in flight keep both isolates busy without queueing thousands of promises.
    const inFlight = 8;
    for (let start = 0; start < tasks.length; start += inFlight) {
      const batch = tasks.slice(start, start + inFlight);
      const results = await Promise.all(batch.map((task) => pool.run(task.reference, [...task.visible, ...task.hidden])));
      results.forEach((result, i) => {
        if (result.outcome === "passed") return;
        const task = batch[i];
        const bad = result.tests.findIndex((t) => t.outcome !== "passed");
        const detail = result.tests[bad];
        failures.push(
          `${task.id} ${task.reference}: ${result.outcome} on test ${bad} ` +
            `(input ${JSON.stringify(detail.test.input)}, expected ${JSON.stringify(detail.test.expected)}, ` +
            `got ${detail.got ?? ""}${detail.error ? ` ${detail.error.type}: ${detail.error.message}` : ""})`,
        );
      });
    }
  } finally {
    await pool.close();
  }
  assert.equal(tasks.length > 0, true);
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${tasks.length} references fail`);
});
