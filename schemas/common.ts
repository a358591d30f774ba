/**
 * Building blocks shared by every event contract: the envelope and the field types several events
 * use. Schemas are built with TypeBox, which produces plain JSON Schema (draft-07) objects and infers
 * their TypeScript types, so the same objects are (1) registered in AWS Glue Schema Registry by the
 * CDK stack, (2) compiled by Ajv for the producer, the consumers, the local runtime and the tests, and
 * (3) the source of the TypeScript types (`Static<typeof schema>`). Nothing is typed twice.
 *
 * Why draft-07 and no `format: uuid`: Glue Schema Registry accepts JSON Schema Draft-04, Draft-06 and
 * Draft-07 and validates with the Everit library
 * (https://docs.aws.amazon.com/glue/latest/dg/schema-registry.html). Everit's draft-07 format set has
 * no `uuid`, so identifiers are checked with `pattern`, which Everit and Ajv implement alike.
 */
import { type TProperties, type TSchema, Type } from '@sinclair/typebox';

/** The `$schema` every contract declares. */
export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** A string restricted to `values`, as a JSON Schema `enum` (TypeBox's union of literals would be an `anyOf`). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A closed object: properties beyond those listed are a violation. */
export function Closed<P extends TProperties>(properties: P, options: { minProperties?: number } = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** RFC 4122 UUID in its canonical textual form (any version, either case). */
const Uuid = Type.String({
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
});

/**
 * Identifier of a business entity (user, order, payment, refund). It becomes part of the Kafka key
 * (`user-<id>`), so it is limited to characters that are safe in keys, logs and URLs.
 */
export const EntityId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$',
});

/** An e-mail address (RFC 5321 caps the length at 254). */
export const Email = Type.String({ format: 'email', maxLength: 254 });

/** A person's display name. */
export const PersonName = Type.String({ minLength: 1, maxLength: 200 });

/** A BCP 47 language tag such as `en` or `pt-BR`. */
export const Locale = Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$', maxLength: 35 });

/**
 * An amount of money in the currency's minor unit (cents for EUR and USD). Integers, never binary
 * floating point, so that totals add up exactly.
 */
export const MinorUnits = Type.Integer({ minimum: 0, maximum: 100_000_000_000 });

/** ISO 4217 alphabetic currency code. */
export const Currency = Type.String({ pattern: '^[A-Z]{3}$' });

/** Free text for people to read (reasons, messages). */
export const ShortText = Type.String({ minLength: 1, maxLength: 1000 });

/** A machine-readable code such as a payment decline reason (`insufficient_funds`). */
export const Code = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });

/** Lifecycle states of an order. */
export const OrderStatus = StringEnum([
  'pending',
  'confirmed',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
] as const);

/** How a customer paid. */
export const PaymentMethod = StringEnum(['card', 'bank_transfer', 'wallet', 'voucher'] as const);

/** Why a user account was closed. */
export const DeletionReason = StringEnum(['user_request', 'admin', 'inactivity', 'fraud'] as const);

/** The profile fields a user can change. */
export const ProfileChanges = Closed(
  { email: Type.Optional(Email), name: Type.Optional(PersonName), locale: Type.Optional(Locale) },
  { minProperties: 1 },
);

/**
 * Builds the schema of one event: the common envelope around the event's own `data`.
 *
 * - `eventId`: UUID, unique per event; a consumer can use it to drop duplicates (delivery is at least once).
 * - `eventType`: fixed to the contract's name, so a record can be routed before its data is read.
 * - `occurredAt`: RFC 3339 date-time with an explicit offset (JSON Schema `date-time`).
 * - `source`: the service that emitted the event.
 * - `correlationId`: shared by every event caused, directly or not, by one request.
 * - `causationId`: optional, the `eventId` of the event this one was derived from.
 * - `schemaVersion`: the contract version the producer wrote.
 */
export function eventSchema<const T extends string, D extends TSchema>(
  eventType: T,
  description: string,
  data: D,
) {
  return Type.Object(
    {
      eventId: Uuid,
      eventType: Type.Literal(eventType),
      occurredAt: Type.String({ format: 'date-time', maxLength: 64 }),
      source: Type.String({ minLength: 1, maxLength: 256 }),
      correlationId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$' }),
      causationId: Type.Optional(Uuid),
      schemaVersion: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      data,
    },
    { $schema: JSON_SCHEMA_DRAFT, title: eventType, description, additionalProperties: false },
  );
}
