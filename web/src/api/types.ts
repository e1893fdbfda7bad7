/** Named types of the management API's objects, read off the generated spec types (schema.d.ts). */
import type { paths } from './schema';

type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;

export type Project = Json<paths['/manage/projects/{id}']['patch']['responses'][200]>;
export type ProjectWithUsage = Json<paths['/manage/projects/{id}']['get']['responses'][200]>;
export type ProjectKey = Json<paths['/manage/projects/{id}/keys/{key_id}']['patch']['responses'][200]>;
export type ProjectKeyPatch = NonNullable<
  paths['/manage/projects/{id}/keys/{key_id}']['patch']['requestBody']
>['content']['application/json'];
export type Token = Json<paths['/manage/tokens/{id}']['patch']['responses'][200]>;
export type TokenWithUsage = Json<paths['/manage/tokens/{id}']['get']['responses'][200]>;
export type CreatedToken = Json<paths['/manage/tokens']['post']['responses'][201]>;
export type NewToken = NonNullable<paths['/manage/tokens']['post']['requestBody']>['content']['application/json'];
export type NewTokenBatch = NonNullable<
  paths['/manage/tokens/batch']['post']['requestBody']
>['content']['application/json'];
export type TokenPatch = NonNullable<
  paths['/manage/tokens/{id}']['patch']['requestBody']
>['content']['application/json'];
export type NewProject = NonNullable<paths['/manage/projects']['post']['requestBody']>['content']['application/json'];
export type ProjectPatch = NonNullable<
  paths['/manage/projects/{id}']['patch']['requestBody']
>['content']['application/json'];
export type TokenListQuery = NonNullable<paths['/manage/tokens']['get']['parameters']['query']>;
export type UsageReport = Json<paths['/manage/usage']['get']['responses'][200]>;
export type UsageQuery = NonNullable<paths['/manage/usage']['get']['parameters']['query']>;
export type UsageGroup = UsageReport['data'][number];
export type UsageTotals = UsageReport['totals'];
export type UsageOverview = Json<paths['/manage/usage/overview']['get']['responses'][200]>;
export type UsageRecord = Json<paths['/manage/usage/records/{id}']['get']['responses'][200]>;
export type UsageRecordsQuery = NonNullable<paths['/manage/usage/records']['get']['parameters']['query']>;
export type PricingTable = Json<paths['/manage/pricing']['get']['responses'][200]>;
export type Price = PricingTable['data'][number];
export type AuditEvent = Json<paths['/manage/audit']['get']['responses'][200]>['data'][number];
export type AuditQuery = NonNullable<paths['/manage/audit']['get']['parameters']['query']>;
export type InstancesListing = Json<paths['/manage/instances']['get']['responses'][200]>;
export type Instance = InstancesListing['data'][number];
export type Limits = Pick<
  Token,
  | 'max_requests'
  | 'requests_per_minute'
  | 'max_concurrent'
  | 'tokens_per_minute'
  | 'budget_usd'
  | 'budget_period'
  | 'allowed_models'
  | 'allowed_endpoints'
>;
