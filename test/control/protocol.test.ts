import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseControlRequest } from '../../daemon/control/protocol.js';
import { fcOptions } from '../support/fast-check.js';

describe('control socket request parsing', () => {
  it('accepts the documented requests', () => {
    expect(parseControlRequest('{"op":"status"}')).toEqual({ ok: true, request: { op: 'status' } });
    expect(parseControlRequest('{"op":"sim","kind":"card","value":"0004614867"}')).toMatchObject({ ok: true });
    expect(parseControlRequest('{"op":"events"}')).toEqual({ ok: true, request: { op: 'events', limit: 20 } });
    expect(parseControlRequest('{"op":"sim-input","door":"front","input":"contact","action":"open"}')).toMatchObject({ ok: true });
    expect(parseControlRequest('{"op":"sim-input","door":"front","input":"rex","action":"press"}')).toMatchObject({ ok: true });
  });

  it('rejects a sim-input with an unknown input or action', () => {
    expect(parseControlRequest('{"op":"sim-input","door":"front","input":"window","action":"open"}')).toMatchObject({ ok: false, error: expect.stringMatching(/at input/) as unknown });
    expect(parseControlRequest('{"op":"sim-input","door":"front","input":"rex","action":"hold"}')).toMatchObject({ ok: false, error: expect.stringMatching(/at action/) as unknown });
  });

  it('rejects with a reason', () => {
    expect(parseControlRequest('nope')).toEqual({ ok: false, error: 'request is not valid JSON' });
    expect(parseControlRequest('{"op":"open-all-doors"}')).toMatchObject({ ok: false, error: expect.stringMatching(/^invalid request at op/) as unknown });
    expect(parseControlRequest('{"op":"sim","kind":"card","value":""}')).toMatchObject({ ok: false });
    expect(parseControlRequest('{"op":"status","extra":1}')).toMatchObject({ ok: false });
  });

  it('never throws on garbage, and never echoes the garbage back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (line) => {
        const result = parseControlRequest(line);
        if (!result.ok) expect(result.error.length).toBeLessThan(300);
      }),
      fcOptions(2000),
    );
  });
});
