// CPU-profiles selected workloads of a benchmark in this process (the inspector's Profiler):
// returns an `around(workload, fn)` hook that writes DIR/<job>-<workload>.cpuprofile for each
// workload it wraps. Summarize a file with `node dist/perf/engine/profile_summary.js FILE`.

import fs from 'node:fs'
import path from 'node:path'
import { Session } from 'node:inspector'

export type Around = (workload: string, fn: () => Promise<void>) => Promise<void>

export async function workloadProfiler(dir: string, job: string): Promise<Around> {
  fs.mkdirSync(dir, { recursive: true })
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((res, rej) => session.post(method, params ?? {}, (err, r) => (err ? rej(err) : res(r))))
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 100 })
  return async (workload, fn) => {
    await post('Profiler.start')
    try {
      await fn()
    } finally {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown }
      const file = path.join(dir, `${job}-${workload.replace(/[^a-z0-9]+/gi, '_')}.cpuprofile`)
      fs.writeFileSync(file, JSON.stringify(profile))
      console.log(`  profile of ${workload}: ${file}`)
    }
  }
}
