// Lowers the scheduling priority of the calling thread (RUNTIME.md §11). On Linux the nice
// value belongs to a thread, not a process: setpriority(PRIO_PROCESS, tid) changes just that
// thread, and threads it creates later inherit it. Node has no gettid(); /proc/thread-self
// names the calling thread as "<pid>/task/<tid>".

import fs from 'node:fs'
import os from 'node:os'

/** The highest nice value (the lowest priority) Linux allows. */
export const niceMax = 19

/**
 * Raises the calling thread's nice value by `by` (capped at 19) and returns the new value;
 * undefined where it cannot (not Linux, no /proc, refused): the thread then runs as before.
 */
export function lowerThreadPriority(by: number): number | undefined {
  if (by === 0 || process.platform !== 'linux') return undefined
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop())
    if (!Number.isInteger(tid) || tid <= 0) return undefined
    const nice = Math.min(niceMax, os.getPriority(tid) + by)
    os.setPriority(tid, nice)
    return os.getPriority(tid)
  } catch {
    return undefined
  }
}

/** The calling thread's nice value, undefined where it cannot be read. */
export function threadNice(): number | undefined {
  if (process.platform !== 'linux') return undefined
  try {
    return os.getPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()))
  } catch {
    return undefined
  }
}
