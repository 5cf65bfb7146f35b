/** Label values of any content render to one valid, unambiguous sample line. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderMetrics } from '../../daemon/http/prometheus-text.js';
import { fcOptions } from '../support/fast-check.js';

const SAMPLE = /^m\{id="((?:[^"\\\n]|\\["\\n])*)"\} (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|NaN|\+Inf|-Inf)$/;

describe('renderMetrics', () => {
  it('escapes backslash, quote and newline in label values', () => {
    const text = renderMetrics([{ name: 'm', help: 'a\nb', type: 'gauge', samples: [{ labels: { id: 'x"y\\z\nw' }, value: 2 }] }]);
    expect(text).toBe('# HELP m a\\nb\n# TYPE m gauge\nm{id="x\\"y\\\\z\\nw"} 2\n');
  });

  it('any label value gives a sample line that parses back to it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.double(), (id, value) => {
        const line = renderMetrics([{ name: 'm', help: 'h', type: 'gauge', samples: [{ labels: { id }, value }] }]).split('\n')[2] ?? '';
        const m = SAMPLE.exec(line);
        expect(m).not.toBeNull();
        const back = (m?.[1] ?? '').replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
        expect(back).toBe(id);
      }),
      fcOptions(500),
    );
  });
});
