// SPDX-License-Identifier: Apache-2.0
//
// Stable ids for services and dests. The dataplane indexes per-worker
// statistics, connection counts and scheduler state by id, so an id must
// stay the same while its service or dest exists, and a dest's id must not
// be handed to another dest while connections still count against it.
// Ids of removed entries therefore drain first and are reused only once
// the caller says they are idle.

/** What an assign changed, so that undo() can take it back. */
interface Undo {
  ids: Map<string, number>;
  keys: readonly string[] | undefined;
  groups: readonly (readonly string[])[] | undefined;
  /** Free ids it handed out, in the order taken. */
  taken: number[];
  nextBefore: number;
  /** Ids it set draining. */
  drained: number[];
  /** A regroup's changes to ids in place: the keys it added, and those it removed with their ids. */
  added: string[];
  removed: [string, number][];
}

export class IdAllocator {
  // Handed out: assign() replaces it, a regroup changes it in place.
  private ids = new Map<string, number>();
  /** The keys ids was made for, in order (undefined: by a regroup, which makes no list). */
  private keys: readonly string[] | undefined = [];
  /** The groups ids was made for, when assignGroups() made it. */
  private groups: readonly (readonly string[])[] | undefined;
  private readonly draining = new Set<number>();
  private readonly free: number[] = [];
  private next = 0;
  /** The last assign, until commit(). */
  private pending: Undo | undefined;

  constructor(
    private readonly limit: number,
    private readonly what: string,
  ) {}

  /**
   * Ids for exactly these keys: existing keys keep theirs, new keys get a
   * free one, keys no longer present start draining. Throws (changing
   * nothing) when the ids would run out. The map returned is the
   * allocator's own and stays as it is (the next assign makes another,
   * unless the keys are those of the last one: then it is the same map;
   * assignGroups() changes its map in place).
   * keys must not change after the call. Until commit(), undo() takes
   * the assign back (the ids it handed out, the keys it set draining).
   */
  assign(keys: readonly string[], isIdle: (id: number) => boolean): ReadonlyMap<string, number> {
    this.reclaim(isIdle);
    const undo = this.undoRecord();
    this.pending = undefined;
    this.groups = undefined;
    // A reweight or a health verdict keeps every key: at 80,000 dests a
    // new map cost each such publication ~25 ms, the comparison (the
    // strings mostly the very same) well under one.
    if (sameKeys(keys, this.keys)) {
      this.pending = undo;
      return this.ids;
    }
    const next = new Map<string, number>();
    // New keys take ids as they come (one map insertion each: an Apply
    // from empty has 80,000), given back when the ids run out.
    let fresh = 0;
    for (const key of keys) {
      let id = this.ids.get(key);
      if (id === undefined) {
        if (next.has(key)) continue;
        id = this.take(undo.taken);
        if (id === undefined) {
          this.giveBack(undo);
          throw this.tooMany();
        }
        fresh++;
      }
      next.set(key, id);
    }
    // Every key kept is one of ids: when as many were kept as ids holds, none left.
    if (next.size - fresh < this.ids.size) {
      for (const [key, id] of this.ids) {
        if (next.has(key)) continue;
        this.draining.add(id);
        undo.drained.push(id);
      }
    }
    this.ids = next;
    this.keys = keys;
    this.pending = undo;
    return next;
  }

  /** The last assign's ids are in use (the dataplane took them): undo() no longer takes them back. */
  commit(): void {
    this.pending = undefined;
  }

  /**
   * Takes back the last assign since commit(), if any: the ids, keys and
   * draining ids are as before it (a publication the dataplane refused
   * must leave every id as the running snapshot has it). Ids it found
   * idle stay free.
   */
  undo(): void {
    const undo = this.pending;
    if (undo === undefined) return;
    this.pending = undefined;
    for (const key of undo.added) undo.ids.delete(key);
    for (const [key, id] of undo.removed) undo.ids.set(key, id);
    this.ids = undo.ids;
    this.keys = undo.keys;
    this.groups = undo.groups;
    for (const id of undo.drained) this.draining.delete(id);
    this.giveBack(undo);
  }

  private tooMany(): Error {
    return new Error(`too many ${this.what}s: at most ${this.limit} (raise dataplane.max_${this.what}s)`);
  }

  /** A free id (noted in taken), else the next unused one, else undefined. */
  private take(taken: number[]): number | undefined {
    const id = this.free.pop();
    if (id !== undefined) {
      taken.push(id);
      return id;
    }
    return this.next < this.limit ? this.next++ : undefined;
  }

  /** Gives the ids an assign took back: free ones in order, next as it was. */
  private giveBack(undo: Undo): void {
    for (let i = undo.taken.length - 1; i >= 0; i--) this.free.push(undo.taken[i]);
    this.next = undo.nextBefore;
  }

