// SPDX-License-Identifier: Apache-2.0
//
// bench/control-validate: the config schema's cost at fleet scale, alone
// (node dist/bench/control-validate.js; no balancer, no dataplane). The
// fleet of bench/control (VALIDATE_SERVICES services x VALIDATE_DESTS
// dests) is turned into the input form the way an Apply's services are:
// message-shaped (unset fields as the gRPC decoder fills them), then
// serviceIn. Each of VALIDATE_ROUNDS rounds times serviceIn of every
// message (the conversion an Apply starts with), serviceSchema.safeParse
// of every service (zod's parse), parseValidService of every service (its
// fast form, config/fast.ts: what the ServiceCache does with a service it
// has not seen), the ServiceCache's whole validation of that state from empty
// (the Apply's validate stage: the schema, plus each service's input form,
// texts and claims), and validateDesired of the whole state (the full
// schema). Prints one table.

import { serviceIn } from '../control/src/api/convert';
import type { Dest, Dest__Output } from '../control/src/api/gen/fulcrum/v1/Dest';
import type { Service, Service__Output } from '../control/src/api/gen/fulcrum/v1/Service';
import { parseValidService, serviceSchema } from '../control/src/config/schema';
import { validateDesired } from '../control/src/state/desired';
import { ServiceCache } from '../control/src/state/validated';
import { fleet } from './control-state';
import { since, table, type Row } from './control-table';

const SERVICES = Number(process.env.VALIDATE_SERVICES ?? 10_000);
const DESTS = Number(process.env.VALIDATE_DESTS ?? 8);
const ROUNDS = Number(process.env.VALIDATE_ROUNDS ?? 3);

function destReceived(d: Dest): Dest__Output {
  return { forward: 'FORWARD_MODE_UNSPECIFIED', upper: 0, lower: 0, health_check: null, ...d } as Dest__Output;
}

/** A service as the server's decoder hands it over: unset fields at their proto3 defaults. */
function received(s: Service): Service__Output {
  return {
    forward: 'FORWARD_MODE_UNSPECIFIED', persistence: null, synproxy: false, local_addresses: [],
    client_address: 'CLIENT_ADDRESS_MODE_UNSPECIFIED', health_check: null, passive_check: false, timeouts: null,
    expire_nodest_conn: false, endpoints: [], mh: null, lblc: null,
    ...s,
    dests: (s.dests ?? []).map(destReceived),
  } as Service__Output;
}

function main(): void {
  const messages = (fleet(SERVICES, DESTS).services ?? []).map(received);
  const rows: Row[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    let t = process.hrtime.bigint();
    const inputs = messages.map(serviceIn);
    const converted = since(t);
    t = process.hrtime.bigint();
    const rejected = inputs.filter((s) => !serviceSchema.safeParse(s).success).length;
    const each = since(t);
    if (rejected > 0) throw new Error(`${rejected} of the fleet's services were rejected`);
    t = process.hrtime.bigint();
    const refused = inputs.filter((s) => parseValidService(s) === undefined).length;
    const fast = since(t);
    if (refused > 0) throw new Error(`${refused} of the fleet's services were refused by the fast form`);
    t = process.hrtime.bigint();
    const cached = new ServiceCache({ services: [], snat: [] }).validate({ services: inputs, snat: [] }, []);
    const cache = since(t);
    if (cached.fresh.length !== SERVICES) throw new Error('the cache did not validate every service');
    t = process.hrtime.bigint();
    const desired = validateDesired({ services: inputs, snat: [] }, []);
    rows.push([`${round}`, converted, each, fast, cache, since(t), (each * 1000) / SERVICES, (fast * 1000) / SERVICES]);
    if (desired.services.length !== SERVICES) throw new Error('validateDesired lost services');
  }
  const zod = (require('zod/package.json') as { version: string }).version;
  table([`zod ${zod}, ${SERVICES} services x ${DESTS} dests: round`, 'serviceIn x N ms', 'serviceSchema x N ms', 'fast form x N ms', 'ServiceCache from empty ms', 'validateDesired ms', 'us per service (serviceSchema)', 'us per service (fast form)'], rows);
}

main();
