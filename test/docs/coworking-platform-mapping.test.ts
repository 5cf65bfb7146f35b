/**
 * Keeps docs/coworking-platform-mapping.md in step with the data set: its
 * worked example must be a person record the gateway accepts, and every
 * PersonRecord, CredentialRecord and EntitlementRecord field must be mapped.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { credentialRecordSchema, entitlementRecordSchema, personRecordSchema } from '../../daemon/sync/dataset.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/coworking-platform-mapping.md', import.meta.url)), 'utf8');

describe('docs/coworking-platform-mapping.md', () => {
  it('has a worked example that is a valid person record', () => {
    const example = /## 8\. Worked example[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(example, 'no JSON example in section 8').toBeDefined();
    const result = personRecordSchema.safeParse(JSON.parse(example ?? 'null'));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it.each([
    ['PersonRecord', Object.keys(personRecordSchema.shape)],
    ['CredentialRecord', Object.keys(credentialRecordSchema.shape)],
    ['EntitlementRecord', Object.keys(entitlementRecordSchema.shape)],
  ])('mentions every %s field', (_name, fields) => {
    for (const field of fields) expect(doc, `field ${field}`).toContain(`\`${field}\``);
  });
});
