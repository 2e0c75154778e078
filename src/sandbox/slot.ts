/**
 * A sandbox slot: one V8 isolate (own heap, memory limit), one context in it, locked down once by
 * the harness, and the shared result buffer the harness writes into. The pool reuses a slot for
 * many programs and throws it away after anything abnormal (see `SlotRun.stopped`).
 */
import ivm from "isolated-vm";
import {
  H_COMPLETED,
  H_OUTPUT_CHARS,
  H_RESULT_CHARS,
  H_STATE,
  HARNESS_SOURCE,
  HEADER_WORDS,
  STATE_FINISHED,
  TEXT_OFFSET_BYTES,
  type HarnessLimits,
  type RecordKind,
} from "./harness";

/** One test's record as the harness wrote it (see harness.ts for the kinds). */
export interface HarnessRecord {
  kind: RecordKind;
  /** The program printed past the output limit during this test. */
  printedTooMuch: boolean;
  text1: string;
  text2: string;
}

/** Why a run ended early; every reason makes the slot unusable. */
export type StopReason = "timeout" | "memory_limit" | "crashed";

/** What one call into the slot produced. */
export interface SlotRun {
  /** Records of the tests that completed, in order. */
  records: HarnessRecord[];
  /** Console output kept (capped). */
  output: string;
  /** Set when the call did not finish normally; tests without a record were not run. */
  stopped?: StopReason;
  /** For `crashed`: what isolated-vm reported. */
  detail?: string;
}

/** Extra wall time, beyond the program's own limit, before the host disposes a stuck isolate. */
export const GUARD_GRACE_MS = 1000;

export class SandboxSlot {
  private readonly header: Int32Array;
  private usable = true;

  private constructor(
    private readonly isolate: ivm.Isolate,
    private readonly context: ivm.Context,
    private readonly entry: ivm.Reference<(code: string, inputs: unknown[][]) => void>,
    private readonly buffer: SharedArrayBuffer,
    private readonly limits: HarnessLimits,
  ) {
    this.header = new Int32Array(buffer, 0, HEADER_WORDS);
  }

  /** Creates an isolate and a locked-down context (a few ms: the lock-down walks the realm). */
  static async create(limits: HarnessLimits, memoryMb: number): Promise<SandboxSlot> {
    const isolate = new ivm.Isolate({
      memoryLimit: memoryMb,
      onCatastrophicError: (message) => {
        // isolated-vm asks embedders to stop the process here: V8 lost control of an isolate.
        process.stderr.write(`sandbox: catastrophic isolate error: ${message}\n`);
        process.abort();
      },
    });
    try {
      const bytes = TEXT_OFFSET_BYTES + 2 * (limits.resultCapacity + limits.maxOutputChars);
      const buffer = new SharedArrayBuffer(bytes);
      const context = await isolate.createContext();
      const entry = (await context.evalClosure(
        HARNESS_SOURCE,
        [new ivm.ExternalCopy(buffer).copyInto(), new ivm.ExternalCopy(limits).copyInto()],
        { result: { reference: true }, timeout: 10_000 },
      )) as ivm.Reference<(code: string, inputs: unknown[][]) => void>;
      return new SandboxSlot(isolate, context, entry, buffer, limits);
    } catch (error) {
      isolate.dispose();
      throw new Error(`sandbox: could not set up an isolate: ${(error as Error).message}`);
    }
  }

  /** False once the slot was disposed or a run stopped abnormally. */
  get isUsable(): boolean {
    return this.usable && !this.isolate.isDisposed;
  }

  /** Bytes of V8 heap in use (garbage included), for the pool's recycling check. */
  usedHeapBytes(): number {
    return this.isolate.getHeapStatisticsSync().used_heap_size;
  }

  /**
   * Runs one program on all inputs in ONE call into the isolate, bounded by `timeoutMs` of wall
   * time (isolated-vm interrupts the isolate) and, should that fail, by a host timer that
   * disposes the isolate `GUARD_GRACE_MS` later.
   */
  async run(code: string, inputs: unknown[][], timeoutMs: number): Promise<SlotRun> {
    if (!this.isUsable) throw new Error("sandbox: run() on a disposed slot");
    this.header.fill(0);
    let guardFired = false;
    let guard: NodeJS.Timeout | undefined;
    const guarded = new Promise<void>((resolve) => {
      guard = setTimeout(() => {
        guardFired = true;
        this.dispose();
        resolve();
      }, timeoutMs + GUARD_GRACE_MS);
    });
    let stopped: StopReason | undefined;
    let detail: string | undefined;
    try {
      await Promise.race([
        this.entry.apply(undefined, [code, inputs], { arguments: { copy: true }, timeout: timeoutMs }),
        guarded,
      ]);
      if (guardFired) stopped = "timeout";
    } catch (error) {
      const message = String((error as Error | undefined)?.message ?? error);
      if (guardFired || message.startsWith("Script execution timed out")) stopped = "timeout";
      else if (message.includes("memory limit")) stopped = "memory_limit";
      else if (this.header[H_STATE] !== STATE_FINISHED) {
        stopped = "crashed";
        detail = message;
      }
      // Otherwise the harness finished and isolated-vm reported something the program left
      // behind (an unhandled promise rejection): the results stand.
    } finally {
      clearTimeout(guard);
    }
    if (stopped !== undefined) this.dispose();
    return { records: this.readRecords(), output: this.readOutput(), stopped, detail };
  }

  /** Frees the isolate at once (a running call is terminated). Safe to call twice. */
  dispose(): void {
    this.usable = false;
    if (!this.isolate.isDisposed) {
      this.entry.release();
      this.context.release();
      this.isolate.dispose();
    }
  }

  private readText(start: number, length: number): string {
    const units = new Uint16Array(this.buffer, TEXT_OFFSET_BYTES + 2 * start, length);
    let result = "";
    // Chunks keep String.fromCharCode's argument list short.
    for (let i = 0; i < length; i += 8192) {
      result += String.fromCharCode.apply(null, units.subarray(i, Math.min(length, i + 8192)) as unknown as number[]);
    }
    return result;
  }

  private readRecords(): HarnessRecord[] {
    const completed = this.header[H_COMPLETED];
    const text = this.readText(0, this.header[H_RESULT_CHARS]);
    const records: HarnessRecord[] = [];
    let position = 0;
    const field = (): string => {
      const colon = text.indexOf(":", position);
      const length = Number(text.slice(position, colon));
      if (colon < 0 || !Number.isInteger(length) || colon + 1 + length > text.length) {
        throw new Error(`sandbox: corrupt result record at char ${position}`);
      }
      position = colon + 1 + length;
      return text.slice(colon + 1, position);
    };
    for (let i = 0; i < completed; i++) {
      const kind = field() as RecordKind;
      const printedTooMuch = field() === "1";
      const text1 = field();
      const text2 = field();
      records.push({ kind, printedTooMuch, text1, text2 });
    }
    return records;
  }

  private readOutput(): string {
    const chars = Math.min(this.header[H_OUTPUT_CHARS], this.limits.maxOutputChars);
    return this.readText(this.limits.resultCapacity, chars);
  }
}
