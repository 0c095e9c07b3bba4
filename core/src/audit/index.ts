export { recordAudit, SYSTEM_CONTEXT, type AuditContext, type AuditEntry } from './record-audit.ts';
export { findAuditLog, type AuditLogEntry, type AuditLogFilter } from './find-audit-log.ts';
