import { asc, eq, type InferSelectModel, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { replyTemplates } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { requirePermission } from '../tickets/permissions.js';
import type { Actor } from '../tickets/types.js';

export type ReplyTemplate = InferSelectModel<typeof replyTemplates>;

/** The variables a template may use, and what fills them. */
export const TEMPLATE_VARIABLES = ['author_name', 'handle', 'ticket_id', 'source'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Record<TemplateVariable, string>;

const VARIABLE = /\{\{\s*([a-z_]+)\s*\}\}/g;
const TEMPLATE_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const MAX_TEMPLATE_BODY = 2000;

/** Fills `{{variable}}`s; an unknown variable is left as written, so the agent sees it in the preview. */
export function renderTemplate(body: string, values: TemplateValues): string {
  return body.replace(VARIABLE, (whole, name: string) =>
    (TEMPLATE_VARIABLES as readonly string[]).includes(name) ? values[name as TemplateVariable] : whole,
  );
}

/** The variables a body uses that Earshot cannot fill. */
export function unknownVariables(body: string): string[] {
  const unknown = new Set<string>();
  for (const match of body.matchAll(VARIABLE)) {
    const name = match[1] ?? '';
    if (!(TEMPLATE_VARIABLES as readonly string[]).includes(name)) unknown.add(name);
  }
  return [...unknown];
}

export { bestTemplate } from './template-match.js';

export async function listTemplates(db: Database): Promise<ReplyTemplate[]> {
  return db.select().from(replyTemplates).orderBy(asc(replyTemplates.name));
}

/** Adds a reply template; leads and admins only. Names are one word and unique, ignoring case. */
export async function addTemplate(db: Database, actor: Actor, input: { name: string; body: string }) {
  requirePermission(actor, 'template.manage');
  const name = input.name.trim().toLowerCase();
  const body = input.body.trim();
  if (!TEMPLATE_NAME.test(name)) {
    throw new AppError(
      'invalid_input',
      'A template name is one word of letters, digits, - or _ (at most 40 characters).',
      { details: { field: 'name' } },
    );
  }
  if (!body) throw new AppError('invalid_input', 'The template has no text.', { details: { field: 'body' } });
  if (body.length > MAX_TEMPLATE_BODY) {
    throw new AppError('invalid_input', `A template is at most ${MAX_TEMPLATE_BODY} characters.`, {
      details: { field: 'body' },
    });
  }
  const unknown = unknownVariables(body);
  if (unknown.length > 0) {
    throw new AppError(
      'invalid_input',
      `Unknown variable ${unknown.map((v) => `{{${v}}}`).join(', ')}; templates can use ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}.`,
      { details: { field: 'body', unknown } },
    );
  }
  const createdBy = actor.kind === 'user' ? actor.userId : `system:${actor.name}`;
  const [created] = await db.insert(replyTemplates).values({ name, body, createdBy }).onConflictDoNothing().returning();
  if (!created) {
    throw new AppError('conflict', `A template named "${name}" already exists; remove it first to replace it.`, {
      details: { field: 'name' },
    });
  }
  return created;
}

/** Removes a template by name; leads and admins only. */
export async function removeTemplate(db: Database, actor: Actor, input: { name: string }): Promise<ReplyTemplate> {
  requirePermission(actor, 'template.manage');
  const name = input.name.trim().toLowerCase();
  const [removed] = await db.delete(replyTemplates).where(sql`lower(${replyTemplates.name}) = ${name}`).returning();
  if (!removed) throw new AppError('not_found', `No template is named "${name}".`, { details: { field: 'name' } });
  return removed;
}

export async function getTemplate(db: Database, id: number): Promise<ReplyTemplate | null> {
  const [template] = await db.select().from(replyTemplates).where(eq(replyTemplates.id, id));
  return template ?? null;
}

/** The values a template's variables take for one ticket. */
export function templateValuesFor(view: {
  ticket: { id: number };
  author: { handle: string | null; displayName: string | null };
  source: { name: string };
}): TemplateValues {
  const handle = view.author.handle ? `@${view.author.handle}` : '';
  return {
    author_name: view.author.displayName?.trim() || handle || 'there',
    handle,
    ticket_id: String(view.ticket.id),
    source: view.source.name,
  };
}
