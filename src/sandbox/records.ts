/**
 * Decoding what the harness wrote into its result buffer (format in harness.ts) into one record
 * per completed test. Pure string parsing, on the host.
 */
import type { RecordKind } from "./harness";

/** One test's record as the harness wrote it (kinds in harness.ts / classify.ts). */
export interface HarnessRecord {
  kind: RecordKind;
  /** The program printed past the output limit during this test. */
  printedTooMuch: boolean;
  text1: string;
  text2: string;
}

/** Why a run ended early. */
export type StopReason = "timeout" | "memory_limit" | "crashed";

/** What running one program produced, as far as it got. */
export interface ProgramRun {
  /** Records of the tests that completed, in order. */
  records: HarnessRecord[];
  /** Console output kept (capped). */
  output: string;
  /** Set when the run did not finish normally; tests without a record were not run. */
  stopped?: StopReason;
  /** For `crashed`: what went wrong, for the error message. */
  detail?: string;
  /**
   * For a program that did not compile: V8's error for the program compiled alone, with its line
   * and column ("Unexpected end of input (line 1, column 9)"), which never names the harness's
   * wrapper (worker.ts ownSyntaxError). Replaces the harness's message when present.
   */
  syntaxError?: string;
}

const KINDS = new Set<string>(["R", "L", "E", "S"]);

/**
 * Parses `completed` records, each four `<length>:<chars>` fields: kind, printed-too-much flag,
 * text1, text2.
 * @throws on malformed text (a bug, never a program's doing: programs cannot write the buffer)
 */
export function decodeRecords(text: string, completed: number): HarnessRecord[] {
  const records: HarnessRecord[] = [];
  let position = 0;
  const field = (): string => {
    const colon = text.indexOf(":", position);
    const length = colon < 0 ? NaN : Number(text.slice(position, colon));
    if (!Number.isInteger(length) || length < 0 || colon + 1 + length > text.length) {
      throw new Error(`sandbox: corrupt result record at char ${position}`);
    }
    position = colon + 1 + length;
    return text.slice(colon + 1, position);
  };
  for (let i = 0; i < completed; i++) {
    const kind = field();
    if (!KINDS.has(kind)) throw new Error(`sandbox: unknown record kind ${JSON.stringify(kind)}`);
    const printedTooMuch = field() === "1";
    const text1 = field();
    const text2 = field();
    records.push({ kind: kind as RecordKind, printedTooMuch, text1, text2 });
  }
  return records;
}
