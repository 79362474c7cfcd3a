// CloudWatch Logs in the lab cloud: metric and subscription filters applied to every event
// (extension.ts), FilterLogEvents with AWS's pattern syntax (filter-log-events.ts).
export { LogFilters, logsService, RETENTION_DAYS, type GroupFilters, type SubscriptionFilter } from './extension.ts';
