/**
 * Annotation files a hostile or unlucky user can load (the audit of issue 25): huge, deeply
 * nested, full of stray tags, or declaring entities. Each must end in a result or one refusal,
 * in time linear in its size.
 */
import { describe, expect, it } from 'vitest';
import { parseVocXml, VocAnnotationError } from './voc';
import { parseXml, XmlParseError, XML_LIMITS } from './xml';

/**
 * A string that counts the characters the parser reads through it: each charCodeAt, the span an
 * indexOf searched, the characters a slice copied and a startsWith compared. A linear parser reads
 * each character a bounded number of times; rescanning from the start for every tag (what the
 * line numbers did) reads it once per tag after it.
 */
class CountingString extends String {
  reads = 0;
  /** Past this many reads the parse is stopped (a quadratic parser would run for hours here). */
  budget = 20 * this.length;
  private add(k: number): void {
    this.reads += k;
    if (this.reads > this.budget) throw new Error(`read more than ${this.budget / this.length} times the input's length`);
  }
  override charCodeAt(i: number): number {
    this.add(1);
    return super.charCodeAt(i);
  }
  override indexOf(s: string, from = 0): number {
    const r = super.indexOf(s, from);
    this.add((r < 0 ? this.length : r + s.length) - from);
    return r;
  }
  override slice(a?: number, b?: number): string {
    const s = super.slice(a, b);
    this.add(s.length);
    return s;
  }
  override startsWith(s: string, p?: number): boolean {
    this.add(s.length);
    return super.startsWith(s, p);
  }
}

/** Parse through a CountingString; returns the result (or the error) and reads per character. */
function countedParse(xml: string): { result: ReturnType<typeof parseXml> | null; error: unknown; readsPerChar: number } {
  const s = new CountingString(xml);
  let result: ReturnType<typeof parseXml> | null = null;
  let error: unknown = null;
  try {
    result = parseXml(s as unknown as string);
  } catch (e) {
    error = e;
  }
  return { result, error, readsPerChar: s.reads / xml.length };
}

function vocObjects(n: number): string {
  const objs: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = 1 + (i % 500);
    objs.push(`<object><name>c${i % 7}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult><bndbox><xmin>${x}</xmin><ymin>2</ymin><xmax>${x + 10}</xmax><ymax>20</ymax></bndbox></object>`);
  }
  return `<annotation>\n<filename>many.jpg</filename><size><width>600</width><height>400</height><depth>3</depth></size>\n${objs.join('\n')}\n</annotation>\n`;
}

