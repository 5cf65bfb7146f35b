import { describe, expect, it } from 'vitest';
import { parseControlRequest } from '../../daemon/control/protocol.js';

describe('control socket: sync operations', () => {
  it('accepts an import of an absolute path, status and a snapshot request', () => {
    expect(parseControlRequest('{"op":"sync-import","path":"/var/lib/gatehouse/site.jsonl"}')).toEqual({ ok: true, request: { op: 'sync-import', path: '/var/lib/gatehouse/site.jsonl', force: false } });
    expect(parseControlRequest('{"op":"sync-import","path":"/x.jsonl","force":true}')).toMatchObject({ ok: true, request: { force: true } });
    expect(parseControlRequest('{"op":"sync-status"}')).toEqual({ ok: true, request: { op: 'sync-status' } });
    expect(parseControlRequest('{"op":"sync-request"}')).toEqual({ ok: true, request: { op: 'sync-request' } });
  });

  it('refuses a relative path (the daemon does not share the caller\'s directory) and unknown fields', () => {
    expect(parseControlRequest('{"op":"sync-import","path":"site.jsonl"}')).toMatchObject({ ok: false, error: expect.stringContaining('absolute path') as unknown });
    expect(parseControlRequest('{"op":"sync-request","reason":"boot"}')).toMatchObject({ ok: false });
  });
});
