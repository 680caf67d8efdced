/** The `schedule` of a broadcast, exactly as CONTRACTS.md § Schedules writes it; defined with the HTTP contract (`@loaxa/shared`). */
export { scheduleSchema, instantSchema, occurrenceExceptionSchema, type Schedule, type OccurrenceException } from '../scheduling/schedule.js';
