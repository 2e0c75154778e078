/**
 * Examples stated in a HumanEval prompt, turned into visible tests.
 *
 * Only 76 of the 164 prompts carry doctest examples (`>>> f(1)` then the result on the next
 * line). Most of the others state examples in prose, in one of a few forms:
 *   f(3, 4, 5) == 6.00        f([1, 2]) ➞ False        f('Hi') returns 'Hi'
 *   f(5) => [2,3]             f(1, 4) => true          f("a") # => 'Yes'
 *   f(15)   # returns "db1111db"                       f(12, 15) = 14
 * and, for functions of one parameter `x`:
 *   For x = [1, 2] the output should be 3        Input: [4,2,3]  (then, on a later line)  Output: [2, 1]
 * An example becomes a test `assert <call> == <result>` when its call's arguments and its result
 * are Python literals (python-literal.ts); a result written `true` / `false` means True / False.
 * Examples whose result is an expression ("-> 19 - 5 - 6 = 8"), whose arguments are not
 * literals (`is_happy(a)`), or that span several lines are skipped. Some upstream examples are
 * simply wrong (they disagree with the canonical solution and with the hidden tests); those are
 * listed in humaneval.ts and left out, and a test proves the canonical solution passes every
 * visible test that remains.
 */
import { closingParen, isLiteral, isLiteralArguments, topLevelEquals, valueEnd } from "./python-literal";

export interface DocExample {
  /** The expression checked, e.g. `f([1, 2], 3)` or `round(f([1, 2]), 2)`. */
  expression: string;
  /** The expected value as Python source, e.g. `[2, 4]`. */
  expected: string;
  /** `doctest`: a `>>>` example; `prose`: any other form. */
  form: "doctest" | "prose";
}

