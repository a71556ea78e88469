/**
 * A small, forgiving XML reader for annotation files. DOMParser exists in browsers but not in
 * Node or (reliably) in workers, and annotation XML is simple: elements, attributes, text. This
 * reader handles the XML that annotation tools actually write: an XML declaration, comments,
 * CDATA, a DOCTYPE, entities (named and numeric), self-closing tags, CRLF line ends, a BOM.
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
  constructor(message: string, readonly line: number) {
    super(`${message} (line ${line})`);
    this.name = 'XmlParseError';
  }
}

export interface XmlDocument {
  root: XmlElement;
  warnings: string[];
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return NAMED_ENTITIES[body] ?? m;
  });
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const NAME_RE = /^[^\s/>=]+/;
const ATTR_RE = /([^\s=/>]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

export function parseXml(input: string): XmlDocument {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const warnings: string[] = [];
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let pos = 0;
  const n = text.length;

  const appendText = (s: string) => {
    if (stack.length > 0) stack[stack.length - 1].text += s;
    else if (s.trim() !== '') warnings.push(`text outside the root element ignored (line ${lineAt(text, pos)})`);
  };
  const need = (end: string, from: number, what: string): number => {
    const at = text.indexOf(end, from);
    if (at < 0) throw new XmlParseError(`unterminated ${what}`, lineAt(text, from));
    return at;
  };

  while (pos < n) {
    const lt = text.indexOf('<', pos);
    if (lt < 0) {
      appendText(decodeEntities(text.slice(pos)));
      break;
    }
    if (lt > pos) appendText(decodeEntities(text.slice(pos, lt)));
    pos = lt;
    if (text.startsWith('<!--', pos)) {
      pos = need('-->', pos + 4, 'comment') + 3;
    } else if (text.startsWith('<![CDATA[', pos)) {
      const end = need(']]>', pos + 9, 'CDATA section');
      appendText(text.slice(pos + 9, end));
      pos = end + 3;
    } else if (text.startsWith('<?', pos)) {
      pos = need('?>', pos + 2, 'processing instruction') + 2;
    } else if (text.startsWith('<!', pos)) {
      // DOCTYPE (possibly with an internal subset in brackets) or another declaration.
      const close = need('>', pos + 2, 'declaration');
      const open = text.indexOf('[', pos);
      pos = open >= 0 && open < close ? need(']', open, 'DOCTYPE internal subset') : pos;
      pos = need('>', pos, 'declaration') + 1;
    } else if (text.startsWith('</', pos)) {
      const end = need('>', pos + 2, 'closing tag');
      const name = text.slice(pos + 2, end).trim();
      const line = lineAt(text, pos);
      const lower = name.toLowerCase();
      let k = stack.length - 1;
      while (k >= 0 && stack[k].name.toLowerCase() !== lower) k--;
      if (k < 0) {
        warnings.push(`closing tag </${name}> without an open <${name}> ignored (line ${line})`);
      } else {
        for (let j = stack.length - 1; j > k; j--) {
          warnings.push(`<${stack[j].name}> (line ${stack[j].line}) closed implicitly by </${name}> (line ${line})`);
        }
        stack.length = k;
      }
      pos = end + 1;
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
      if (end >= n) throw new XmlParseError('unterminated start tag', lineAt(text, pos));
      let body = text.slice(pos + 1, end);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = NAME_RE.exec(body);
      const line = lineAt(text, pos);
      if (!m) {
        // A lone '<' in text: keep it as text, as a browser would.
        appendText('<');
        pos += 1;
        continue;
      }
      const el: XmlElement = { name: m[0], attributes: {}, children: [], text: '', line };
      ATTR_RE.lastIndex = 0;
      const rest = body.slice(m[0].length);
      let a: RegExpExecArray | null;
      while ((a = ATTR_RE.exec(rest)) !== null) {
        el.attributes[a[1]] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
      }
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root === null) root = el;
      else warnings.push(`second root element <${el.name}> ignored (line ${line})`);
      if (!selfClosing && (stack.length > 0 || root === el)) stack.push(el);
      pos = end + 1;
    }
  }
  if (root === null) throw new XmlParseError('no XML element found', 1);
  for (let j = stack.length - 1; j >= 0; j--) {
    warnings.push(`<${stack[j].name}> (line ${stack[j].line}) is never closed`);
  }
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
