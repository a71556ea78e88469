import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { progressFillStyle } from './ProgressBar';

describe('progress bar fill', () => {
  it('is a scale of the fraction done, not a width (an update then changes no layout)', () => {
    expect(progressFillStyle(500, 2000)).toEqual({ transform: 'scaleX(0.250)' });
    expect(progressFillStyle(3, 2)).toEqual({ transform: 'scaleX(1.000)' });
    expect(progressFillStyle(0, 0)).toEqual({ transform: 'scaleX(0.000)' });
  });

  it('is not animated: a transition restarted by every update kept the main thread painting', () => {
    const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');
    const rule = /\.progress-fill\s*\{([^}]*)\}/.exec(css)?.[1] ?? '';
    expect(rule).toContain('transform-origin');
    expect(rule).not.toMatch(/transition|animation/);
  });
});

describe('progress bar placement', () => {
  it('takes no room in the wide layout: showing it does not resize the viewer (which redraws the photo)', () => {
    const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');
    const wide = css.split('@media')[0];
    const rule = /\.app-footer > \.progress\s*\{([^}]*)\}/.exec(wide)?.[1] ?? '';
    expect(rule).toMatch(/position:\s*absolute/);
    expect(rule).toMatch(/bottom:\s*100%/);
    expect(/\.app-footer\s*\{([^}]*)\}/.exec(wide)?.[1] ?? '').toMatch(/position:\s*relative/);
  });
});
