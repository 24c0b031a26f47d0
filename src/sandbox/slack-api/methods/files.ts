import { SlackApiError } from '../errors.js';
import { apiFile } from '../serialize.js';
import type { Json } from '../types.js';
import { type MethodHandler, optionalString, requireString } from './context.js';

const MIME_BY_EXTENSION: Record<string, string> = {
  csv: 'text/csv',
  txt: 'text/plain',
  json: 'application/json',
  png: 'image/png',
  jpg: 'image/jpeg',
  pdf: 'application/pdf',
  md: 'text/markdown',
};

/** The files.uploadV2 flow: get an upload URL, POST the bytes there, complete the upload into a channel. */
export const fileMethods: Record<string, MethodHandler> = {
  'files.getUploadURLExternal': ({ ws, args }) => {
    const name = requireString(args, 'filename');
    const length = Number(requireString(args, 'length'));
    if (!Number.isFinite(length) || length < 0) throw new SlackApiError('invalid_arguments');
    const id = ws.newId('F');
    const extension = name.split('.').pop()?.toLowerCase() ?? '';
    ws.files.set(id, {
      id,
      name,
      title: name,
      length,
      mimetype: MIME_BY_EXTENSION[extension] ?? 'application/octet-stream',
      created: Math.floor(ws.now() / 1000),
      user: ws.bot.user_id,
      channels: [],
    });
    return { upload_url: `${ws.baseUrl()}/sandbox/files/upload/${id}`, file_id: id };
  },

  'files.completeUploadExternal': ({ ws, args }) => {
    const list = args.files;
    if (!Array.isArray(list) || list.length === 0) throw new SlackApiError('invalid_arguments');
    const files = (list as Json[]).map((entry) => {
      const file = ws.files.get(String(entry.id));
      if (!file?.content) throw new SlackApiError('file_not_found');
      if (typeof entry.title === 'string') file.title = entry.title;
      return file;
    });
    const channelId = optionalString(args, 'channel_id') ?? optionalString(args, 'channels')?.split(',')[0];
    if (channelId) {
      const channel = ws.channel(channelId);
      for (const file of files) file.channels.push(channel.id);
      const threadTs = optionalString(args, 'thread_ts');
      ws.postMessage(
        channel,
        {
          text: optionalString(args, 'initial_comment') ?? '',
          files: files.map((file) => apiFile(ws, file)),
          ...(threadTs ? { thread_ts: threadTs } : {}),
        },
        { bot: true },
      );
    }
    return { files: files.map((file) => apiFile(ws, file)) };
  },
};
