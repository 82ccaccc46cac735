// /api/products: the catalog (Products screen).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IdParams, ProductCreate, ProductListQuery, ProductUpdate } from './billing.schema.ts';
import { createProduct, getProduct, listProducts, updateProduct } from './products.service.ts';

export default async function productsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app;
  const config = { access: { screen: 'products' as const } };
  app.get('/api/products', { config, schema: { querystring: ProductListQuery } }, async (req) => listProducts(db, req.query));
  app.post('/api/products', { config, schema: { body: ProductCreate } }, async (req, reply) => reply.code(201).send(await createProduct(db, req.actor, req.body as never)));
  app.get('/api/products/:id', { config, schema: { params: IdParams } }, async (req) => getProduct(db, req.params.id));
  app.patch('/api/products/:id', { config, schema: { params: IdParams, body: ProductUpdate } }, async (req) => updateProduct(db, req.actor, req.params.id, req.body as never));
}
