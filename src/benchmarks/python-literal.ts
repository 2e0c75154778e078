/**
 * Recognising Python literals in text, without running Python: numbers, strings, True / False /
 * None, and lists, tuples, dicts and sets of them. Used to pull examples such as
 * `f([1, 2], 3) ==> [2, 4]` out of benchmark docstrings: only an example whose arguments and
 * result are literals becomes a test. The text itself is what Python later evaluates; this only
 * finds where a literal ends (or that there is none).
 */

const NUMBER = /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?)/;
const KEYWORD = /^(?:True|False|None)(?![\w])/;
const STRING_PREFIX = /^(?:[rRbBuU]|[rR][bB]|[bB][rR])?(?='|")/;

function skipSpaces(text: string, i: number): number {
  while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n")) i++;
  return i;
}

/** End of the string literal starting at `i` (after its prefix), or -1. */
function stringEnd(text: string, i: number): number {
  const prefix = STRING_PREFIX.exec(text.slice(i));
  if (!prefix) return -1;
  i += prefix[0].length;
  const quote = text.startsWith(text[i].repeat(3), i) ? text[i].repeat(3) : text[i];
  i += quote.length;
  while (i < text.length) {
    // A backslash keeps the next character from closing the string, in raw strings too.
    if (text[i] === "\\") {
      i += 2;
      continue;
    }
    if (text.startsWith(quote, i)) return i + quote.length;
    if (quote.length === 1 && text[i] === "\n") return -1;
    i++;
  }
  return -1;
}

/** End of a comma-separated run of items (`key: value` pairs when `pairs`) closed by `close`, or -1. */
function itemsEnd(text: string, i: number, close: string, pairs: boolean): { end: number; items: number; trailingComma: boolean } | null {
  let items = 0;
  let trailingComma = false;
  i = skipSpaces(text, i);
  while (i < text.length && text[i] !== close) {
    let end = valueEnd(text, i);
    if (end < 0) return null;
    if (pairs) {
      end = skipSpaces(text, end);
      if (text[end] !== ":") return null;
      end = valueEnd(text, end + 1);
      if (end < 0) return null;
    }
    items++;
    i = skipSpaces(text, end);
    trailingComma = false;
    if (text[i] === ",") {
      trailingComma = true;
      i = skipSpaces(text, i + 1);
    } else if (text[i] !== close) {
      return null;
    }
  }
  return i < text.length ? { end: i + 1, items, trailingComma } : null;
}

/** End of the literal that starts at `start` (leading spaces skipped), or -1 if none does. */
export function valueEnd(text: string, start: number): number {
  let i = skipSpaces(text, start);
  if (i >= text.length) return -1;
  const rest = text.slice(i);
  const keyword = KEYWORD.exec(rest);
  if (keyword) return i + keyword[0].length;
  if (rest[0] === "-" || rest[0] === "+") {
    const number = NUMBER.exec(rest);
    return number && number[0].length > 1 ? i + number[0].length : -1;
  }
  if (/^[\d.]/.test(rest)) {
    const number = NUMBER.exec(rest);
    if (!number || number[0] === ".") return -1;
    const end = i + number[0].length;
    return /[\w]/.test(text[end] ?? "") ? -1 : end;
  }
  if (STRING_PREFIX.test(rest)) {
    let end = stringEnd(text, i);
    // Adjacent string literals concatenate: "ab" "cd".
    while (end >= 0) {
      const next = skipSpaces(text, end);
      if (next >= text.length || !STRING_PREFIX.test(text.slice(next))) break;
      const more = stringEnd(text, next);
      if (more < 0) break;
      end = more;
    }
    return end;
  }
  if (rest[0] === "[") return itemsEnd(text, i + 1, "]", false)?.end ?? -1;
  if (rest[0] === "(") return itemsEnd(text, i + 1, ")", false)?.end ?? -1;
  if (rest[0] === "{") {
    return itemsEnd(text, i + 1, "}", true)?.end ?? itemsEnd(text, i + 1, "}", false)?.end ?? -1;
  }
  return -1;
}

/** True when the whole of `text` (surrounding spaces aside) is one literal. */
export function isLiteral(text: string): boolean {
  const end = valueEnd(text, 0);
  return end >= 0 && text.slice(end).trim() === "";
}

/** True when `inside` (the text between a call's parentheses) is zero or more literal arguments. */
export function isLiteralArguments(inside: string): boolean {
  if (inside.trim() === "") return true;
  const items = itemsEnd(inside + ")", 0, ")", false);
  return items !== null && items.end === inside.length + 1;
}

/**
 * The index just past the parenthesis that closes the one at `open`, skipping strings and nested
 * brackets; -1 when it does not close on this text.
 */
export function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === "(" || c === "[" || c === "{") {
      depth++;
    } else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return c === ")" ? i + 1 : -1;
    }
  }
  return -1;
}

/** Index of the first `==` of `text` outside strings and brackets, or -1. */
export function topLevelEquals(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if ("([{".includes(c)) {
      depth++;
    } else if (")]}".includes(c)) {
      depth--;
    } else if (depth === 0 && text.startsWith("==", i)) {
      return i;
    }
  }
  return -1;
}
