import { z } from 'zod';
import { MAX_REPORT_DAYS, reportCsv, type ConversationReports } from '../actors/desk/reports.ts';
import { AppError } from '../infra/errors.ts';
import { authenticate, type Authenticator } from './auth.ts';
import { okBody, type RouteDoc } from './api-schemas.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import type { HttpRouter } from './http.ts';
import { validate } from './validate.ts';

export interface ReportRoutesDeps {
  reports: ConversationReports;
  auth: Authenticator;
  adminLimit?: HttpRateLimit;
}

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a UTC day, YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'a real calendar day');

export const reportQuery = z
  .object({
    from: day.describe('first UTC day of the range, YYYY-MM-DD'),
    to: day.describe(`last UTC day of the range, included; at most ${MAX_REPORT_DAYS} days after from`),
  })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['to'] })
  .refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < MAX_REPORT_DAYS, { message: `at most ${MAX_REPORT_DAYS} days`, path: ['to'] });

const seconds = z.number().nullable();
const timeStats = z.object({ count: z.number().int(), median_s: seconds, p90_s: seconds });
const groupFigures = z.object({
  key: z.string(),
  label: z.string(),
  opened: z.number().int(),
  resolved: z.number().int().describe('of those opened in the range, resolved now'),
  first_response: timeStats.describe('opening → first agent reply, seconds'),
  resolution: timeStats.describe('opening → resolve, seconds'),
  csat: z.object({
    asked: z.number().int(),
    rated: z.number().int(),
    response_rate: z.number().nullable().describe('rated / asked, 0–1'),
    average: z.number().nullable().describe('mean rating: 3 good, 2 okay, 1 poor'),
    score: z.number().nullable().describe('share of ratings that were good (3), 0–1'),
    counts: z.object({ good: z.number().int(), okay: z.number().int(), poor: z.number().int() }),
  }),
});
const reportView = z.object({
  from: z.string(),
  to: z.string(),
  days: z.array(z.object({ day: z.string(), opened: z.number().int(), resolved: z.number().int() })),
  totals: groupFigures,
  by_agent: z.array(groupFigures),
  by_team: z.array(groupFigures),
  by_number: z.array(groupFigures),
});

/** The conversation reports (admins): JSON for the Reports page, CSV to download. */
export function registerReportRoutes(router: HttpRouter, deps: ReportRoutesDeps): void {
  const range = (query: URLSearchParams) => validate(reportQuery, { from: query.get('from') ?? undefined, to: query.get('to') ?? undefined });
  router.get('/api/reports/conversations', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const { from, to } = range(req.query);
    return { json: { status: 1, data: await deps.reports.report(from, to) } };
  }, { rateLimit: deps.adminLimit });
  router.get('/api/reports/conversations.csv', async (req) => {
    await authenticate(req, deps.auth, 'admin');
    const { from, to } = range(req.query);
    const csv = reportCsv(await deps.reports.report(from, to));
    if (csv.length > 16 * 1024 * 1024) throw new AppError('INTERNAL', 'report CSV larger than 16 MiB');
    return { text: csv, contentType: 'text/csv; charset=utf-8', headers: { 'content-disposition': `attachment; filename="conversations-${from}-${to}.csv"` } };
  }, { rateLimit: deps.adminLimit });
}

export const reportRouteDocs: RouteDoc[] = [
  {
    method: 'get', path: '/api/reports/conversations', tags: ['reports'], auth: 'admin', summary: 'Conversation report over a range of UTC days',
    description: `Conversations opened and resolved per day; first-response and resolution times (median and p90, nearest rank, seconds), counts and CSAT by agent, team and number, and in total, for conversations opened in the range. At most ${MAX_REPORT_DAYS} days. Read from the conversation log one day at a time through its day indexes, never from messages.`,
    query: reportQuery,
    responses: { 200: { description: 'The report', schema: okBody({ data: reportView }) } },
  },
  {
    method: 'get', path: '/api/reports/conversations.csv', tags: ['reports'], auth: 'admin', summary: 'The same report as CSV',
    description: 'Columns: dimension (day, agent, team, number, total), key, label, opened, resolved, first_response_median_s, first_response_p90_s, resolution_median_s, resolution_p90_s, csat_asked, csat_rated, csat_response_rate, csat_average, csat_score. Day rows count what was opened and resolved that day.',
    query: reportQuery,
    responses: { 200: { description: 'RFC 4180 CSV, as an attachment', contentType: 'text/csv' } },
  },
];
