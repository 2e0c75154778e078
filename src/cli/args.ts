/**
 * Small helpers for the CLI's flag parsing (node:util parseArgs underneath): typed numbers with
 * clear errors, and the JSON-last-line convention (`--json`: the last stdout line is one object).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

export type Options = NonNullable<ParseArgsConfig["options"]>;

export function parse<const T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    throw new UsageError(`murphy ${command}: ${(e as Error).message}`);
  }
}

/** An error in how the command was called: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}

export function intFlag(command: string, name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`murphy ${command}: --${name} must be an integer >= ${min} (got "${value}")`);
  return n;
}

export function numberFlag(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`murphy ${command}: --${name} must be a number (got "${value}")`);
  return n;
}

/** Print the machine-readable result as the last line of stdout. */
export function printJsonLast(record: unknown): void {
  process.stdout.write(JSON.stringify(record) + "\n");
}
