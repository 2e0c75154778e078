/**
 * A program that "solves" a task by looking up its visible examples: it passes every visible test
 * and (since hidden inputs differ from visible ones) fails the hidden tests. The model could write
 * it from the prompt alone, so it is the test case for "what the model sees never depends on a
 * hidden test".
 */
import type { Task } from "../../src/tasks/types";

export function hardCodedVisible(task: Task): string {
  const params = task.signature.slice(1, -1);
  const table = Object.fromEntries(task.visible.map((t) => [JSON.stringify(t.input), t.expected]));
  return `${task.signature} => (${JSON.stringify(table)})[JSON.stringify([${params}])]`;
}
