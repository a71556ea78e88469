/**
 * A small, forgiving XML reader for annotation files. DOMParser exists in browsers but not in
 * Node or (reliably) in workers, and annotation XML is simple: elements, attributes, text. This
 * reader handles the XML that annotation tools actually write: an XML declaration, comments,
 * CDATA, a DOCTYPE naming the root, XML's predefined and numeric entities, self-closing tags,
 * CRLF line ends, a BOM. It refuses what only hostile files hold (entities declared in a DTD,
 * absurd nesting, size or element counts) with one message, in time linear in the input.
 *
 * It recovers from the damage hand-edited files show (a stray or misspelled closing tag, a
 * missing closing tag at the end of the file) and reports each recovery as a warning with its
 * line; it throws XmlParseError only when there is no element at all or a construct is cut off.
 */

export interface XmlElement {
  /** Tag name as written (compare with `is`, which ignores case). */
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Direct text content (entities decoded, CDATA included), not trimmed. */
  text: string;
  /** 1-based line of the start tag, for messages. */
  line: number;
}

export class XmlParseError extends Error {
  /**
   * `line` 0: the problem is the file as a whole (its size), not a place in it. `refused`: the
   * XML may be well formed, but it is something no annotation file holds (a DTD, entities, absurd
   * nesting or size); the message then reads after "it" ("nests elements more than 256 deep").
   */
  constructor(message: string, readonly line: number, readonly refused = false) {
    super(line > 0 ? `${message} (line ${line})` : message);
    this.name = 'XmlParseError';
  }
}

export interface XmlDocument {
  root: XmlElement;
  warnings: string[];
}

/**
 * What the reader accepts before refusing. A PASCAL VOC annotation is a few KB, nests 4 deep
 * (annotation > object > part > bndbox > xmin) and holds about 10 elements per object; these
 * bounds are far above any real file and far below what freezes a page or exhausts memory (each
 * element costs about 200 bytes of objects; the audit's 200,000-deep nesting file is 1.4 MB).
 */
export interface XmlLimits {
  /** Characters of input (about bytes for ASCII XML). */
  maxChars: number;
  /** Elements open at once. */
  maxDepth: number;
  /** Elements in the whole file. */
  maxElements: number;
  /** Warnings kept; the rest are counted in one last line. */
  maxWarnings: number;
}

export const XML_LIMITS: Readonly<XmlLimits> = { maxChars: 16 * 1024 * 1024, maxDepth: 256, maxElements: 500_000, maxWarnings: 50 };

const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY_RE = /&(#x[0-9a-fA-F]+|#[0-9]+|[^\s&;<>]+);/g;

/**
 * Decode XML's five predefined entities and numeric character references. Any other `&name;` is
 * an entity a DOCTYPE would have to declare (billion laughs, XXE): it is never expanded, and the
 * reader refuses the file rather than keep `&xxe;` as text (it became a class name before).
 * Returns the decoded text, or the offset in `s` of the first undeclared reference.
 */
export function decodeEntities(s: string): string | { undeclared: string; at: number } {
  if (s.indexOf('&') < 0) return s;
  let bad: { undeclared: string; at: number } | null = null;
  const out = s.replace(ENTITY_RE, (m, body: string, at: number) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    const v = PREDEFINED_ENTITIES[body];
    if (v === undefined && bad === null) bad = { undeclared: m, at };
    return v ?? m;
  });
  return bad ?? out;
}

