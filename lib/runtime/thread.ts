// The calling thread as Linux sees it (RUNTIME.md §10, §11): its nice value, which it can
// lower, and its CPU time and run-queue wait. On Linux these belong to a thread, not a
// process: setpriority(PRIO_PROCESS, tid) changes just that thread (threads it creates later
// inherit it), and /proc/thread-self is the calling thread's /proc entry. Node has no
// gettid(): /proc/thread-self links to "<pid>/task/<tid>". Elsewhere every function here
// answers undefined and changes nothing.

import fs from 'node:fs'
import os from 'node:os'
import { invalidArgument } from '../errors'

/** The highest nice value (the lowest priority) Linux allows. */
export const niceMax = 19

/** A `nodeNice` option: an integer in [0, niceMax]; KV_INVALID_ARGUMENT otherwise. */
export function checkNodeNice(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > niceMax) {
    throw invalidArgument(`nodeNice must be an integer in [0, ${niceMax}]`, { nodeNice: v })
  }
  return v
}

function threadId(): number | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop())
    return Number.isInteger(tid) && tid > 0 ? tid : undefined
  } catch {
    return undefined
  }
}

/**
 * Raises the calling thread's nice value by `by` (capped at 19). Where it cannot (not Linux,
 * no /proc, refused), the thread runs as before.
 */
export function lowerThreadPriority(by: number): void {
  const tid = by === 0 ? undefined : threadId()
  if (tid === undefined) return
  try {
    os.setPriority(tid, Math.min(niceMax, os.getPriority(tid) + by))
  } catch {
    // refused: run as before
  }
}

/** The calling thread's nice value, undefined where it cannot be read. */
export function threadNice(): number | undefined {
  const tid = threadId()
  if (tid === undefined) return undefined
  try {
    return os.getPriority(tid)
  } catch {
    return undefined
  }
}

export interface ThreadTimes {
  /** When they were read: wall-clock ms (performance.timeOrigin + now(), so that two readings on one thread subtract exactly). */
  readonly atMs: number
  /** Time the thread ran, ms since it started. */
  readonly cpuMs: number
  /** Time it was runnable but waited for a CPU, ms since it started. */
  readonly runQueueWaitMs: number
}

/**
 * The calling thread's times, from /proc/thread-self/schedstat (ns on a CPU, ns runnable but
 * waiting for one, timeslices); undefined where they cannot be read.
 */
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

/**
 * Between two readings of one thread's times: the cores it ran on and the seconds per second
 * it waited for one; undefined unless they span time on one thread (a restarted node's thread
 * starts again from zero).
 */
export function threadShares(from: ThreadTimes, to: ThreadTimes): { cpu: number; runQueueWait: number } | undefined {
  const ms = to.atMs - from.atMs
  if (ms <= 0 || to.cpuMs < from.cpuMs) return undefined
  return { cpu: (to.cpuMs - from.cpuMs) / ms, runQueueWait: (to.runQueueWaitMs - from.runQueueWaitMs) / ms }
}
