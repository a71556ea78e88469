import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ILSVRC13_DET_CLASSES } from '../model/onnx/ilsvrc13';
import { SAMPLES, sampleClassesKnown } from './decodeClient';

const BUNDLED = ['apple', 'banana', 'orange', 'raccoon', 'kangaroo'];

describe('sample photos and their annotations', () => {
  it('lists exactly the classes each annotation names, and every annotation file belongs to a sample', () => {
    for (const s of SAMPLES) {
      const xml = readFileSync(`public/samples/${s.annotation}`, 'utf8');
      expect(xml).toContain(`<filename>${s.file}</filename>`);
      const names = [...new Set([...xml.matchAll(/<name>([^<]+)<\/name>/g)].map((m) => m[1]))];
      expect(new Set(s.classes), s.file).toEqual(new Set(names));
    }
    expect(readdirSync('public/samples/annotations').sort()).toEqual(SAMPLES.map((s) => s.annotation!.replace('annotations/', '')).sort());
  });

  it('marks the photos each model has classes for', () => {
    const marked = (classes: readonly string[]) => SAMPLES.filter((s) => sampleClassesKnown(s, classes).length > 0).map((s) => `${s.file}: ${sampleClassesKnown(s, classes).join(', ')}`);
    expect(marked(BUNDLED)).toEqual(['apple.jpg: apple', 'orange.jpg: orange', 'fruits.jpg: orange, banana']);
    expect(marked(ILSVRC13_DET_CLASSES)).toEqual([
      'apple.jpg: apple',
      'orange.jpg: orange',
      'fruits.jpg: orange, banana',
      'dog.jpg: dog, bicycle',
      'horses.jpg: horse',
      'person.jpg: person, dog, horse',
      'eagle.jpg: bird',
      'giraffe.jpg: zebra',
    ]);
    expect(sampleClassesKnown(SAMPLES[0], null)).toEqual([]);
  });
});
