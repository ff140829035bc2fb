// Benchmark of the actor runtime (perf/README.md, "Runtime"): an echo actor on node workers,
// one-at-a-time round-trip latency and throughput with 1/10/100/1000 requests in flight on
// 1, 2 and 4 workers; the same echo over postMessage, comlink and piscina in the same run.
// Results: perf/results/runtime.json. This file is also the peers' worker script (roles).

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import os from 'node:os'
import * as Comlink from 'comlink'
import nodeEndpoint from 'comlink/dist/umd/node-adapter'
import { Piscina } from 'piscina'
import { ECHO_ACTOR, Runtime, type Message } from '../lib/runtime'
import { KvError } from '../lib/errors'
import { addLatencies, Report } from './lib/report'

const PAYLOAD_BYTES = 32
const quick = process.argv.includes('--quick')
const RTT_SAMPLES = quick ? 5_000 : 20_000
const RTT_MS_MAX = quick ? 2_000 : 5_000
const TPUT_MS = quick ? 400 : 1_000
const INFLIGHT = [1, 10, 100, 1000]
const WORKERS = [1, 2, 4]

/** The peers' echo, for piscina (a named export of this file). */
export function piscinaEcho(x: Uint8Array): Uint8Array {
  return x
}

type AsyncEcho = (payload: Uint8Array) => Promise<unknown>

/** One-at-a-time round trips; bounded in samples and time. */
async function rtt(echo: AsyncEcho): Promise<number[]> {
  const payload = new Uint8Array(PAYLOAD_BYTES)
  for (let i = 0; i < 1000; i++) await echo(payload)
  const out: number[] = []
  const until = performance.now() + RTT_MS_MAX
  while (out.length < RTT_SAMPLES && performance.now() < until) {
    const t0 = performance.now()
    await echo(payload)
    out.push((performance.now() - t0) * 1000)
  }
  return out
}

/** Keeps `inflight` promises going for TPUT_MS; returns completions per second. */
async function throughputAsync(echo: AsyncEcho, inflight: number): Promise<number> {
  const payload = new Uint8Array(PAYLOAD_BYTES)
  let done = 0
  let stop = false
  const lane = async (): Promise<void> => {
    while (!stop) {
      await echo(payload)
      done++
    }
  }
  const t0 = performance.now()
  const timer = setTimeout(() => (stop = true), TPUT_MS)
  await Promise.all(Array.from({ length: inflight }, lane))
  clearTimeout(timer)
  return done / ((performance.now() - t0) / 1000)
}

/** Ringwood's pipelined path: the callback API, one shared callback, no Promise per request. */
function throughputRingwood(rt: Runtime, workers: number, inflight: number): Promise<number> {
  const ep = rt.endpoint
  const payload = new Uint8Array(PAYLOAD_BYTES)
  let done = 0
  let outstanding = 0
  let stop = false
  let next = 0
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const issue = (): void => {
      outstanding++
      next = next === workers ? 1 : next + 1
      ep.request(next, ECHO_ACTOR, 1, payload, cb)
    }
    const cb = (err: KvError | undefined, _res: Message | undefined): void => {
      outstanding--
      if (err !== undefined) return reject(err)
      done++
      if (!stop) issue()
      else if (outstanding === 0) resolve(done / ((performance.now() - t0) / 1000))
    }
    for (let i = 0; i < inflight; i++) issue()
    setTimeout(() => (stop = true), TPUT_MS)
  })
}

