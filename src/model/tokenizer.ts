/**
 * A character-level tokenizer for the kit's task suite: JavaScript arrow functions, short English
 * descriptions, JSON-like values and feedback text are all plain ASCII, so one token per
 * character keeps the vocabulary tiny (102 ids) and every program the model writes is exactly
 * the characters it sampled.
 *
 * Vocabulary (ids in order):
 *   0      `<pad>`       padding, never sampled on purpose
 *   1..5   `<task>` `<attempt>` `<feedback>` `<answer>` `<end>`  prompt sections and the stop token
 *   6..100 printable ASCII 32 (space) .. 126 (`~`)
 *   101    "\n"
 *
 * Any other character (tab, carriage return, non-ASCII, an emoji) encodes to ONE `?` token, so
 * the round trip `decode(encode(s)) === s` holds for every string made of printable ASCII and
 * newlines. Special tokens are never produced by `encode`: the text "<end>" is five characters,
 * so a description, a program or a feedback message cannot inject a section marker. `decode`
 * renders special ids as their names.
 */

/** Names of the special tokens, in id order (pad is id 0). */
export const SPECIAL_TOKENS = ["<pad>", "<task>", "<attempt>", "<feedback>", "<answer>", "<end>"] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

/** The characters of the default vocabulary, in id order after the specials. */
export function defaultCharacters(): string[] {
  const chars: string[] = [];
  for (let code = 32; code <= 126; code++) chars.push(String.fromCharCode(code));
  chars.push("\n");
  return chars;
}

/** The character every out-of-vocabulary character encodes to. */
export const DEFAULT_REPLACEMENT = "?";

/** The plain-data form stored in a checkpoint's `tokenizer.json`. */
export interface TokenizerJSON {
  type: "char";
  version: 1;
  specials: string[];
  chars: string[];
  replacement: string;
}

export class Tokenizer {
  /** Number of ids: specials + characters. */
  readonly vocabSize: number;
  readonly pad = 0;
  readonly task = 1;
  readonly attempt = 2;
  readonly feedback = 3;
  readonly answer = 4;
  readonly end = 5;
  /** The characters after the specials, in id order. */
  readonly chars: readonly string[];
  /** The character unknown characters become. */
  readonly replacement: string;
  /** Id of the replacement character. */
  readonly replacementId: number;

  // ASCII fast path: code point -> id (or -1); other code points go through the map.
  private readonly asciiIds = new Int32Array(128).fill(-1);
  private readonly otherIds = new Map<number, number>();

  /**
   * @param chars the characters after the specials, one code point each, no duplicates
   *   (default: printable ASCII 32..126 then "\n").
   * @param replacement one of `chars`, what unknown characters encode to (default "?").
   */
  constructor(chars: readonly string[] = defaultCharacters(), replacement: string = DEFAULT_REPLACEMENT) {
    const seen = new Set<number>();
    chars.forEach((ch, i) => {
      const code = ch.codePointAt(0);
      if (code === undefined || String.fromCodePoint(code) !== ch) {
        throw new Error(`tokenizer chars[${i}] must be exactly one character (got ${JSON.stringify(ch)})`);
      }
      if (seen.has(code)) throw new Error(`tokenizer chars[${i}] ${JSON.stringify(ch)} appears twice`);
      seen.add(code);
      const id = SPECIAL_TOKENS.length + i;
      if (code < 128) this.asciiIds[code] = id;
      else this.otherIds.set(code, id);
    });
    const replacementCode = replacement.codePointAt(0);
    if (replacementCode === undefined || !seen.has(replacementCode) || String.fromCodePoint(replacementCode) !== replacement) {
      throw new Error(`tokenizer replacement must be one of its characters (got ${JSON.stringify(replacement)})`);
    }
    this.chars = chars.slice();
    this.replacement = replacement;
    this.replacementId = this.idOfCode(replacementCode);
    this.vocabSize = SPECIAL_TOKENS.length + chars.length;
  }

  /** The id of a code point, or -1 when it is not in the vocabulary. */
  private idOfCode(code: number): number {
    return code < 128 ? this.asciiIds[code] : (this.otherIds.get(code) ?? -1);
  }

  /** Token ids of `text`, one per character (code point); unknown characters become `replacementId`. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const ch of text) {
      const id = this.idOfCode(ch.codePointAt(0)!);
      ids.push(id >= 0 ? id : this.replacementId);
    }
    return ids;
  }

  /** The text of `ids`; special ids are rendered as their names (`<end>`). */
  decode(ids: readonly number[]): string {
    let text = "";
    for (let i = 0; i < ids.length; i++) text += this.tokenText(ids[i], i);
    return text;
  }

  /** The text of one id: its character, or a special token's name. */
  tokenText(id: number, position = 0): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`token id ${id} at position ${position} is out of range: ids are integers in [0, ${this.vocabSize})`);
    }
    return id < SPECIAL_TOKENS.length ? SPECIAL_TOKENS[id] : this.chars[id - SPECIAL_TOKENS.length];
  }

  /** True for the ids of `<pad>`, `<task>`, `<attempt>`, `<feedback>`, `<answer>` and `<end>`. */
  isSpecial(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < SPECIAL_TOKENS.length;
  }

  /** The plain data that `fromJSON` reads back. */
  toJSON(): TokenizerJSON {
    return { type: "char", version: 1, specials: [...SPECIAL_TOKENS], chars: this.chars.slice(), replacement: this.replacement };
  }

  /**
   * Rebuild a tokenizer from `toJSON()` output.
   * @param where names the source in error messages, e.g. "checkpoints/step-100/tokenizer.json".
   */
  static fromJSON(obj: unknown, where: string): Tokenizer {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      throw new Error(`${where}: a tokenizer must be a JSON object (got ${describe(obj)})`);
    }
    const o = obj as Record<string, unknown>;
    if (o.type !== "char") throw new Error(`${where}: field "type" must be "char" (got ${describe(o.type)})`);
    if (o.version !== 1) throw new Error(`${where}: field "version" must be 1 (got ${describe(o.version)})`);
    const specials = o.specials;
    if (
      !Array.isArray(specials) ||
      specials.length !== SPECIAL_TOKENS.length ||
      specials.some((s, i) => s !== SPECIAL_TOKENS[i])
    ) {
      throw new Error(`${where}: field "specials" must be ${JSON.stringify(SPECIAL_TOKENS)} (got ${describe(specials)})`);
    }
    const chars = o.chars;
    if (!Array.isArray(chars) || chars.length === 0) {
      throw new Error(`${where}: field "chars" must be a non-empty array of one-character strings (got ${describe(chars)})`);
    }
    chars.forEach((ch, i) => {
      if (typeof ch !== "string") throw new Error(`${where}: field "chars[${i}]" must be a string (got ${describe(ch)})`);
    });
    if (typeof o.replacement !== "string") {
      throw new Error(`${where}: field "replacement" must be a one-character string (got ${describe(o.replacement)})`);
    }
    try {
      return new Tokenizer(chars as string[], o.replacement);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
