/** Builders of decision-engine facts for table tests: only what a row cares about is spelt out. */
import type { EntitlementFacts } from '../../daemon/engine/types.js';

export const entitlement = (o: Partial<EntitlementFacts> & Pick<EntitlementFacts, 'id' | 'kind'>): EntitlementFacts => ({
  validFrom: null,
  validTo: null,
  minutesLeft: null,
  monthlyHours: null,
  monthlyCheckins: null,
  doors: null,
  startedAt: null,
  ...o,
});
