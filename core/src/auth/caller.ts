import type { AuditContext } from '../audit/record-audit.ts';

/** Who is asking and from where: for audit records, sign-in throttling and session metadata. */
export interface Caller {
  readonly audit: AuditContext;
  /** Keyed hash of the client IP (never the IP itself). */
  readonly ipHash: string;
  readonly userAgent: string | null;
}
