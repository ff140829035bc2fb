// A compaction-pool thread (piscina): runs one flush or compaction job per task.
import { runTask, type JobResult, type Task } from './jobs'

export default function (task: Task): JobResult {
  return runTask(task)
}
