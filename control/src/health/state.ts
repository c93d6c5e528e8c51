// SPDX-License-Identifier: Apache-2.0
//
// The rise/fall state machine of one dest, as keepalived and ldirectord
// have it: a healthy dest fails after `fall` consecutive failed checks, a
// failed one is healthy again after `rise` consecutive good ones. A single
// result against the trend resets the count, so a flapping dest changes
// state only when it is consistently up or down.

export interface HealthState {
  healthy: boolean;
  /** Consecutive results that disagree with `healthy`, towards a change. */
  streak: number;
}

/** The state after one check result; pure. */
export function nextState(state: HealthState, ok: boolean, rise: number, fall: number): HealthState {
  if (ok === state.healthy) return { healthy: state.healthy, streak: 0 };
  const streak = state.streak + 1;
  const needed = state.healthy ? fall : rise;
  return streak >= needed ? { healthy: ok, streak: 0 } : { healthy: state.healthy, streak };
}
