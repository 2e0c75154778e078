/**
 * One sandboxed python3 process: started with sandboxCommand, with pipes on fds 0-4, bounded
 * capture of what it prints, JSON-line reading of a message channel, and a SIGKILL that takes
 * the whole sandbox down (bwrap --die-with-parent and the pid namespace do the rest).
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { sandboxCommand, type ResolvedOptions } from "./command";

export interface Exit {
  /** Exit code of the sandbox (bwrap passes the program's on, 128 + n for a signal n). */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Text captured up to a bound; `overflow` says more was printed. */
export class BoundedText {
  text = "";
  overflow = false;
  constructor(private readonly limit: number) {}
  add(chunk: string): void {
    if (this.overflow) return;
    if (this.text.length + chunk.length > this.limit) {
      this.text += chunk.slice(0, this.limit - this.text.length);
      this.overflow = true;
    } else {
      this.text += chunk;
    }
  }
}

export class Sandboxed {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  private killed = false;

  constructor(harness: string, options: ResolvedOptions, stdinPipe: boolean) {
    const [command, ...args] = sandboxCommand(harness, options);
    this.child = spawn(command, args, { stdio: [stdinPipe ? "pipe" : "ignore", "pipe", "pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve, reject) => {
      this.child.once("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") {
          reject(new Error(`Python sandbox: "${command}" was not found; install bubblewrap (apt-get install bubblewrap, or run scripts/setup.sh) and util-linux`));
        } else {
          reject(error);
        }
      });
      this.child.once("close", (code, signal) => resolve({ code, signal }));
    });
    // A process that dies leaves its pipes broken: writes to them must not crash the host.
    for (const stream of this.child.stdio) stream?.on("error", () => {});
  }

  get stdin(): Writable {
    return this.child.stdio[0] as Writable;
  }
  /** fd 3 inside: what the harness reads (the program, then requests). */
  get input(): Writable {
    return this.child.stdio[3] as Writable;
  }
  /** fd 4 inside: what the harness writes (messages, replies). */
  get messages(): Readable {
    return this.child.stdio[4] as Readable;
  }

  /** Collects stdout and stderr (interleaved, as the program printed them) into `into`. */
  capture(into: BoundedText, onOverflow: () => void): void {
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        const before = into.overflow;
        into.add(chunk);
        if (into.overflow && !before) onOverflow();
      });
    }
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.child.kill("SIGKILL");
  }
}

/**
 * Calls `onMessage` with each JSON line of `stream`; lines longer than `maxLineChars` or not JSON
 * objects are reported as null (the caller decides what a garbled channel means).
 */
export function readJsonLines(stream: Readable, maxLineChars: number, onMessage: (message: Record<string, unknown> | null) => void): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      let message: unknown = null;
      try {
        message = JSON.parse(line);
      } catch {
        message = null;
      }
      onMessage(typeof message === "object" && message !== null && !Array.isArray(message) ? (message as Record<string, unknown>) : null);
    }
    if (pending.length > maxLineChars) {
      pending = "";
      onMessage(null);
    }
  });
}

/** The signal number in a sandbox exit code (bwrap exits with 128 + n when its child got signal n). */
export function exitSignal(exit: Exit): number | null {
  if (exit.signal) return 9;
  return exit.code !== null && exit.code > 128 && exit.code < 160 ? exit.code - 128 : null;
}

const SIGNAL_NAMES: Record<number, string> = { 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 24: "SIGXCPU", 25: "SIGXFSZ" };

export function signalName(signal: number): string {
  return SIGNAL_NAMES[signal] ?? `signal ${signal}`;
}
