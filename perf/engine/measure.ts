// Measuring helpers of the engine benchmark: the write window (N writes in flight, in groups),
// time-capped loops, bytes on disk (du), bytes this process sent to storage (/proc/self/io).

import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

export interface DriveResult {
  /** Operations acknowledged. */
  ops: number
  seconds: number
  /** CPU time of the whole process (every thread: compaction pool, GC, libuv) meanwhile. */
  cpuSeconds: number
  /** One latency per group (a batch or a single put), microseconds, issue to acknowledgement. */
  latenciesUs: Float64Array
}

/**
 * Issues `n` operations as groups of `groupOps` (a batch, or 1 for single puts) with at most
 * `inFlightOps` operations outstanding: `inFlightOps / groupOps` lanes, each issuing its next
 * group as soon as its previous one is acknowledged. Stops issuing after `deadlineMs` if given.
 */
export async function drive(
  n: number,
  inFlightOps: number,
  groupOps: number,
  issue: (from: number, to: number) => Promise<unknown>,
  deadlineMs = Infinity,
): Promise<DriveResult> {
  const lanes = Math.max(1, Math.floor(inFlightOps / groupOps))
  const lat = new Float64Array(Math.ceil(n / groupOps))
  let next = 0
  let groups = 0
  let ops = 0
  const c0 = cpuSeconds()
  const t0 = performance.now()
  const deadline = t0 + deadlineMs
  const lane = async (): Promise<void> => {
    for (;;) {
      const from = next
      if (from >= n) return
      const t = performance.now()
      if (t > deadline) return
      const to = Math.min(n, from + groupOps)
      next = to
      await issue(from, to)
      lat[groups++] = (performance.now() - t) * 1000
      ops += to - from
    }
  }
  const all: Promise<void>[] = []
  for (let i = 0; i < lanes; i++) all.push(lane())
  await Promise.all(all)
  return { ops, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds() - c0, latenciesUs: lat.subarray(0, groups) }
}

/** Runs `op(i)` for i = 0.. until `n` or `capS` seconds; returns ops and seconds. */
export function loopSync(n: number, capS: number, op: (i: number) => void): Timed {
  const c0 = cpuSeconds()
  const t0 = performance.now()
  const deadline = t0 + capS * 1000
  let i = 0
  while (i < n) {
    const end = Math.min(n, i + 1024)
    for (; i < end; i++) op(i)
    if (performance.now() > deadline) break
  }
  return { ops: i, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds() - c0 }
}

export async function loopAsync(n: number, capS: number, step: number, op: (i: number) => Promise<void>): Promise<Timed> {
  const c0 = cpuSeconds()
  const t0 = performance.now()
  const deadline = t0 + capS * 1000
  let i = 0
  while (i < n) {
    await op(i)
    i += step
    if ((i & 255) < step && performance.now() > deadline) break
  }
  return { ops: Math.min(i, n), seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSeconds() - c0 }
}

/** Like `du -s --bytes`'s allocated counterpart: st_blocks × 512 over every file under dir. */
export function duBytes(dir: string): number {
  let total = 0
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name)
    const st = fs.statSync(p)
    total += st.isDirectory() ? duBytes(p) : st.blocks * 512
  }
  return total
}

/** Bytes this process caused to be written to storage (Linux /proc/self/io; 0 elsewhere). */
export function ioWriteBytes(): number {
  try {
    const s = fs.readFileSync('/proc/self/io', 'latin1')
    const w = /write_bytes: (\d+)/.exec(s)
    const c = /cancelled_write_bytes: (\d+)/.exec(s)
    return Number(w?.[1] ?? 0) - Number(c?.[1] ?? 0)
  } catch {
    return 0
  }
}

export interface Timed {
  ops: number
  seconds: number
  cpuSeconds: number
}

/** User + system CPU seconds of this process so far (all threads). */
export function cpuSeconds(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

export function opsPerS(r: { ops: number; seconds: number }): number {
  return Math.round(r.ops / r.seconds)
}

/** Operations per CPU second of the whole process: less sensitive to other load on the machine. */
export function opsPerCpuS(r: Timed): number {
  return Math.round(r.ops / r.cpuSeconds)
}
