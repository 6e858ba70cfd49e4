/** A record every field of which is valid. */
export const validRecord = {
  fileName: 'daily-settlement-20261121.csv',
  slaDeadline: '2026-11-21T10:00:00Z',
  receivedAt: '2026-11-21T10:42:00Z',
  errorCode: 'SLA_BREACH',
  message: 'File arrived 42 minutes late',
  severity: 'high',
  source: 'sftp-ingest',
};