async function benchRingwood(report: Report, rttOut: { p50: number }, tput: Map<string, number>): Promise<void> {
  for (const workers of WORKERS) {
    const rt = await Runtime.start({ nodes: workers })
    if (workers === 1) {
      const samples = await rtt((p) => rt.endpoint.requestAsync(1, ECHO_ACTOR, 1, p))
      addLatencies(report, 'echo_rtt_one_at_a_time', 'ringwood', samples)
      rttOut.p50 = [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
    }
    for (const inflight of INFLIGHT) {
      await throughputRingwood(rt, workers, inflight) // warm-up
      const v = await throughputRingwood(rt, workers, inflight)
      tput.set(`${workers}/${inflight}`, v)
      report.add(`echo_inflight${inflight}_w${workers}`, 'ringwood', 'ops_per_s', Math.round(v))
    }
    await rt.close()
  }
}

async function benchPostMessage(report: Report): Promise<number> {
  let p50 = NaN
  for (const workers of WORKERS) {
    const ws = Array.from({ length: workers }, () => new Worker(__filename, { workerData: { role: 'postmessage' } }))
    // Requests carry an id; each worker answers in order, so a FIFO of resolvers per worker suffices.
    const waiting = ws.map(() => [] as ((v: unknown) => void)[])
    ws.forEach((w, i) => w.on('message', (m) => waiting[i]!.shift()!(m)))
    let k = 0
    const echo: AsyncEcho = (p) => new Promise((resolve) => {
      const i = k++ % workers
      waiting[i]!.push(resolve)
      ws[i]!.postMessage(p)
    })
    if (workers === 1) {
      const s = await rtt(echo)
      addLatencies(report, 'echo_rtt_one_at_a_time', 'postMessage', s)
      p50 = [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)]!
    }
    for (const inflight of INFLIGHT) report.add(`echo_inflight${inflight}_w${workers}`, 'postMessage', 'ops_per_s', Math.round(await throughputAsync(echo, inflight)))
    await Promise.all(ws.map((w) => w.terminate()))
  }
  return p50
}

async function benchComlink(report: Report): Promise<void> {
  const w = new Worker(__filename, { workerData: { role: 'comlink' } })
  const api = Comlink.wrap<{ echo(x: Uint8Array): Uint8Array }>(nodeEndpoint(w as never))
  const echo: AsyncEcho = (p) => api.echo(p)
  addLatencies(report, 'echo_rtt_one_at_a_time', 'comlink', await rtt(echo))
  for (const inflight of INFLIGHT) report.add(`echo_inflight${inflight}_w1`, 'comlink', 'ops_per_s', Math.round(await throughputAsync(echo, inflight)))
  api[Comlink.releaseProxy]()
  await w.terminate()
}

async function benchPiscina(report: Report): Promise<void> {
  for (const workers of WORKERS) {
    const pool = new Piscina({ filename: __filename, name: 'piscinaEcho', minThreads: workers, maxThreads: workers })
    const echo: AsyncEcho = (p) => pool.run(p)
    if (workers === 1) addLatencies(report, 'echo_rtt_one_at_a_time', 'piscina', await rtt(echo))
    for (const inflight of INFLIGHT) report.add(`echo_inflight${inflight}_w${workers}`, 'piscina', 'ops_per_s', Math.round(await throughputAsync(echo, inflight)))
    await pool.destroy()
  }
}

async function main(): Promise<void> {
  const report = new Report('runtime')
  console.log(`runtime benchmark: echo of ${PAYLOAD_BYTES} bytes, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  const mine = { p50: NaN }
  const tput = new Map<string, number>()
  await benchRingwood(report, mine, tput)
  const pmP50 = await benchPostMessage(report)
  await benchComlink(report)
  await benchPiscina(report)
  const best1000 = Math.max(...WORKERS.map((w) => tput.get(`${w}/1000`) ?? 0))
  const targets = {
    echo_1000_in_flight_ops_per_s: { value: Math.round(best1000), target: '>= 5000000', met: best1000 >= 5e6 },
    rtt_p50_vs_postMessage: { value: +(mine.p50 / pmP50).toFixed(3), target: '<= 0.6', met: mine.p50 / pmP50 <= 0.6 },
    w4_vs_w2_at_1000_in_flight: {
      value: +((tput.get('4/1000') ?? 0) / (tput.get('2/1000') ?? 1)).toFixed(3),
      target: '>= 0.8',
      met: (tput.get('4/1000') ?? 0) / (tput.get('2/1000') ?? 1) >= 0.8,
    },
  }
  report.printTable()
  console.log('\ntargets:')
  for (const [k, v] of Object.entries(targets)) console.log(`  ${k.padEnd(34)} ${String(v.value).padStart(12)}  target ${v.target.padEnd(12)} ${v.met ? 'met' : 'NOT met'}`)
  console.log(`\nwrote ${report.write({ targets, loadAverageAtEnd: os.loadavg() })}`)
}

if (isMainThread) {
  if (require.main === module) {
    main().catch((err) => {
      console.error(err)
      process.exit(1)
    })
  }
} else if ((workerData as { role?: string } | null)?.role === 'postmessage') {
  parentPort!.on('message', (m) => parentPort!.postMessage(m))
} else if ((workerData as { role?: string } | null)?.role === 'comlink') {
  Comlink.expose({ echo: (x: Uint8Array) => x }, nodeEndpoint(parentPort as never))
}
