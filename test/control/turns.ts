// SPDX-License-Identifier: Apache-2.0
//
// For tests of work done in slices: how many times the event loop turns
// while a promise is pending.

/** Awaits `work`, counting the event loop's turns meanwhile. */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { result: await work(), turns };
  } finally {
    counting = false;
  }
}