/** Separators between a call and its result in prose examples, longest first. */
const SEPARATOR = /^\s*(?:#\s*)?(?:==>|==|=>|->|➞|=|should return|returns|return|is)\s*/;
/** What may follow a prose example's result: nothing, punctuation, a comment, a parenthesis. */
const AFTER_RESULT = /^\s*(?:$|[.,;#(])/;

function normaliseBooleans(value: string): string {
  return value === "true" ? "True" : value === "false" ? "False" : value;
}

/**
 * True when `expression` calls `entryPoint` and nothing follows the call's closing parenthesis
 * directly (a typo such as `f([1, 0]) [0, 1]`, missing its `==`, is not an example).
 */
function callsCleanly(expression: string, entryPoint: string): boolean {
  const match = new RegExp(`(^|[^\\w.])${entryPoint}\\(`).exec(expression);
  if (!match) return false;
  const close = closingParen(expression, match.index + match[1].length + entryPoint.length);
  return close > 0 && !/^\s*[[(\w]/.test(expression.slice(close));
}

/** The `>>>` examples of a prompt. */
function doctestExamples(lines: string[], entryPoint: string): DocExample[] {
  const examples: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line.startsWith(">>>")) continue;
    let expression = line.slice(3).trim();
    let j = i + 1;
    while (j < lines.length && lines[j].trim().startsWith("...")) expression += " " + lines[j++].trim().slice(3).trim();
    expression = expression.replace(/\s+#.*$/, "");
    const output: string[] = [];
    while (j < lines.length) {
      const next = lines[j].trim();
      if (next === "" || next.startsWith(">>>") || next.includes('"""') || next.includes("'''")) break;
      output.push(next);
      j++;
    }
    if (!callsCleanly(expression, entryPoint)) continue;
    // `>>> f(x) == y` with no output line states the comparison itself (the docstring left out
    // the "True"): the example is f(x) with result y.
    const equals = topLevelEquals(expression);
    if (output.length === 0 && equals >= 0) {
      const [left, right] = [expression.slice(0, equals).trim(), expression.slice(equals + 2).trim()];
      if (isLiteral(right) && callsCleanly(left, entryPoint)) examples.push({ expression: left, expected: right, form: "doctest" });
      continue;
    }
    // A call whose result is None prints nothing in a doctest.
    const expected = output.length === 0 ? "None" : output.length === 1 ? output[0] : null;
    if (expected !== null && isLiteral(expected)) examples.push({ expression, expected, form: "doctest" });
  }
  return examples;
}

/** The prose examples of a prompt: `entryPoint(literal args) <separator> <literal>` on one line. */
function proseExamples(lines: string[], entryPoint: string): DocExample[] {
  const examples: DocExample[] = [];
  const call = new RegExp(`(^|[^\\w.])${entryPoint}\\(`, "g");
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith(">>>") || line.startsWith("def ")) continue;
    for (const match of line.matchAll(call)) {
      const start = (match.index ?? 0) + match[1].length;
      const open = start + entryPoint.length;
      const close = closingParen(line, open);
      if (close < 0 || !isLiteralArguments(line.slice(open + 1, close - 1))) continue;
      const separator = SEPARATOR.exec(line.slice(close));
      if (!separator) continue;
      const expected = resultAt(line, close + separator[0].length);
      if (expected !== null) examples.push({ expression: line.slice(start, close), expected, form: "prose" });
    }
  }
  return examples;
}

/** The parameter names of `def entryPoint(...)` in `prompt` (annotations and defaults dropped). */
export function parameterNames(prompt: string, entryPoint: string): string[] {
  const start = prompt.search(new RegExp(`^def ${entryPoint}\\(`, "m"));
  if (start < 0) return [];
  const open = prompt.indexOf("(", start);
  const close = closingParen(prompt, open);
  if (close < 0) return [];
  const inside = prompt.slice(open + 1, close - 1);
  const names: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of inside + ",") {
    if ("([{".includes(c)) depth++;
    if (")]}".includes(c)) depth--;
    if (c === "," && depth === 0) {
      const name = /^\s*\*{0,2}(\w+)/.exec(current)?.[1];
      if (name) names.push(name);
      current = "";
    } else {
      current += c;
    }
  }
  return names;
}

/** A literal result at `start` of `line`, followed only by punctuation or a comment; or null. */
function resultAt(line: string, start: number): string | null {
  const word = /^\s*(true|false)(?!\w)/.exec(line.slice(start));
  const end = word ? start + word[0].length : valueEnd(line, start);
  if (end < 0 || !AFTER_RESULT.test(line.slice(end))) return null;
  // "returns 16." ends a sentence: the full stop is not part of the number.
  return normaliseBooleans(line.slice(start, end).trim().replace(/^(-?\d+)\.$/, "$1"));
}

/**
 * Examples of a one-parameter function stated as "For x = <arg> ... the output should be <result>"
 * or as an "Input: <arg>" line followed by an "Output: <result>" line.
 */
function singleArgumentExamples(lines: string[], entryPoint: string, parameter: string): DocExample[] {
  const examples: DocExample[] = [];
  let input: string | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    const named = new RegExp(`^For ${parameter} = `).exec(line);
    if (named) {
      const end = valueEnd(line, named[0].length);
      const marker = end < 0 ? -1 : line.indexOf("the output should be", end);
      const result = marker < 0 ? null : resultAt(line, marker + "the output should be".length);
      if (result !== null) examples.push({ expression: `${entryPoint}(${line.slice(named[0].length, end).trim()})`, expected: result, form: "prose" });
      continue;
    }
    const inputLine = /^Input:\s*(.*)$/.exec(line);
    if (inputLine) {
      input = isLiteral(inputLine[1]) ? inputLine[1].trim() : null;
      continue;
    }
    const outputLine = /^Output:\s*/.exec(line);
    if (outputLine && input !== null) {
      const result = resultAt(line, outputLine[0].length);
      if (result !== null) examples.push({ expression: `${entryPoint}(${input})`, expected: result, form: "prose" });
      input = null;
    }
  }
  return examples;
}

/**
 * The examples in `prompt` for the function `entryPoint`, in the order they appear, without
 * duplicates (the same expression twice keeps its first statement).
 */
export function docstringExamples(prompt: string, entryPoint: string): DocExample[] {
  // Examples are read from the entry point's definition on (helpers above it have their own).
  const definition = prompt.search(new RegExp(`^def ${entryPoint}\\(`, "m"));
  const lines = prompt.slice(Math.max(0, definition)).split("\n").slice(1);
  const parameters = parameterNames(prompt, entryPoint);
  const single = parameters.length === 1 ? singleArgumentExamples(lines, entryPoint, parameters[0]) : [];
  const seen = new Set<string>();
  return [...doctestExamples(lines, entryPoint), ...proseExamples(lines, entryPoint), ...single].filter((e) => {
    const key = e.expression.replace(/\s+/g, "");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The visible test for an example: `assert <expression> == <expected>`. */
export function exampleTest(example: DocExample): string {
  return `assert ${example.expression} == ${example.expected}`;
}
