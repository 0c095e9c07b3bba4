export {
  defineJob,
  deadLetterQueueOf,
  isDeadLetterQueue,
  JOBS,
  ScheduledRun,
  type CoreJobName,
  type CoreJobs,
  type JobDefinition,
  type JobName,
  type JobPayload,
  type JobPayloadInput,
  type JobRegistry,
  type QueuePolicy,
} from './definitions.ts';
export {
  createJobQueue,
  JOBS_SCHEMA,
  type Executor,
  type FetchedJob,
  type JobQueue,
  type JobQueueOptions,
  type JobRecord,
  type SendOptions,
} from './queue.ts';
export { effectKeyOf, performEffect, performExternalEffect, type EffectIdentity, type EffectOutcome } from './effects.ts';
export {
  startWorker,
  UnrecoverableJobError,
  type JobContext,
  type JobHandler,
  type JobHandlers,
  type JobObserver,
  type RunningWorker,
  type WorkerOptions,
} from './start-worker.ts';
export { createCoreHandlers } from './handlers.ts';
export { startJobs, type JobsRuntime } from './start-jobs.ts';
export { SCHEDULES, type ScheduleDefinition } from './schedules.ts';
export {
  findScheduleStatus,
  recordScheduleOutcome,
  registerSchedules,
  runSchedulerTick,
  startScheduler,
  type RunningScheduler,
  type ScheduledEnqueue,
  type SchedulerOptions,
  type ScheduleStatus,
} from './scheduler.ts';
export { parseCron, nextCronSlot, latestCronSlot, countCronSlotsBetween, matchesCron, type CronExpression } from './cron.ts';
export { findWorkers, MISSED_BEATS_BEFORE_DEAD, type WorkerStatus } from './worker-heartbeats.ts';
export { getQueueDepths, sampleQueueDepths, type QueueDepth } from './queue-depth.ts';
export {
  findActiveJobs,
  findFailedJobs,
  findJobHistory,
  getJobDetail,
  JOB_STATES,
  type ActiveJob,
  type FailedJobsQuery,
  type JobDetail,
  type JobHistoryQuery,
  type JobState,
  type JobSummary,
} from './find-jobs.ts';
export { retryFailedJob, type RetriedJob } from './retry-failed-job.ts';
export { getPaymentPipelineHealth, type PaymentPipelineHealth, type PipelineStage } from './payment-health.ts';
export { redactPayload, redactJobError } from './redact.ts';
export { createJobObserverMetrics, registerJobStateMetrics } from './metrics.ts';
