/** Why a record went to a dead-letter topic. One code per distinct failure an operator can act on. */
export const DEAD_LETTER_REASONS = [
  /** Not valid JSON, protobuf or text of the declared format. */
  'malformed',
  /** Well-formed, but a required field is missing or empty. */
  'missing-field',
  /** A field has a value outside its domain (a bad IP, a negative count, an unknown enum). */
  'invalid-value',
  /** End before start, or a time too far in the future or past. */
  'invalid-time',
  /** The message's content-type (or VPC format) is not one the stage reads. */
  'unsupported-format',
  /** Arrived after its window closed (beyond allowed lateness). */
  'too-late',
  /** A store or downstream rejected it. */
  'rejected',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A record a stage could not take: what was wrong, and the record itself, unchanged. */
export interface Rejection {
  reason: DeadLetterReason;
  message: string;
  /** The offending input (a line, or the whole message payload). */
  raw: string | Uint8Array;
}
