export { getPaymentTimeline, explainPayment, type PaymentTimeline, type TimelineEntry, type PaymentState } from './payment-timeline.ts';
export { getPaymentPipeline, pipelineWindow, type PaymentPipeline, PIPELINE_HORIZON_HOURS } from './payment-pipeline.ts';
export { findManualReviewQueue, type ManualReviewItem } from './manual-review-queue.ts';
export { findPaymentOperations, type PaymentOperationItem, type PaymentOperationQuery } from './payment-operations.ts';
export { findReceipts, getReceipt, type Receipt, RECEIPT_STATES, type ReceiptState } from './receipts.ts';
export {
  earningsWindow,
  findInstructorTransfers,
  getInstructorEarnings,
  type EarningsPeriod,
  type InstructorEarnings,
  type PayoutTransfer,
} from './earnings.ts';
export { labelOf, type ProviderLabel, usd } from './labels.ts';
