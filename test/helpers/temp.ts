/**
 * Temporary folders for tests, removed when the test file ends (passed or failed): `tempDir("murphy-x-")`
 * instead of fs.mkdtempSync, so no run leaves folders behind in the system's temp directory.
 */
import { after } from "node:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
