/** Where the kit keeps its data, relative to the project root (independent of the cwd). */
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..");
export const DATA_DIR = path.join(ROOT, "data");
export const TASKS_DIR = path.join(DATA_DIR, "tasks");
export const CHECKPOINTS_DIR = path.join(DATA_DIR, "checkpoints");
export const RESULTS_DIR = path.join(DATA_DIR, "results");
export const BUILD_DIR = path.join(ROOT, "build");
