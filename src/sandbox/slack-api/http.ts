import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Route, readBody, sendJson } from '../../http/router.js';
import type { Logger } from '../../logger.js';
import { BLOCK_KIT_LIMITS, checkBlocks } from './block-limits.js';
import { SlackApiError } from './errors.js';
import { METHODS, RateLimitedError } from './methods/index.js';
import type { Json } from './types.js';
import type { SlackWorkspace } from './workspace.js';

/** Arguments Slack takes as JSON strings in form bodies; the sandbox decodes them for methods and recorded calls. */
const JSON_ARGS = ['blocks', 'attachments', 'view', 'metadata', 'files', 'unfurls', 'user_auth_blocks'];
const MAX_API_BODY = 2 * 1024 * 1024;
/** Methods that take the app-level token (`xapp-…`) instead of the bot token. */
const APP_LEVEL_METHODS = new Set(['apps.connections.open']);
const MAX_UPLOAD = 20 * 1024 * 1024;

interface ParsedRequest {
  args: Json;
  contentType: string;
  token?: string;
}

async function parseRequest(req: IncomingMessage, limit: number): Promise<ParsedRequest> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const contentType = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const raw = req.method === 'GET' ? Buffer.alloc(0) : await readBody(req, limit);
  const args: Json = Object.fromEntries(url.searchParams);
  if (contentType === 'application/json' && raw.length > 0) {
    Object.assign(args, JSON.parse(raw.toString('utf8')));
  } else if (contentType === 'multipart/form-data') {
    const form = await new Request('http://localhost/', {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type']) },
      body: raw,
    }).formData();
    for (const [key, value] of form.entries()) {
      args[key] = typeof value === 'string' ? value : Buffer.from(await value.arrayBuffer());
    }
  } else if (raw.length > 0) {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
  }
  for (const name of JSON_ARGS) {
    const value = args[name];
    if (typeof value !== 'string' || value === '') continue;
    try {
      args[name] = JSON.parse(value);
    } catch {
      // Left as a string: the method answers invalid_blocks_format / invalid_arguments, as Slack does.
    }
  }
  const header = String(req.headers.authorization ?? '');
  const bearer = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
  const bodyToken = typeof args.token === 'string' ? args.token : undefined;
  delete args.token;
  const token = bearer || bodyToken;
  return { args, contentType, ...(token ? { token } : {}) };
}

function answer(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, headers);
}

export interface WebApiRouteOptions {
  workspace: SlackWorkspace;
  /** The bot token the app must present (`Authorization: Bearer xoxb-…`). */
  botToken: string;
  logger: Logger;
}

/**
 * Slack's Web API on `/api/<method>` as the real WebClient calls it (form or JSON bodies, Bearer
 * token, `{ ok }` answers, 429 + Retry-After), plus the URLs Slack hands out: response_url and
 * the files.uploadV2 upload URL.
 */
