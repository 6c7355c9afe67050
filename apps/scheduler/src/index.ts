export { Scheduler, systemClock, systemTimer, type Clock, type ScheduledStart, type SchedulerOptions, type Timer } from './scheduler.ts';
export { defineSchedule, resumeChanges, scheduledStart, type ScheduleInput } from './definition.ts';
export { parseCron, type CronSchedule } from './cron.ts';
export { InvalidScheduleError } from './errors/invalid-schedule-error.ts';
