import { type SQLWrapper, sql } from 'drizzle-orm';
import { type Database, rowsOf } from '../../src/db/database.js';

/** One node of an EXPLAIN (FORMAT JSON) plan: 'Node Type', 'Relation Name', 'Index Name', 'Plans'… */
export type PlanNode = Record<string, unknown>;

/** Every node of a plan, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  const children = (plan.Plans as PlanNode[] | undefined) ?? [];
  return [plan, ...children.flatMap(planNodes)];
}

/** The indexes a plan reads, each once, sorted. */
export function indexNames(nodes: readonly PlanNode[]): string[] {
  return [...new Set(nodes.flatMap((node) => (node['Index Name'] ? [String(node['Index Name'])] : [])))].sort();
}

/**
 * The plan PostgreSQL would run for `query`, as its nodes depth first. PGlite answers EXPLAIN's JSON
 * as text, postgres.js as parsed JSON; both come out the same.
 */
export async function explainNodes(db: Database, query: SQLWrapper): Promise<PlanNode[]> {
  const [row] = rowsOf<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(
    await db.execute(sql`explain (format json) ${query}`),
  );
  const raw = row!['QUERY PLAN'];
  return planNodes((typeof raw === 'string' ? JSON.parse(raw) : raw)[0].Plan);
}