  /** An Undo of nothing yet: the state now. */
  private undoRecord(): Undo {
    return { ids: this.ids, keys: this.keys, groups: this.groups, taken: [], nextBefore: this.next, drained: [], added: [], removed: [] };
  }

  /**
   * assign() of the groups' keys, in order (a service's dest keys, made
   * once per config object; a key is in one group only). Groups that are
   * the very arrays of the last call, or hold the same keys, are compared
   * as such: a publication at 80,000 dests that keeps every dest makes no
   * list of 80,000 keys. After a first call, when most groups are kept,
   * only those that came and went are visited, and the map is changed in
   * place (regroup): read it at once, not across a later assign.
   */
  assignGroups(groups: readonly (readonly string[])[], isIdle: (id: number) => boolean): ReadonlyMap<string, number> {
    if (this.groups !== undefined && sameGroups(groups, this.groups)) {
      this.reclaim(isIdle);
      this.pending = this.undoRecord();
      return this.ids;
    }
    if (this.groups !== undefined) {
      const edit = groupEdit(this.groups, groups);
      // Most groups changed (an Apply from empty, or to empty): one new map
      // of every key costs less than a change in place per key.
      if (2 * (edit.gone.length + edit.came.length) < this.groups.length + groups.length) return this.regroup(groups, edit, isIdle);
    }
    const ids = this.assign(flatten(groups), isIdle);
    this.groups = groups;
    return ids;
  }

  /**
   * assignGroups() by the groups that changed: an edit of a few services
   * of 10,000 visits their dests, not 80,000 (a new map of them all cost
   * such an Apply ~80 ms). A group that is another array with the same
   * keys leaves and comes back: its keys keep their ids.
   */
  private regroup(groups: readonly (readonly string[])[], edit: GroupEdit, isIdle: (id: number) => boolean): ReadonlyMap<string, number> {
    this.reclaim(isIdle);
    const undo = this.undoRecord();
    this.pending = undefined;
    const gone = new Map<string, number>();
    for (const g of edit.gone) {
      for (const key of g) {
        const id = this.ids.get(key);
        if (id === undefined) continue;
        this.ids.delete(key);
        gone.set(key, id);
        undo.removed.push([key, id]);
      }
    }
    for (const g of edit.came) {
      for (const key of g) {
        if (this.ids.has(key)) continue;
        let id = gone.get(key);
        if (id !== undefined) gone.delete(key);
        else id = this.take(undo.taken);
        if (id === undefined) {
          this.pending = undo;
          this.undo();
          throw this.tooMany();
        }
        this.ids.set(key, id);
        undo.added.push(key);
      }
    }
    for (const id of gone.values()) {
      this.draining.add(id);
      undo.drained.push(id);
    }
    this.keys = undefined;
    this.groups = groups;
    this.pending = undo;
    return this.ids;
  }

  private reclaim(isIdle: (id: number) => boolean): void {
    for (const id of this.draining) {
      if (!isIdle(id)) continue;
      this.draining.delete(id);
      this.free.push(id);
    }
  }
}

/** The groups of `to` that are not (the very arrays) in `from`, and those of `from` not in `to`. */
interface GroupEdit {
  came: (readonly string[])[];
  gone: (readonly string[])[];
}

function groupEdit(from: readonly (readonly string[])[], to: readonly (readonly string[])[]): GroupEdit {
  // Position by position first: an edit leaves the other services where
  // they were, and two sets of 10,000 arrays cost a dest edit 5-10 ms.
  // What differs in place (everything after an insertion, say) is then
  // matched by identity.
  const came: (readonly string[])[] = [];
  const gone: (readonly string[])[] = [];
  const n = Math.max(from.length, to.length);
  for (let i = 0; i < n; i++) {
    if (from[i] === to[i]) continue;
    if (i < to.length) came.push(to[i]);
    if (i < from.length) gone.push(from[i]);
  }
  if (came.length === 0 || gone.length === 0) return { came, gone };
  const before = new Set(gone);
  const after = new Set(came);
  return { came: came.filter((g) => !before.has(g)), gone: gone.filter((g) => !after.has(g)) };
}

function sameKeys(a: readonly string[], b: readonly string[] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameGroups(a: readonly (readonly string[])[], b: readonly (readonly string[])[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !sameKeys(a[i], b[i])) return false;
  return true;
}

/** The groups' keys as one list. A loop: flat() over 10,000 groups cost ten times as much. */
function flatten(groups: readonly (readonly string[])[]): string[] {
  let n = 0;
  for (const g of groups) n += g.length;
  const out = new Array<string>(n);
  let i = 0;
  for (const g of groups) for (const key of g) out[i++] = key;
  return out;
}
