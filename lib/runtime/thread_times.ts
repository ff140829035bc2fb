// CPU time and run-queue wait of the calling thread, from Linux's /proc/thread-self/schedstat
// (nanoseconds on a CPU, nanoseconds runnable but waiting for one, timeslices): how much of a
// core a thread got, and how long it was ready to run but did not (RUNTIME.md §10, §11).

import fs from 'node:fs'

export interface ThreadTimes {
  /** When they were read: wall-clock ms (performance.timeOrigin + now(), so that two readings on one thread subtract exactly). */
  readonly atMs: number
  /** Time the thread ran, ms since it started. */
  readonly cpuMs: number
  /** Time it was runnable but waited for a CPU, ms since it started. */
  readonly runQueueWaitMs: number
}

/** The calling thread's times; undefined where they cannot be read (not Linux, no schedstat). */
export function threadTimes(): ThreadTimes | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    const [cpu, wait] = fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')
    const cpuMs = Number(cpu) / 1e6
    const runQueueWaitMs = Number(wait) / 1e6
    const atMs = performance.timeOrigin + performance.now()
    return Number.isFinite(cpuMs) && Number.isFinite(runQueueWaitMs) ? { atMs, cpuMs, runQueueWaitMs } : undefined
  } catch {
    return undefined
  }
}
