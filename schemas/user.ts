/** Contracts of the events on `user-events`, written by the producer endpoint. */
import { Type } from '@sinclair/typebox';
import {
  Closed,
  DeletionReason,
  Email,
  EntityId,
  eventSchema,
  Locale,
  PersonName,
  ProfileChanges,
  ShortText,
  StringEnum,
} from './common';

/** A new user's profile; `welcome_email_sent` carries the same data. */
export const RegisteredUser = Closed({
  userId: EntityId,
  email: Email,
  name: PersonName,
  locale: Type.Optional(Locale),
});

/** The fields of a profile that changed; `profile_updated` carries the same data. */
export const ProfileChange = Closed({ userId: EntityId, changes: ProfileChanges });

export const userRegistered = eventSchema('user_registered', 'A person created an account.', RegisteredUser);

export const userUpdated = eventSchema(
  'user_updated',
  'A user changed their profile; `changes` holds the new values of the fields that changed.',
  ProfileChange,
);

export const userDeleted = eventSchema(
  'user_deleted',
  'A user account was closed; their data must be cleaned up.',
  Closed({ userId: EntityId, reason: DeletionReason, note: Type.Optional(ShortText) }),
);

export const userLogin = eventSchema(
  'user_login',
  'A user signed in.',
  Closed({
    userId: EntityId,
    method: StringEnum(['password', 'sso', 'passkey', 'magic_link'] as const),
    mfa: Type.Optional(Type.Boolean()),
    ipAddress: Type.Optional(Type.String({ maxLength: 45, anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] })),
    userAgent: Type.Optional(Type.String({ maxLength: 512 })),
  }),
);
