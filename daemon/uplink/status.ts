/**
 * The retained `status` payload (online on every connect, offline as the Last
 * Will and on graceful stop).
 */
import type { DeviceAvailability, GatewayStatus } from './payloads.js';

/** Who is speaking: fixed for the lifetime of one daemon run. */
export interface GatewayIdentity {
  readonly gatewayId: string;
  readonly siteId: string;
  /** Random id of this daemon run; a new bootId on `online` means the gateway restarted. */
  readonly bootId: string;
  readonly version: string;
}

export function buildStatus(
  identity: GatewayIdentity,
  state: GatewayStatus['state'],
  at: Date,
  devices?: readonly DeviceAvailability[],
): GatewayStatus {
  return {
    ...(devices === undefined ? {} : { devices: [...devices] }),
    schema: 'gatehouse.status/1',
    state,
    gatewayId: identity.gatewayId,
    siteId: identity.siteId,
    bootId: identity.bootId,
    version: identity.version,
    ts: at.toISOString(),
  };
}
