/**
 * The kit's tokenizer: characters, plus (optionally) a small vocabulary of frequent pieces learned
 * from the task suite. JavaScript arrow functions, short English descriptions, JSON-like values
 * and feedback text are all plain ASCII, so the characters alone cover everything; pieces such as
 * " element", ")=>", "filter" or " then" make sequences about half as long, which halves the
 * cost of a training step and the number of sampling decisions per program.
 *
 * Vocabulary (ids in order):
 *   0      `<pad>`       padding, never sampled on purpose
 *   1..5   `<task>` `<attempt>` `<feedback>` `<answer>` `<end>`  prompt sections and the stop token
 *   6..100 printable ASCII 32 (space) .. 126 (`~`)
 *   101    "\n"
 *   102..  the pieces, if any (`Tokenizer.train`), most frequent first
 *
 * Encoding splits text into chunks (a word or number with an optional leading space, a run of
 * punctuation with an optional leading space, or one whitespace character: CHUNK_PATTERN); a
 * chunk that is a piece is one token, any other chunk is spelled out character by character.
 * Decoding concatenates token texts, so `decode(encode(s)) === s` for printable ASCII and
 * newlines, and any id sequence the model samples decodes to exactly its text (sampled ids are
 * never re-tokenised).
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

/** The plain-data form stored in a checkpoint's `tokenizer.json` (type "char": no pieces). */
export interface TokenizerJSON {
  type: "char" | "pieces";
  version: 1;
  specials: string[];
  chars: string[];
  replacement: string;
  /** Multi-character tokens after the characters (type "pieces" only). */
  pieces?: string[];
}

/**
 * How text is cut into chunks before the piece lookup: an identifier or a number with an optional
 * leading space, a punctuation run with an optional leading space, or one other character.
 */
export const CHUNK_PATTERN = / ?[A-Za-z_$][A-Za-z_$0-9]*| ?[0-9]+| ?[^\sA-Za-z_$0-9]+|[\s\S]/gu;

