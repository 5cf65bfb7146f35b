/**
 * Keeps docs/mqtt-contract.md honest: its embedded JSON Schemas must be what
 * the zod schemas generate, and its examples must validate.
 *
 * To update the document after changing a payload schema:
 *   UPDATE_MQTT_CONTRACT=1 npx vitest run test/uplink/mqtt-contract.test.ts
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commandEventSchema } from '../../daemon/cloud/command-event.js';
import { commandResponseSchema, commandSchema, eventsAckSchema } from '../../daemon/cloud/link-messages.js';
import { envelopeSchema } from '../../daemon/cloud/signed-message.js';
import { deltaSchema, snapshotChunkSchema, snapshotPartSchema, syncRequestSchema, syncStateSchema } from '../../daemon/sync/messages.js';
import { accessEventSchema, alarmEventSchema, checkoutEventSchema, conflictReportSchema, doorEventSchema, gatewayStatusSchema, registrationEventSchema, siteStateSchema } from '../../daemon/uplink/payloads.js';
import { topicNames, topicSpecs } from '../../daemon/uplink/topics.js';

const docPath = fileURLToPath(new URL('../../docs/mqtt-contract.md', import.meta.url));

const schemas = {
  'gatehouse.status/1': gatewayStatusSchema,
  'gatehouse.state/1': siteStateSchema,
  'gatehouse.access/1': accessEventSchema,
  'gatehouse.checkout/1': checkoutEventSchema,
  'gatehouse.conflicts/1': conflictReportSchema,
  'gatehouse.door/1': doorEventSchema,
  'gatehouse.command/1': commandEventSchema,
  'gatehouse.alarm/1': alarmEventSchema,
  'gatehouse.registration/1': registrationEventSchema,
  'gatehouse.cmd-response/1': commandResponseSchema,
  'gatehouse.signed/1': envelopeSchema,
  // Signed payloads (inside gatehouse.signed/1) are named by their `type`.
  'command (signed payload)': commandSchema,
  'events.ack (signed payload)': eventsAckSchema,
  'gatehouse.sync-request/1': syncRequestSchema,
  'gatehouse.sync-state/1': syncStateSchema,
  'sync.snapshot (signed payload)': snapshotChunkSchema,
  'gatehouse.snapshot-part/1': snapshotPartSchema,
  'sync.delta (signed payload)': deltaSchema,
} as const;

type SchemaName = keyof typeof schemas;
const schemaNames = Object.keys(schemas) as SchemaName[];

const generated = (name: SchemaName) => JSON.stringify(z.toJSONSchema(schemas[name]), null, 2);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function schemaBlock(name: SchemaName): RegExp {
  return new RegExp(
    `(<!-- BEGIN GENERATED SCHEMA ${escape(name)} -->\\n\`\`\`json\\n)([\\s\\S]*?)(\\n\`\`\`\\n<!-- END GENERATED SCHEMA ${escape(name)} -->)`,
  );
}

function exampleBlock(name: SchemaName): RegExp {
  return new RegExp(`<!-- EXAMPLE ${escape(name)} -->\\n\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``);
}

if (process.env.UPDATE_MQTT_CONTRACT === '1') {
  let doc = readFileSync(docPath, 'utf8');
  for (const name of schemaNames) {
    if (!schemaBlock(name).test(doc)) throw new Error(`docs/mqtt-contract.md has no schema block for ${name}`);
    doc = doc.replace(schemaBlock(name), (_all, open: string, _old: string, close: string) => `${open}${generated(name)}${close}`);
  }
  writeFileSync(docPath, doc);
}

describe('docs/mqtt-contract.md', () => {
  const doc = readFileSync(docPath, 'utf8');

  it.each(schemaNames)('embeds the JSON Schema generated for %s', (name) => {
    const match = schemaBlock(name).exec(doc);
    expect(match, `no schema block for ${name}`).not.toBeNull();
    expect(
      match?.[2],
      `the JSON Schema of ${name} in docs/mqtt-contract.md is stale; run UPDATE_MQTT_CONTRACT=1 npx vitest run test/uplink/mqtt-contract.test.ts`,
    ).toBe(generated(name));
  });

  it.each(schemaNames)('has an example of %s that validates', (name) => {
    const match = exampleBlock(name).exec(doc);
    expect(match, `no example for ${name}`).not.toBeNull();
    const result = schemas[name].safeParse(JSON.parse(match?.[1] ?? 'null'));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('has a snapshot example whose data is the part example and whose checksum is that data\'s', () => {
    const example = (name: SchemaName): unknown => JSON.parse(exampleBlock(name).exec(doc)?.[1] ?? 'null');
    const chunk = snapshotChunkSchema.parse(example('sync.snapshot (signed payload)'));
    expect(JSON.parse(chunk.data)).toEqual(example('gatehouse.snapshot-part/1'));
    expect(chunk.checksum).toBe(`sha256:${createHash('sha256').update(chunk.data, 'utf8').digest('hex')}`);
  });

  it('lists every topic with its QoS and retain flag', () => {
    for (const name of topicNames) {
      const spec = topicSpecs[name];
      const row = doc.split('\n').find((line) => line.startsWith(`| \`<topicPrefix>/<gatewayId>/${name}\``));
      expect(row, `no table row for ${name}`).toBeDefined();
      const cells = row?.split('|').map((c) => c.trim()) ?? [];
      expect(cells[3]).toBe(String(spec.qos));
      expect(cells[4]).toBe(spec.retain ? 'yes' : 'no');
    }
  });
});
