/**
 * Which code produced a result: the git commit, whether src/ or configs/ had uncommitted changes,
 * and the git tree hash of src/ at HEAD. The tree hash changes only when the code changes (not
 * when results or notebooks are committed), so it says whether two cells ran the same code.
 * Read-only git commands; outside a checkout everything is "unknown".
 */
import { execFileSync } from "node:child_process";
import { ROOT } from "../paths";

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  } catch {
    return undefined;
  }
}

export interface Provenance {
  gitCommit: string;
  /** Uncommitted changes to tracked files under src/ or configs/. */
  gitDirty: boolean;
  /** Tree hash of src/ at HEAD. */
  sourceTree: string;
}

export function provenance(): Provenance {
  return {
    gitCommit: git(["rev-parse", "HEAD"]) ?? "unknown",
    gitDirty: (git(["status", "--porcelain", "--untracked-files=no", "--", "src", "configs"]) ?? "") !== "",
    sourceTree: git(["rev-parse", "HEAD:src"]) ?? "unknown",
  };
}
