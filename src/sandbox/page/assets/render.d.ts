/** Types for render.js, the page's Block Kit renderer (plain JS so the browser loads it as is). */

type Json = Record<string, unknown>;
type NameMap = Record<string, string | { name?: string; real_name?: string; is_bot?: boolean }>;

export interface RenderContext {
  users?: NameMap;
  channels?: NameMap;
  usergroups?: NameMap;
  botName?: string;
  /** Input values by block_id and action_id (friendly form: text, value or list of values). */
  values?: Record<string, Record<string, string | string[] | null>>;
  /** Validation errors by block_id. */
  errors?: Record<string, string>;
  /** `<!date^…>` tokens render in this IANA zone (default: the browser's) relative to `now` (ms). */
  timeZone?: string;
  now?: number;
}

export function escapeHtml(value: unknown): string;
export function unescapeSlack(text: unknown): string;
export function emojify(escaped: string): string;
export function safeHref(url: unknown): string | null;
export function mrkdwnToHtml(text: unknown, ctx?: RenderContext): string;
export function plainToHtml(text: unknown): string;
export function textToHtml(text: unknown, ctx?: RenderContext): string;
export function renderElement(block: Json, element: Json, ctx?: RenderContext): string;
export function renderBlock(block: Json, ctx?: RenderContext): string;
export function renderBlocks(blocks: readonly Json[] | undefined, ctx?: RenderContext): string;
export function formatTs(ts: string): string;
export function renderMessage(
  message: Json,
  ctx?: RenderContext,
  options?: { ephemeral?: boolean; showThreadSummary?: boolean; highlight?: boolean; channel?: string },
): string;
export function renderViewBody(view: Json, ctx?: RenderContext): string;