const NAME_RE = /^[^\s/>=]+/;
const ATTR_RE = /([^\s=/>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
const SPACE_RE = /\s/;

function mb(chars: number): string {
  return `${(chars / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why a file of `chars` characters (or bytes) is refused for its size alone, or null. */
export function xmlSizeRefusal(chars: number, maxChars = XML_LIMITS.maxChars): string | null {
  return chars > maxChars ? `is ${mb(chars)}, more than the ${mb(maxChars)} this reader accepts (an annotation file is a few KB)` : null;
}

/**
 * Parse `input`. Linear in its length: every character is read a bounded number of times
 * (line numbers come from one cursor that only moves forward, and each construct is searched
 * for from where the last one ended); files past `limits` are refused with XmlParseError.
 */
export function parseXml(input: string, limits: Partial<XmlLimits> = {}): XmlDocument {
  const { maxChars, maxDepth, maxElements, maxWarnings } = { ...XML_LIMITS, ...limits };
  const tooLarge = xmlSizeRefusal(input.length, maxChars);
  if (tooLarge) throw new XmlParseError(tooLarge, 0, true);
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const warnings: string[] = [];
  let moreWarnings = 0;
  const warn = (w: string) => {
    if (warnings.length < maxWarnings) warnings.push(w);
    else moreWarnings++;
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let elements = 0;
  let pos = 0;
  const n = text.length;

  // Line numbers: a cursor that counts newlines as it moves forward. Rescanning from the start
  // for every tag made a 10,000-object file take minutes (the audit: 163 s in Chromium).
  let lineFrom = 0;
  let lineNo = 1;
  const lineAt = (offset: number): number => {
    const to = Math.min(offset, n);
    if (to < lineFrom) {
      lineFrom = 0; // only on the way to an error
      lineNo = 1;
    }
    for (let i = lineFrom; i < to; i++) if (text.charCodeAt(i) === 10) lineNo++;
    lineFrom = to;
    return lineNo;
  };

  /** `at`: where `s` starts in the text (for the error's line); an attribute value gives its tag's. */
  const decode = (s: string, at: number, inTag = false): string => {
    const d = decodeEntities(s);
    if (typeof d === 'string') return d;
    throw new XmlParseError(
      `uses the entity ${d.undeclared.length > 40 ? `${d.undeclared.slice(0, 40)}…` : d.undeclared}, which is not expanded: only XML's five (&amp; &lt; &gt; &quot; &apos;) and numeric ones such as &#38; are read, because entities a DOCTYPE declares can hide a billion-laughs or XXE attack`,
      lineAt(inTag ? at : at + d.at),
      true,
    );
  };
  const appendText = (s: string, at: number) => {
    if (stack.length > 0) stack[stack.length - 1].text += s;
    else if (s.trim() !== '') warn(`text outside the root element ignored (line ${lineAt(at)})`);
  };
  const need = (end: string, from: number, what: string): number => {
    const at = text.indexOf(end, from);
    if (at < 0) throw new XmlParseError(`unterminated ${what}`, lineAt(from));
    return at;
  };

  while (pos < n) {
    const lt = text.indexOf('<', pos);
    if (lt < 0) {
      appendText(decode(text.slice(pos), pos), pos);
      break;
    }
    if (lt > pos) appendText(decode(text.slice(pos, lt), pos), pos);
    pos = lt;
    const next = pos + 1 < n ? text[pos + 1] : '';
    if (next === '!' && text.startsWith('<!--', pos)) {
      pos = need('-->', pos + 4, 'comment') + 3;
    } else if (next === '!' && text.startsWith('<![CDATA[', pos)) {
      const end = need(']]>', pos + 9, 'CDATA section');
      appendText(text.slice(pos + 9, end), pos);
      pos = end + 3;
    } else if (next === '?') {
      pos = need('?>', pos + 2, 'processing instruction') + 2;
    } else if (next === '!') {
      // A DOCTYPE naming the root (`<!DOCTYPE annotation>`) is harmless and skipped. One with an
      // internal subset (`[ <!ENTITY ...> ]`), or an entity declaration anywhere, is where
      // billion-laughs and XXE files define their entities: refused, nothing is expanded or read.
      const close = need('>', pos + 2, 'declaration');
      const decl = text.slice(pos, close);
      if (decl.includes('[') || /^<!ENTITY/i.test(decl)) {
        throw new XmlParseError(
          'declares its own DTD or entities (a DOCTYPE with [ ... ] or <!ENTITY>), which annotation files never need and which can hide a billion-laughs or XXE attack',
          lineAt(pos),
          true,
        );
      }
      pos = close + 1;
    } else if (next === '/') {
      const end = need('>', pos + 2, 'closing tag');
      const name = text.slice(pos + 2, end).trim();
      const line = lineAt(pos);
      const lower = name.toLowerCase();
      // The stack is at most maxDepth deep, so this search is bounded too.
      let k = stack.length - 1;
      while (k >= 0 && stack[k].name.toLowerCase() !== lower) k--;
      if (k < 0) {
        warn(`closing tag </${name}> without an open <${name}> ignored (line ${line})`);
      } else {
        for (let j = stack.length - 1; j > k; j--) {
          warn(`<${stack[j].name}> (line ${stack[j].line}) closed implicitly by </${name}> (line ${line})`);
        }
        stack.length = k;
      }
      pos = end + 1;
    } else if (next === '' || next === '>' || next === '=' || SPACE_RE.test(next)) {
      // A lone '<' in text: keep it as text, as a browser would. Decided from the next character
      // alone: scanning ahead for a '>' from every lone '<' made "< < < ..." quadratic.
      appendText('<', pos);
      pos += 1;
    } else {
      // Start tag. Find its end outside quoted attribute values.
      let end = pos + 1;
      let quote = 0;
      for (; end < n; end++) {
        const c = text.charCodeAt(end);
        if (quote) {
          if (c === quote) quote = 0;
        } else if (c === 34 || c === 39) quote = c;
        else if (c === 62) break;
      }
      if (end >= n) throw new XmlParseError('unterminated start tag', lineAt(pos));
      let body = text.slice(pos + 1, end);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = NAME_RE.exec(body)!;
      const line = lineAt(pos);
      if (++elements > maxElements) {
        throw new XmlParseError(`has more than ${maxElements} elements (a PASCAL VOC annotation has about 10 per object)`, line, true);
      }
      const el: XmlElement = { name: m[0], attributes: {}, children: [], text: '', line };
      ATTR_RE.lastIndex = 0;
      const rest = body.slice(m[0].length);
      let a: RegExpExecArray | null;
      while ((a = ATTR_RE.exec(rest)) !== null) {
        el.attributes[a[1]] = decode(a[2] ?? a[3] ?? a[4] ?? '', pos, true);
      }
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root === null) root = el;
      else warn(`second root element <${el.name}> ignored (line ${line})`);
      if (!selfClosing && (stack.length > 0 || root === el)) {
        if (stack.length >= maxDepth) {
          throw new XmlParseError(`nests elements more than ${maxDepth} deep (a PASCAL VOC annotation nests 4 deep)`, line, true);
        }
        stack.push(el);
      }
      pos = end + 1;
    }
  }
  if (root === null) throw new XmlParseError('no XML element found', 1);
  for (let j = stack.length - 1; j >= 0; j--) {
    warn(`<${stack[j].name}> (line ${stack[j].line}) is never closed`);
  }
  if (moreWarnings > 0) warnings.push(`${moreWarnings} more warning${moreWarnings === 1 ? '' : 's'} like these not listed`);
  return { root, warnings };
}

/** Case-insensitive tag comparison (annotation tools disagree on case). */
export function is(el: XmlElement, name: string): boolean {
  return el.name.toLowerCase() === name.toLowerCase();
}

/** First direct child with this tag name, or undefined. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (is(c, name)) return c;
  return undefined;
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => is(c, name));
}

/** Trimmed text of the first direct child with this name, or undefined when there is none. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : c.text.trim();
}

/** Depth-first search for the first element with this name (the element itself included). */
export function findFirst(el: XmlElement, name: string): XmlElement | undefined {
  if (is(el, name)) return el;
  for (const c of el.children) {
    const f = findFirst(c, name);
    if (f) return f;
  }
  return undefined;
}
