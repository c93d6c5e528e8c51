// SPDX-License-Identifier: Apache-2.0
//
// When checks run, over every dest. Two bounds:
//
// - At most `max` in flight. A check holds a socket from its start to its
//   end, and its end is only seen when the control thread gets to it: at
//   80,000 dests checked every 2 s the thread falls behind, and the
//   sockets of checks it had not caught up with piled up until the
//   process ran out of file descriptors, which then failed the API's
//   state-file writes too (bench/control-health found it).
// - At most `perTurn` started per turn of the event loop. What a check
//   costs the thread is mostly its start and its end, and the ends of the
//   checks started in one turn come in together in a later one; every
//   API call waits behind the turns it spans. With 1,024 started at once
//   GetService's p50 was 180 ms while the checks asked more than the
//   thread did; with a few dozen a turn, the thread does as many checks a
//   second and serves calls between them. Slow and dead dests' checks
//   still wait in flight up to `max` without costing the thread.
//
// The rest wait their turn: first come first served within a group (a
// service), the groups with checks waiting taking turns. First come first
// served over every dest let one service's dead dests, whose checks hold
// their places for the whole timeout, queue every other service's checks
// behind theirs (a rack of 4,000 dests down at a 2 s interval wants 2,000
// places for its 1 s timeouts); taking turns, the dead service's checks
// stretch and the others' go on. A waiter whose prober stopped meanwhile
// gives up its place without a start. A check's timeout starts when it
// runs, so waiting stretches intervals and never fails a dest.

/** control.health.max_in_flight's default. */
export const DEFAULT_MAX_IN_FLIGHT = 1024;
/** Checks started per turn of the event loop. */
export const STARTS_PER_TURN = 32;

interface Waiter {
  /** true: its turn, counted; false: it gave up its place. */
  wake: (run: boolean) => void;
  cancelled: () => boolean;
}

/** One group's waiters, oldest first from head. */
class Queue {
  readonly waiters: Waiter[] = [];
  head = 0;

  take(): Waiter {
    const w = this.waiters[this.head++];
    // An array shifted from the front is a copy per shift: drop the taken part in one go now and then.
    if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
    return w;
  }

  get empty(): boolean {
    return this.head === this.waiters.length;
  }
}

export class CheckLimiter {
  private running = 0;
  private startedThisTurn = 0;
  private turnEnds = false;
  /** The groups with waiters, in turn order (a Map keeps insertion order: a group re-added goes last). */
  private readonly queues = new Map<string, Queue>();
  private waiters = 0;

  constructor(
    readonly max: number,
    readonly perTurn = STARTS_PER_TURN,
  ) {}

  /** Checks running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Checks waiting for a turn. */
  get waiting(): number {
    return this.waiters;
  }

  /**
   * Runs task once the bounds allow, and settles as it does; undefined,
   * task never run, when cancelled() says so by then. Waiters of one
   * group start in order; groups with waiters take turns.
   */
  async run<T>(task: () => Promise<T>, cancelled: () => boolean = () => false, group = ''): Promise<T | undefined> {
    if (this.waiters === 0 && this.mayStart()) this.start();
    else if (!(await new Promise<boolean>((wake) => this.enqueue(group, { wake, cancelled })))) return undefined;
    try {
      return await task();
    } finally {
      this.running--;
      this.drain();
    }
  }

  private mayStart(): boolean {
    return this.running < this.max && this.startedThisTurn < this.perTurn;
  }

  /** Counts a start; the first of a turn arranges for the turn's end. */
  private start(): void {
    this.running++;
    if (this.startedThisTurn++ === 0 && !this.turnEnds) {
      this.turnEnds = true;
      // setImmediate runs after this turn's I/O: the next turn starts more.
      setImmediate(() => {
        this.turnEnds = false;
        this.startedThisTurn = 0;
        this.drain();
      });
    }
  }

  private enqueue(group: string, w: Waiter): void {
    let q = this.queues.get(group);
    if (q === undefined) {
      q = new Queue();
      this.queues.set(group, q);
    }
    q.waiters.push(w);
    this.waiters++;
  }

  /** The oldest waiter of the group whose turn it is; the group goes to the back of the line. */
  private next(): Waiter {
    const [group, q] = this.queues.entries().next().value as [string, Queue];
    const w = q.take();
    this.waiters--;
    this.queues.delete(group);
    if (!q.empty) this.queues.set(group, q);
    return w;
  }

  /** Starts waiting checks while the bounds allow. */
  private drain(): void {
    while (this.waiters > 0 && this.mayStart()) {
      const w = this.next();
      if (w.cancelled()) {
        w.wake(false);
        continue;
      }
      this.start();
      w.wake(true);
    }
  }
}