describe('XML reader on hostile annotation files', () => {
  it('reads a 10,000-object file (1.4 MB) reading each character a bounded number of times, with correct line numbers', () => {
    // The last object lacks its box, so its warning shows the line number the parser computed.
    const xml = vocObjects(10_000).replace(/<bndbox>(?:(?!<bndbox>).)*<\/bndbox><\/object>\n<\/annotation>/s, '</object>\n</annotation>');
    expect(xml.length).toBeGreaterThan(1_400_000);
    const c = countedParse(xml);
    expect(c.error).toBeNull();
    // Measured 2.7 reads per character (the counts are exact, not timings); rescanning for line
    // numbers passed the budget of 20 within the first few per cent of the file.
    expect(c.readsPerChar).toBeLessThan(6);
    const a = parseVocXml(xml, 'many.xml');
    expect(a.objects.length).toBe(9_999);
    // Object 9,999: xmin 499 .. xmax 509 (1-based, inclusive) -> [498, 509).
    expect(a.objects[9_998]).toEqual({ name: 'c2', box: [498, 1, 509, 20], difficult: false, truncated: false, pose: 'Unspecified' });
    // Line 1 <annotation>, line 2 <filename>, object k (1-based) on line k + 2.
    expect(a.warnings).toEqual(['many.xml: object 10000 (c3), line 10002: no <bndbox>, object skipped']);
  });

  it('refuses 200,000-deep nesting at the depth limit, naming the line', () => {
    const deep = `<annotation>\n${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}</annotation>`;
    const c = countedParse(deep);
    expect(c.error).toBeInstanceOf(XmlParseError);
    expect((c.error as XmlParseError).refused).toBe(true);
    expect((c.error as Error).message).toBe(`nests elements more than ${XML_LIMITS.maxDepth} deep (a PASCAL VOC annotation nests 4 deep) (line 2)`);
    expect(() => parseVocXml(deep, 'deep.xml')).toThrow(
      new VocAnnotationError('deep.xml', `not read, because it nests elements more than 256 deep (a PASCAL VOC annotation nests 4 deep) (line 2)`),
    );
    // Refused early: it never read far into the file.
    expect(c.readsPerChar).toBeLessThan(1);
  });

  it('stays linear on 200,000 stray closing tags, lone "<" and declarations, and caps its warnings', () => {
    const stray = `<annotation>\n${'</x>\n'.repeat(200_000)}</annotation>`;
    const s = countedParse(stray);
    expect(s.error).toBeNull();
    expect(s.readsPerChar).toBeLessThan(6);
    expect(s.result!.warnings.length).toBe(XML_LIMITS.maxWarnings + 1);
    expect(s.result!.warnings[0]).toBe('closing tag </x> without an open <x> ignored (line 2)');
    expect(s.result!.warnings[49]).toBe('closing tag </x> without an open <x> ignored (line 51)');
    expect(s.result!.warnings[50]).toBe('199950 more warnings like these not listed');

    // Each lone '<' used to scan ahead to the next '>' (here: the end of the file).
    const lone = `<annotation><name>${'< '.repeat(200_000)}</name></annotation>`;
    const l = countedParse(lone);
    expect(l.error).toBeNull();
    expect(l.readsPerChar).toBeLessThan(6);
    expect(l.result!.root.children[0].text.length).toBe(400_000);

    // Each declaration used to search the rest of the file for a '[' (an internal subset).
    const decls = `<annotation>${'<!x>'.repeat(200_000)}</annotation>`;
    const d = countedParse(decls);
    expect(d.error).toBeNull();
    expect(d.readsPerChar).toBeLessThan(6); // measured 5.75: about 23 reads per 4-character declaration
  });

  it('refuses more elements and more characters than its limits, before building them', () => {
    expect(() => parseXml(`<a>${'<b/>'.repeat(1001)}</a>`, { maxElements: 1000 })).toThrow(
      'has more than 1000 elements (a PASCAL VOC annotation has about 10 per object) (line 1)',
    );
    const big = `<annotation>${' '.repeat(XML_LIMITS.maxChars)}</annotation>`;
    expect(() => parseVocXml(big, 'big.xml')).toThrow('big.xml: not read, because it is 16.0 MB, more than the 16.0 MB this reader accepts (an annotation file is a few KB)');
  });
});

describe('XML entities', () => {
  const LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<annotation><object><name>&lol9;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>`;
  const XXE = `<?xml version="1.0"?>\n<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<annotation><object><name>&xxe;</name></object></annotation>`;

  it('refuses a billion-laughs or XXE file (a DOCTYPE declaring entities) instead of reading &lol9; as a class', () => {
    expect(() => parseVocXml(LAUGHS, 'lol.xml')).toThrow(
      'lol.xml: not read, because it declares its own DTD or entities (a DOCTYPE with [ ... ] or <!ENTITY>), which annotation files never need and which can hide a billion-laughs or XXE attack (line 2)',
    );
    expect(() => parseVocXml(XXE, 'xxe.xml')).toThrow(/^xxe\.xml: not read, because it declares its own DTD or entities .* \(line 2\)$/);
  });

  it('refuses an undeclared entity reference, naming it and its line', () => {
    const noDtd = `<annotation>\n<object><name>&xxe;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>`;
    expect(() => parseVocXml(noDtd, 'e.xml')).toThrow(
      "e.xml: not read, because it uses the entity &xxe;, which is not expanded: only XML's five (&amp; &lt; &gt; &quot; &apos;) and numeric ones such as &#38; are read, because entities a DOCTYPE declares can hide a billion-laughs or XXE attack (line 2)",
    );
    expect(() => parseXml('<a b="&lol9;"/>')).toThrow(/uses the entity &lol9;.* \(line 1\)$/);
    // The five, numeric references, a DOCTYPE naming the root and a bare '&' still read.
    const ok = parseXml('<!DOCTYPE annotation>\n<a n="&quot;&#x41;&apos;">&amp;&lt;&gt;&#66; R & D</a>');
    expect(ok.root.attributes.n).toBe('"A\'');
    expect(ok.root.text).toBe('&<>B R & D');
  });
});
