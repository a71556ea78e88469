import { describe, expect, it } from 'vitest';
import {
  annotationToGroundTruth,
  classIndexMap,
  collectClassNames,
  fitAnnotationToImage,
  parseImageSet,
  parseVocXml,
  VocAnnotationError,
} from './voc';
import { parseXml, XmlParseError } from './xml';
import { stratifiedSplit, stratumKey } from './split';

const SAMPLE = `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE annotation>
<!-- written by a labelling tool -->
<annotation verified="yes">
\t<folder>images</folder>
\t<filename><![CDATA[apple & pear.jpg]]></filename>
\t<size><width>640</width><height>480</height><depth>3</depth></size>
\t<object>
\t\t<name> apple </name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox><xmin>8</xmin><ymin>15</ymin><xmax>331</xmax><ymax>349</ymax></bndbox>
\t</object>
\t<object>
\t\t<name>pear</name>
\t\t<difficult>1</difficult>
\t\t<bndbox><xmin>100.5</xmin><ymin>1</ymin><xmax>640</xmax><ymax>480</ymax></bndbox>
\t\t<part><name>stem</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>
\t</object>
</annotation>`;

describe('XML reader', () => {
  it('reads elements, attributes, entities, CDATA; skips declaration, DOCTYPE and comments', () => {
    const { root, warnings } = parseXml('\ufeff<?xml version="1.0"?><a x="1 &amp; 2" y=\'q\'><b>&lt;t&gt; &#65;&#x42;</b><c/><![CDATA[<raw>]]></a>');
    expect(warnings).toEqual([]);
    expect(root.name).toBe('a');
    expect(root.attributes).toEqual({ x: '1 & 2', y: 'q' });
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c']);
    expect(root.children[0].text).toBe('<t> AB');
    expect(root.text).toBe('<raw>');
  });

  it('recovers from a misspelled closing tag and an unclosed root, with line numbers', () => {
    const { root, warnings } = parseXml('<a>\n<b>1</bb>\n<c>2</c>\n</b>\n');
    expect(root.children.map((c) => c.name)).toEqual(['b']);
    expect(root.children[0].children.map((c) => c.name)).toEqual(['c']);
    expect(warnings).toEqual([
      'closing tag </bb> without an open <bb> ignored (line 2)',
      '<a> (line 1) is never closed',
    ]);
  });

  it('throws on text without elements and on cut-off constructs', () => {
    expect(() => parseXml('just text')).toThrow(XmlParseError);
    expect(() => parseXml('<a><!-- never ends')).toThrow(/unterminated comment \(line 1\)/);
    expect(() => parseXml('<a>\n<b attr="x')).toThrow(/unterminated start tag \(line 2\)/);
  });
});

