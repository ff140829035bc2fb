// An endpoint's doorbell (RUNTIME.md §4): Int32Array(2) in a SharedArrayBuffer, [bell, parked].
// The owner parks with Atomics.waitAsync on `bell`; a sender that has just published records
// rings only when `parked` is set. Both sides store then load sequentially consistent atomics,
// so a wake-up is never lost.

const BELL = 0
const PARKED = 1

// Atomics.waitAsync is in Node 20 but not in the ES2022 lib this project compiles against.
type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> }
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(8)
}

/** The sending side's handle on a peer's doorbell. */
export class DoorbellRemote {
  private readonly i32: Int32Array
  /** Times this side actually rang (the peer was parked): a measure of wake cost. */
  rings = 0

  constructor(sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab)
  }

  /** Call after publishing records. */
  ringIfParked(): void {
    if (Atomics.load(this.i32, PARKED) === 0) return
    Atomics.add(this.i32, BELL, 1)
    Atomics.notify(this.i32, BELL)
    this.rings++
  }
}

/** The owning side: park and unpark. */
export class DoorbellLocal {
  readonly sab: SharedArrayBuffer
  private readonly i32: Int32Array

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab
    this.i32 = new Int32Array(sab)
  }

  /** Step 1 of parking: announce it; returns the bell value to wait on. */
  announce(): number {
    Atomics.store(this.i32, PARKED, 1)
    return Atomics.load(this.i32, BELL)
  }

  unpark(): void {
    Atomics.store(this.i32, PARKED, 0)
  }

  /**
   * Step 3 (after re-checking the rings): waits until the bell moves from `seen`, or
   * `timeoutMs`. Returns undefined if it already moved, else the promise of the wait.
   */
  wait(seen: number, timeoutMs: number): Promise<unknown> | undefined {
    const res = waitAsync(this.i32, BELL, seen, timeoutMs)
    return res.async ? res.value : undefined
  }

  /** Wakes our own wait (close, or a message to ourselves while parked). */
  ring(): void {
    Atomics.add(this.i32, BELL, 1)
    Atomics.notify(this.i32, BELL)
  }

  get parked(): boolean {
    return Atomics.load(this.i32, PARKED) !== 0
  }
}
