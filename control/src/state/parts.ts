// SPDX-License-Identifier: Apache-2.0
//
// The state file and its journal are written as lists of byte parts (the
// services' cached JSON as they are, one part each): joining them as text
// first cost more than the edits they save.

/** Appends items to parts with `separator` between each two. */
export function pushJoined(parts: Uint8Array[], items: readonly Uint8Array[], separator: Uint8Array): void {
  items.forEach((item, i) => {
    if (i > 0) parts.push(separator);
    parts.push(item);
  });
}
