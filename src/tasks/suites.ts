/**
 * The kit's task suites, by name. "default" is the main suite (data/tasks/, every committed
 * result so far); "feedback" holds the tasks whose description withholds a part that only
 * feedback reveals (data/tasks/feedback/, src/tasks/feedback/). `murphy tasks|eval --suite`, the
 * training config field `suite` and an experiment spec's `suite` all name one of these.
 */
import * as path from "node:path";
import { TASKS_DIR } from "../paths";

export const SUITE_NAMES = ["default", "feedback"] as const;
export type SuiteName = (typeof SUITE_NAMES)[number];
export const DEFAULT_SUITE: SuiteName = "default";

const DIRS: Record<SuiteName, string> = { default: TASKS_DIR, feedback: path.join(TASKS_DIR, "feedback") };

export function isSuiteName(name: string): name is SuiteName {
  return (SUITE_NAMES as readonly string[]).includes(name);
}

/** The folder of a suite (absolute); throws on an unknown name. */
export function suiteDir(name: string): string {
  if (!isSuiteName(name)) throw new Error(`unknown task suite "${name}" (expected one of ${SUITE_NAMES.join(", ")})`);
  return DIRS[name];
}
