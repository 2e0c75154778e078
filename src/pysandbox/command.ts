/**
 * The command line that starts one sandboxed python3: who it runs as, what it sees, its limits.
 *
 *   [setpriv --reuid U --regid U --clear-groups --no-new-privs]   only when the kit runs as root
 *   bwrap --unshare-all --die-with-parent --new-session            own user, pid, net, ipc, uts ns
 *         --ro-bind /usr /usr (+ /bin /lib /lib64 as on the host)  read-only system, nothing else
 *         --proc /proc --dev /dev --size N --tmpfs /tmp            private writable /tmp, the only one
 *         --remount-ro /dev --remount-ro /
 *         --clearenv --setenv ...
 *   prlimit --cpu --as --nproc --fsize --nofile --core             limits, set inside the sandbox
 *   python3 -S -s -B -P -c <harness>
 *
 * Why this order (measured with a real fork bomb, test/pysandbox-hostile.test.ts):
 * - RLIMIT_NPROC never binds a process with root's user (the kernel exempts it), and bwrap run
 *   by root, even with `--unshare-user --uid`, keeps real uid 0 outside. So a root host first
 *   drops to an unprivileged uid with setpriv; bwrap then creates the namespaces unprivileged.
 * - prlimit runs INSIDE the new user namespace: the kernel (5.14+) counts processes per user
 *   namespace, so the limit counts only this sandbox's processes, not every process the same
 *   uid has elsewhere (other sandboxes, a desktop user's session).
 * - The pid namespace makes every process of the program die with it: when the program exits
 *   or is killed, bwrap's init exits and the kernel kills the rest (threads, forks, daemons).
 * - --die-with-parent: if the host dies, the sandbox dies.
 * - No network: the new network namespace has only its own loopback.
 * The harness source travels as an argument (-c) and the program over a pipe, so the sandbox
 * needs no file from the project, and the project's files are not in it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import type { PySandboxOptions } from "./types";

export type ResolvedOptions = Required<PySandboxOptions>;

export const DEFAULT_OPTIONS: Omit<ResolvedOptions, "cpuSeconds" | "concurrency"> = {
  timeoutMs: 10_000,
  memoryMb: 512,
  maxProcesses: 10,
  maxFileMb: 8,
  tmpMb: 64,
  maxOutputChars: 100_000,
  uid: 65534,
  python: "/usr/bin/python3",
};

export function resolveOptions(options: PySandboxOptions = {}): ResolvedOptions {
  const timeoutMs = options.timeoutMs ?? DEFAULT_OPTIONS.timeoutMs;
  const resolved: ResolvedOptions = {
    ...DEFAULT_OPTIONS,
    concurrency: Math.max(1, os.availableParallelism()),
    cpuSeconds: Math.ceil(timeoutMs / 1000) + 1,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  const minimum: Array<[keyof ResolvedOptions, number]> = [
    ["concurrency", 1],
    ["timeoutMs", 1],
    ["cpuSeconds", 1],
    ["memoryMb", 64],
    ["maxProcesses", 4],
    ["maxFileMb", 0],
    ["tmpMb", 1],
    ["maxOutputChars", 1],
    ["uid", 1],
  ];
  for (const [field, min] of minimum) {
    const value = resolved[field];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw new RangeError(`PySandboxOptions.${field} must be an integer >= ${min} (got ${String(value)})`);
    }
  }
  if (!resolved.python.startsWith("/usr/")) {
    throw new RangeError(`PySandboxOptions.python must be an interpreter under /usr, the only system folder in the sandbox (got ${resolved.python})`);
  }
  return resolved;
}

/** The host's top-level folders besides /usr that programs need: symlinks on merged-/usr systems. */
function systemFolders(): string[] {
  const args: string[] = ["--ro-bind", "/usr", "/usr"];
  for (const name of ["bin", "sbin", "lib", "lib32", "lib64", "libx32"]) {
    const where = `/${name}`;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(where);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push("--symlink", fs.readlinkSync(where), where);
    else if (stat.isDirectory()) args.push("--ro-bind", where, where);
  }
  // The dynamic linker's cache and Debian's alternatives (numpy finds its BLAS through them).
  args.push("--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--ro-bind-try", "/etc/alternatives", "/etc/alternatives");
  return args;
}

let folders: string[] | undefined;

/** `[command, ...args]` that runs `python -c harness` in a fresh sandbox with `options`' limits. */
export function sandboxCommand(harness: string, options: ResolvedOptions): string[] {
  folders ??= systemFolders();
  const asRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const drop = asRoot
    ? ["setpriv", `--reuid=${options.uid}`, `--regid=${options.uid}`, "--clear-groups", "--no-new-privs", "--"]
    : [];
  const MB = 1024 * 1024;
  return [
    ...drop,
    "bwrap",
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    ...folders,
    "--proc", "/proc",
    "--dev", "/dev",
    "--size", String(options.tmpMb * MB), "--tmpfs", "/tmp",
    // bwrap builds / and /dev as unbounded tmpfs: read-only, so /tmp is the one writable place.
    "--remount-ro", "/dev",
    "--remount-ro", "/",
    "--chdir", "/tmp",
    "--hostname", "sandbox",
    "--clearenv",
    "--setenv", "PATH", "/usr/bin:/bin",
    "--setenv", "HOME", "/tmp",
    "--setenv", "LANG", "C.UTF-8",
    "--setenv", "PYTHONIOENCODING", "utf-8",
    // Fixed string hashing: set iteration order, hence output, is the same on every run.
    "--setenv", "PYTHONHASHSEED", "0",
    // One thread per numeric library: threads count as processes against maxProcesses.
    "--setenv", "OPENBLAS_NUM_THREADS", "1",
    "--setenv", "OMP_NUM_THREADS", "1",
    "--setenv", "MKL_NUM_THREADS", "1",
    "--",
    "/usr/bin/prlimit",
    `--cpu=${options.cpuSeconds}:${options.cpuSeconds + 1}`,
    `--as=${options.memoryMb * MB}`,
    `--nproc=${options.maxProcesses}`,
    `--fsize=${options.maxFileMb * MB}`,
    "--nofile=64",
    "--core=0",
    "--",
    options.python,
    "-S", // no site module: nothing from the host's .pth files runs (calls.ts adds the package folders)
    "-s",
    "-B",
    "-P",
    "-c",
    harness,
  ];
}