export function webApiRoutes({ workspace: ws, botToken, logger }: WebApiRouteOptions): Route[] {
  const log = logger.child({ component: 'slack-sandbox' });

  async function handleApiCall(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    let parsed: ParsedRequest;
    try {
      parsed = await parseRequest(req, MAX_API_BODY);
    } catch {
      answer(res, 200, { ok: false, error: 'invalid_form_data' });
      return;
    }
    const { args, contentType, token } = parsed;
    const record = (status: number, body: Json, retryAfter?: string) =>
      ws.record({
        method,
        args,
        time: new Date(ws.now()),
        status,
        ok: body.ok === true,
        ...(typeof body.error === 'string' ? { error: body.error } : {}),
        ...(retryAfter !== undefined ? { retryAfter: Number(retryAfter) } : {}),
        response: body,
        contentType,
      });

    const fault = ws.faults.take(method);
    if (fault?.kind === 'unreachable') {
      record(0, { ok: false, error: 'unreachable' });
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const body = { ok: false, error: fault.error };
      const headers: Record<string, string> =
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {};
      record(fault.status, body, headers['retry-after']);
      answer(res, fault.status, body, headers);
      return;
    }
    if (fault?.kind === 'error') {
      const body = { ok: false, error: fault.error };
      record(200, body);
      answer(res, 200, body);
      return;
    }

    const handler = METHODS[method];
    let status = 200;
    let body: Json;
    const headers: Record<string, string> = {};
    if (!handler) body = { ok: false, error: 'unknown_method', req_method: method };
    else if (!token) body = { ok: false, error: 'not_authed' };
    else if (APP_LEVEL_METHODS.has(method) && token === botToken) body = { ok: false, error: 'not_allowed_token_type' };
    else if (APP_LEVEL_METHODS.has(method) ? token !== ws.socketMode?.appToken : token !== botToken)
      body = { ok: false, error: 'invalid_auth' };
    else {
      try {
        body = { ok: true, ...(await handler({ ws, args })) };
      } catch (err) {
        if (err instanceof RateLimitedError) {
          status = 429;
          headers['retry-after'] = String(err.retryAfter);
          body = err.toBody();
        } else if (err instanceof SlackApiError) {
          body = err.toBody();
        } else {
          log.error({ err, method }, 'sandbox method failed');
          body = { ok: false, error: 'internal_error' };
          status = 500;
        }
      }
    }
    if (fault?.kind === 'lost') {
      // Slack did the work; the client never learns it.
      if (fault.how === 500) {
        const lost = { ok: false, error: 'internal_error' };
        record(500, { ...lost, performed: body });
        answer(res, 500, lost);
      } else {
        record(0, { ok: false, error: fault.how === 'drop' ? 'answer_dropped' : 'answer_held', performed: body });
        if (fault.how === 'drop') req.socket.destroy();
        else ws.faults.hold(() => req.socket.destroy());
      }
      return;
    }
    record(status, body, headers['retry-after']);
    answer(res, status, body, headers);
  }

  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    let args: Json = {};
    try {
      const raw = await readBody(req, MAX_API_BODY);
      args = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Json) : {};
    } catch {
      answer(res, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    const record = (status: number, body: Json) =>
      ws.record({
        method: 'response_url',
        args,
        time: new Date(ws.now()),
        status,
        ok: body.ok === true,
        ...(typeof body.error === 'string' ? { error: body.error } : {}),
        response: body,
        contentType: 'application/json',
      });
    const fault = ws.faults.take('response_url');
    if (fault && fault.kind !== 'error') {
      const status = fault.kind === 'status' ? fault.status : 503;
      record(status, { ok: false, error: 'unavailable' });
      answer(res, status, { ok: false, error: 'unavailable' });
      return;
    }
    const target = ws.useResponseUrl(id);
    if (!target) {
      record(404, { ok: false, error: 'expired_url' });
      answer(res, 404, { ok: false, error: 'expired_url' });
      return;
    }
    const blocks = Array.isArray(args.blocks) ? (args.blocks as Json[]) : undefined;
    const text = typeof args.text === 'string' ? args.text : undefined;
    const problems = blocks ? checkBlocks(blocks, 'message') : [];
    let error: string | undefined;
    if (problems.length > 0) error = 'invalid_blocks';
    else if (text && text.length > BLOCK_KIT_LIMITS.messageText) error = 'msg_too_long';
    if (error) {
      const body = { ok: false, error, ...(problems.length ? { response_metadata: { messages: problems } } : {}) };
      record(400, body);
      answer(res, 400, body);
      return;
    }
    const isTrue = (value: unknown) => value === true || value === 'true';
    const content = { ...(text !== undefined ? { text } : {}), ...(blocks ? { blocks } : {}) };
    const channel = ws.channel(target.channel);
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : target.threadTs;
    if (isTrue(args.delete_original) && target.messageTs) {
      if (target.ephemeral) ws.deleteEphemeral(target.messageTs);
      else if (ws.findMessage(channel.id, target.messageTs)) ws.deleteMessage(channel.id, target.messageTs);
    } else if (isTrue(args.replace_original) && target.messageTs) {
      if (target.ephemeral) ws.replaceEphemeral(target.messageTs, content);
      else if (ws.findMessage(channel.id, target.messageTs))
        ws.updateMessage(channel.id, target.messageTs, { text: text ?? '', blocks: blocks ?? [] });
    } else if (args.response_type === 'in_channel') {
      ws.postMessage(
        channel,
        {
          ...content,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          ...(target.command ? { command_echo: target.command } : {}),
        },
        { bot: true },
      );
    } else {
      ws.postEphemeral(
        channel,
        target.user,
        { ...content, ...(threadTs ? { thread_ts: threadTs } : {}) },
        'response_url',
      );
    }
    record(200, { ok: true });
    answer(res, 200, { ok: true });
  }

  async function handleUpload(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const file = ws.files.get(id);
    if (!file) {
      answer(res, 404, { ok: false, error: 'file_not_found' });
      return;
    }
    const parsed = await parseRequest(req, MAX_UPLOAD);
    const data = Object.values(parsed.args).find((value) => Buffer.isBuffer(value) || typeof value === 'string');
    file.content = Buffer.isBuffer(data) ? data : Buffer.from(String(data ?? ''), 'utf8');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${file.content.length}`);
  }

  function handleDownload(res: ServerResponse, id: string): void {
    const file = ws.files.get(id);
    if (!file?.content) {
      answer(res, 404, { ok: false, error: 'file_not_found' });
      return;
    }
    res.writeHead(200, {
      'content-type': file.mimetype,
      'content-disposition': `inline; filename="${file.name.replace(/"/g, '')}"`,
      'x-content-type-options': 'nosniff',
    });
    res.end(file.content);
  }

  return [
    { method: 'POST', path: '/api/:method', handler: (req, res, params) => handleApiCall(req, res, params.method!) },
    { method: 'GET', path: '/api/:method', handler: (req, res, params) => handleApiCall(req, res, params.method!) },
    {
      method: 'POST',
      path: '/sandbox/response/:id',
      handler: (req, res, params) => handleResponseUrl(req, res, params.id!),
    },
    {
      method: 'POST',
      path: '/sandbox/files/upload/:id',
      handler: (req, res, params) => handleUpload(req, res, params.id!),
    },
    { method: 'GET', path: '/sandbox/files/:id/*', handler: (_req, res, params) => handleDownload(res, params.id!) },
  ];
}