/** The chunks of `text` (their concatenation is `text`). */
export function chunks(text: string): string[] {
  return text.match(CHUNK_PATTERN) ?? [];
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
  /** The multi-character tokens after the characters, in id order. */
  readonly pieces: readonly string[];
  /** The character unknown characters become. */
  readonly replacement: string;
  /** Id of the replacement character. */
  readonly replacementId: number;

  // ASCII fast path: code point -> id (or -1); other code points go through the map.
  private readonly asciiIds = new Int32Array(128).fill(-1);
  private readonly otherIds = new Map<number, number>();
  private readonly pieceIds = new Map<string, number>();

  /**
   * @param chars the characters after the specials, one code point each, no duplicates
   *   (default: printable ASCII 32..126 then "\n").
   * @param replacement one of `chars`, what unknown characters encode to (default "?").
   * @param pieces multi-character tokens, each one chunk of CHUNK_PATTERN, no duplicates (default none).
   */
  constructor(chars: readonly string[] = defaultCharacters(), replacement: string = DEFAULT_REPLACEMENT, pieces: readonly string[] = []) {
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
    pieces.forEach((piece, i) => {
      const parts = typeof piece === "string" ? chunks(piece) : [];
      if (parts.length !== 1 || parts[0] !== piece || [...piece].length < 2) {
        throw new Error(`tokenizer pieces[${i}] must be one chunk of at least two characters (got ${JSON.stringify(piece)})`);
      }
      if (this.pieceIds.has(piece)) throw new Error(`tokenizer pieces[${i}] ${JSON.stringify(piece)} appears twice`);
      this.pieceIds.set(piece, SPECIAL_TOKENS.length + chars.length + i);
    });
    this.pieces = pieces.slice();
    this.vocabSize = SPECIAL_TOKENS.length + chars.length + pieces.length;
  }

  /**
   * A tokenizer whose pieces are the `maxPieces` most frequent multi-character chunks of `texts`
   * that occur at least `minCount` times (ties broken by the chunk's text, so the result depends
   * only on the texts).
   */
  static train(texts: Iterable<string>, opts: { maxPieces: number; minCount?: number }): Tokenizer {
    const minCount = opts.minCount ?? 2;
    const counts = new Map<string, number>();
    for (const text of texts) {
      for (const chunk of chunks(text)) {
        if (chunk.length > 1 && /^[\x20-\x7e\n]+$/.test(chunk)) counts.set(chunk, (counts.get(chunk) ?? 0) + 1);
      }
    }
    const ranked = [...counts.entries()]
      .filter(([, n]) => n >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, opts.maxPieces)
      .map(([chunk]) => chunk);
    return new Tokenizer(defaultCharacters(), DEFAULT_REPLACEMENT, ranked);
  }

  /** The id of a code point, or -1 when it is not in the vocabulary. */
  private idOfCode(code: number): number {
    return code < 128 ? this.asciiIds[code] : (this.otherIds.get(code) ?? -1);
  }

  /**
   * Token ids of `text`: a chunk that is a piece is one id, anything else one id per character
   * (code point); unknown characters become `replacementId`.
   */
  encode(text: string): number[] {
    const ids: number[] = [];
    if (this.pieces.length === 0) {
      this.encodeChars(text, ids);
      return ids;
    }
    for (const chunk of chunks(text)) {
      const piece = this.pieceIds.get(chunk);
      if (piece !== undefined) ids.push(piece);
      else this.encodeChars(chunk, ids);
    }
    return ids;
  }

  private encodeChars(text: string, ids: number[]): void {
    for (const ch of text) {
      const id = this.idOfCode(ch.codePointAt(0)!);
      ids.push(id >= 0 ? id : this.replacementId);
    }
  }

  /** The text of `ids`; special ids are rendered as their names (`<end>`). */
  decode(ids: readonly number[]): string {
    let text = "";
    for (let i = 0; i < ids.length; i++) text += this.tokenText(ids[i], i);
    return text;
  }

  /** The text of one id: its character or piece, or a special token's name. */
  tokenText(id: number, position = 0): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`token id ${id} at position ${position} is out of range: ids are integers in [0, ${this.vocabSize})`);
    }
    if (id < SPECIAL_TOKENS.length) return SPECIAL_TOKENS[id];
    const c = id - SPECIAL_TOKENS.length;
    return c < this.chars.length ? this.chars[c] : this.pieces[c - this.chars.length];
  }

  /** True for the ids of `<pad>`, `<task>`, `<attempt>`, `<feedback>`, `<answer>` and `<end>`. */
  isSpecial(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < SPECIAL_TOKENS.length;
  }

  /** The plain data that `fromJSON` reads back. */
  toJSON(): TokenizerJSON {
    const base = { version: 1 as const, specials: [...SPECIAL_TOKENS], chars: this.chars.slice(), replacement: this.replacement };
    return this.pieces.length === 0 ? { type: "char", ...base } : { type: "pieces", ...base, pieces: this.pieces.slice() };
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
    if (o.type !== "char" && o.type !== "pieces") throw new Error(`${where}: field "type" must be "char" or "pieces" (got ${describe(o.type)})`);
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
    let pieces: string[] = [];
    if (o.type === "pieces") {
      if (!Array.isArray(o.pieces) || o.pieces.some((p) => typeof p !== "string")) {
        throw new Error(`${where}: field "pieces" must be an array of strings when "type" is "pieces" (got ${describe(o.pieces)})`);
      }
      pieces = o.pieces as string[];
    } else if (o.pieces !== undefined) {
      throw new Error(`${where}: field "pieces" is only allowed when "type" is "pieces" (got type ${describe(o.type)})`);
    }
    try {
      return new Tokenizer(chars as string[], o.replacement, pieces);
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