describe('PASCAL VOC annotation parsing', () => {
  it('parses objects and converts 1-based inclusive boxes to the continuous convention', () => {
    const a = parseVocXml(SAMPLE, 'x.xml');
    expect(a.filename).toBe('apple & pear.jpg');
    expect(a.folder).toBe('images');
    expect(a.size).toEqual({ width: 640, height: 480, depth: 3 });
    expect(a.sizeValid).toBe(true);
    expect(a.warnings).toEqual([]);
    expect(a.objects).toEqual([
      // xmin 8 .. xmax 331 inclusive, 1-based -> [7, 331): width 324 pixels.
      { name: 'apple', box: [7, 14, 331, 349], difficult: false, truncated: true, pose: 'Unspecified' },
      // a <part>'s own bndbox is not the object's box
      { name: 'pear', box: [99.5, 0, 640, 480], difficult: true, truncated: false },
    ]);
  });

  it('flags a 0 x 0 or missing <size> instead of trusting it', () => {
    const zero = parseVocXml(SAMPLE.replace('<width>640</width><height>480</height>', '<width>0</width><height>0</height>'), 'z.xml');
    expect(zero.sizeValid).toBe(false);
    expect(zero.size.width).toBe(0);
    expect(zero.warnings).toEqual(['z.xml: <size> is 0 x 0; the decoded image size will be used']);
    const none = parseVocXml('<annotation><filename>a.jpg</filename></annotation>', 'n.xml');
    expect(none.sizeValid).toBe(false);
    expect(none.objects).toEqual([]);
    expect(none.warnings).toEqual(['n.xml: <size> is missing; the decoded image size will be used']);
    // A negative size is named as it is, once: fitting adds no second message about it.
    const neg = parseVocXml(SAMPLE.replace('<width>640</width>', '<width>-650</width>'), 'neg.xml');
    expect(neg.warnings).toEqual(['neg.xml: <size> is -650 x 480; the decoded image size will be used']);
    const fitted = fitAnnotationToImage(neg, 640, 480);
    expect(fitted.sizeCheck).toBe('missing');
    expect(fitted.messages).toEqual([]);
  });

  it('skips unusable objects with a warning naming the file, object and line', () => {
    const xml = `<annotation><filename>a.jpg</filename><size><width>10</width><height>10</height></size>
<object><name>cat</name></object>
<object><name>dog</name><bndbox><xmin>1</xmin><ymin>one</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
<object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>
<object><name>ok</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>`;
    const a = parseVocXml(xml, 'w.xml');
    expect(a.objects.map((o) => o.name)).toEqual(['ok']);
    expect(a.warnings).toEqual([
      'w.xml: object 1 (cat), line 2: no <bndbox>, object skipped',
      'w.xml: object 2 (dog), line 3: <bndbox> coordinates are not all numbers, object skipped',
      'w.xml: object 3, line 4: no <name>, object skipped',
    ]);
  });

  it('rejects non-XML and non-VOC files with an error naming the file', () => {
    expect(() => parseVocXml('\x89PNG garbage', 'bad.xml')).toThrow(VocAnnotationError);
    expect(() => parseVocXml('\x89PNG garbage', 'bad.xml')).toThrow(/^bad\.xml: not readable as XML/);
    expect(() => parseVocXml('<svg></svg>', 'pic.xml')).toThrow('pic.xml: not a PASCAL VOC annotation (root element is <svg>, expected <annotation>)');
  });
});

describe('fitting an annotation to the decoded image', () => {
  const base = parseVocXml(SAMPLE, 'x.xml');

  it('keeps a consistent annotation unchanged', () => {
    const f = fitAnnotationToImage(base, 640, 480);
    expect(f.sizeCheck).toBe('ok');
    expect(f.fixes).toEqual([]);
    expect(f.annotation.objects.map((o) => o.box)).toEqual(base.objects.map((o) => o.box));
  });

  it('uses the decoded size, clips boxes, drops empty ones and orders inverted corners', () => {
    // Decoded 300 x 200 while the XML says 640 x 480.
    const f = fitAnnotationToImage(base, 300, 200, { source: 'x.xml' });
    expect(f.sizeCheck).toBe('mismatch');
    expect(f.annotation.size).toEqual({ width: 300, height: 200, depth: 3 });
    expect(f.annotation.sizeValid).toBe(true);
    expect(f.annotation.objects.map((o) => o.box)).toEqual([
      [7, 14, 300, 200],
      [99.5, 0, 300, 200],
    ]);
    expect(f.fixes.map((x) => x.kind)).toEqual(['clipped', 'clipped']);
    expect(f.messages[0]).toBe('x.xml: <size> says 640 x 480 but the image decodes to 300 x 200; using the decoded size');

    const odd = { ...base, objects: [
      { name: 'a', box: [50, 60, 10, 20] as [number, number, number, number], difficult: false, truncated: false },
      { name: 'b', box: [700, 10, 720, 30] as [number, number, number, number], difficult: false, truncated: false },
    ] };
    const g = fitAnnotationToImage(odd, 640, 480);
    expect(g.annotation.objects.map((o) => [o.name, o.box])).toEqual([['a', [10, 20, 50, 60]]]);
    expect(g.fixes.map((x) => [x.kind, x.objectIndex])).toEqual([
      ['swapped', 0],
      ['dropped-degenerate', 1],
    ]);
  });

  it('classifies size disagreements: missing, swapped (EXIF rotation), mismatch', () => {
    const zero = parseVocXml(SAMPLE.replace('<width>640</width><height>480</height>', '<width>0</width><height>0</height>'));
    expect(fitAnnotationToImage(zero, 640, 480).sizeCheck).toBe('missing');
    expect(fitAnnotationToImage(base, 480, 640).sizeCheck).toBe('swapped');
    expect(fitAnnotationToImage(base, 640, 481).sizeCheck).toBe('mismatch');
  });
});

