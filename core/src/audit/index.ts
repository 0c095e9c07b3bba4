export { recordAudit, SYSTEM_CONTEXT, type AuditContext, type AuditEntry } from './record-audit.ts';
