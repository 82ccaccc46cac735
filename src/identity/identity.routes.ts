// Admin API for users, roles and role groups. Thin: schema, access, one service call.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { NotFound } from '../platform/errors.ts';
import { Nullable } from '../platform/schema.ts';
import { noBodyIsEmpty } from '../platform/validator.ts';
import authRoutes from './auth.routes.ts';
import auditRoutes from './audit.routes.ts';
import { createLocalUser, getUserDetail, listUsers, resetPassword, signOutEverywhere, updateUser } from './users.service.ts';
import { createRole, deleteRole, getRole, listRoles, updateRole } from './roles.service.ts';
import { createRoleGroup, deleteRoleGroup, getRoleGroup, listRoleGroups, updateRoleGroup } from './role-groups.service.ts';

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});
const Status = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('disabled')]);
const UserFields = {
  displayName: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  givenName: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  familyName: Type.Optional(Nullable(Type.String({ maxLength: 256 }))),
  email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
  roleId: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  status: Type.Optional(Status),
  timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  locale: Type.Optional(Type.String({ minLength: 1, maxLength: 35 })),
};
const Levels = Type.Record(Type.String(), Type.Union([Type.Literal('none'), Type.Literal('read'), Type.Literal('full')]));

export default async function identityRoutes(app: FastifyInstance): Promise<void> {
  const { db } = app;
  await app.register(authRoutes);
  await app.register(auditRoutes);

  // Users
  const users = { access: { screen: 'users' as const } };
  app.get('/api/users', {
    config: users,
    schema: { querystring: Type.Intersect([ListQuery, Type.Object({ status: Type.Optional(Status), source: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('idp')])) })]) },
  }, async (req) => listUsers(db, req.query as never));
  app.get('/api/users/:id', { config: users, schema: { params: Id } }, async (req) => {
    const u = await getUserDetail(db, (req.params as { id: string }).id, { sessionIdleMinutes: app.config.sessionIdleMinutes });
    if (!u) throw NotFound('No such user');
    return u;
  });
  app.post('/api/users', {
    config: users,
    schema: { body: Type.Object({ userName: Type.String({ maxLength: 256 }), password: Type.Optional(Type.String({ maxLength: 512 })), ...UserFields }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const res = await createLocalUser(db, req.actor, req.body as never);
    return reply.code(201).send({ ...res.user, ...(res.initialPassword ? { initialPassword: res.initialPassword } : {}) });
  });
  app.patch('/api/users/:id', {
    config: users,
    schema: { params: Id, body: Type.Object({ userName: Type.Optional(Type.String({ maxLength: 256 })), password: Type.Optional(Type.String()), ...UserFields }, { additionalProperties: false }) },
  }, async (req) => updateUser(db, req.actor, (req.params as { id: string }).id, req.body as never, { sessionIdleMinutes: app.config.sessionIdleMinutes }));
  app.post('/api/users/:id/password', {
    config: users,
    // No body (or {}) asks for a generated password: it was a 400 "body: Must be object".
    preValidation: noBodyIsEmpty,
    schema: { params: Id, body: Type.Object({ password: Type.Optional(Type.String({ maxLength: 512 })) }, { additionalProperties: false }) },
  }, async (req) => resetPassword(db, req.actor, (req.params as { id: string }).id, (req.body as { password?: string }).password));
  app.post('/api/users/:id/sign-out-everywhere', { config: users, schema: { params: Id } }, async (req) => signOutEverywhere(db, req.actor, (req.params as { id: string }).id));

  // Roles
  const roles = { access: { screen: 'roles' as const } };
  app.get('/api/roles', { config: roles, schema: { querystring: ListQuery } }, async (req) => listRoles(db, req.query as never));
  app.get('/api/roles/:id', { config: roles, schema: { params: Id } }, async (req) => {
    const r = await getRole(db, (req.params as { id: string }).id);
    if (!r) throw NotFound('No such role');
    return r;
  });
  app.post('/api/roles', {
    config: roles,
    schema: { body: Type.Object({ name: Type.String({ maxLength: 100 }), roleGroupIds: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 }) }, { additionalProperties: false }) },
  }, async (req, reply) => reply.code(201).send(await createRole(db, req.actor, req.body as never)));
  app.patch('/api/roles/:id', {
    config: roles,
    schema: { params: Id, body: Type.Object({ name: Type.Optional(Type.String({ maxLength: 100 })), roleGroupIds: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })) }, { additionalProperties: false }) },
  }, async (req) => updateRole(db, req.actor, (req.params as { id: string }).id, req.body as never));
  app.delete('/api/roles/:id', { config: roles, schema: { params: Id } }, async (req, reply) => {
    await deleteRole(db, req.actor, (req.params as { id: string }).id);
    return reply.code(204).send();
  });

  // Role groups
  const rgs = { access: { screen: 'role-groups' as const } };
  app.get('/api/role-groups', { config: rgs, schema: { querystring: ListQuery } }, async (req) => listRoleGroups(db, req.query as never));
  app.get('/api/role-groups/:id', { config: rgs, schema: { params: Id } }, async (req) => {
    const rg = await getRoleGroup(db, (req.params as { id: string }).id);
    if (!rg) throw NotFound('No such role group');
    return rg;
  });
  app.post('/api/role-groups', {
    config: rgs,
    schema: { body: Type.Object({ name: Type.String({ maxLength: 100 }), levels: Type.Optional(Levels) }, { additionalProperties: false }) },
  }, async (req, reply) => reply.code(201).send(await createRoleGroup(db, req.actor, req.body as never)));
  app.patch('/api/role-groups/:id', {
    config: rgs,
    schema: { params: Id, body: Type.Object({ name: Type.Optional(Type.String({ maxLength: 100 })), levels: Type.Optional(Levels), isScimDefault: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) },
  }, async (req) => updateRoleGroup(db, req.actor, (req.params as { id: string }).id, req.body as never));
  app.delete('/api/role-groups/:id', { config: rgs, schema: { params: Id } }, async (req, reply) => {
    await deleteRoleGroup(db, req.actor, (req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