describe('classes and image sets', () => {
  const a = parseVocXml(SAMPLE);
  it('collects sorted class names and flattens ground truth for a class list', () => {
    expect(collectClassNames([a])).toEqual(['apple', 'pear']);
    const { groundTruth, unknown } = annotationToGroundTruth(a, ['pear', 'banana']);
    expect(unknown).toEqual(['apple']);
    expect(Array.from(groundTruth.labels)).toEqual([0]);
    expect(Array.from(groundTruth.boxes)).toEqual([99.5, 0, 640, 480]);
    expect(Array.from(groundTruth.difficult)).toEqual([1]);
    expect(() => classIndexMap(['a', 'a'])).toThrow('class "a" listed twice');
  });

  it('parses plain and per-class ImageSets lists (CRLF, comments, duplicates)', () => {
    const r = parseImageSet('000005\r\n000007  -1\r\n# note\r\n\r\n000009 0\r\n000005\r\n', 'set.txt');
    expect(r.entries).toEqual([{ id: '000005' }, { id: '000007', flag: -1 }, { id: '000009', flag: 0 }]);
    expect(r.warnings).toEqual(['set.txt: line 6: id 000005 listed again, kept once']);
  });
});

describe('stratified train/val split', () => {
  const items = [
    ...Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, classes: ['apple'] })),
    ...Array.from({ length: 5 }, (_, i) => ({ id: `b${i}`, classes: ['banana', 'banana'] })),
    ...Array.from({ length: 3 }, (_, i) => ({ id: `m${i}`, classes: ['banana', 'apple'] })),
    { id: 'solo', classes: ['kiwi'] },
  ];

  it('splits each class combination in proportion, never emptying a stratum of training images', () => {
    const s = stratifiedSplit(items, { valFraction: 0.2, seed: 7 });
    // 19 images -> round(3.8) = 4 for validation: apple 2 (of 10), banana 1 (of 5), mixed 0.6 -> 1
    // by largest remainder (0.6 beats 0.0 and kiwi's 0.2; kiwi's only image stays in training).
    expect(s.val.length).toBe(4);
    expect(s.train.length).toBe(15);
    expect(s.strata.get('apple')).toEqual([8, 2]);
    expect(s.strata.get('banana')).toEqual([4, 1]);
    expect(s.strata.get('apple+banana')).toEqual([2, 1]);
    expect(s.strata.get('kiwi')).toEqual([1, 0]);
    expect(new Set([...s.train, ...s.val]).size).toBe(19);
    expect(stratumKey(['banana', 'apple', 'banana'])).toBe('apple+banana');
  });

  it('is deterministic, independent of input order, and changes with the seed', () => {
    const s1 = stratifiedSplit(items, { seed: 7 });
    const s2 = stratifiedSplit([...items].reverse(), { seed: 7 });
    expect(s2).toEqual(s1);
    const others = [1, 2, 3, 4, 5].map((seed) => stratifiedSplit(items, { seed }).val.join());
    expect(new Set([s1.val.join(), ...others]).size).toBeGreaterThan(1);
    expect(() => stratifiedSplit([{ id: 'x', classes: [] }, { id: 'x', classes: [] }])).toThrow('appears twice');
  });
});
