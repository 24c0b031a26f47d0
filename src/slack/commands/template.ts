import type { KnownBlock } from '@slack/types';
import { AppError } from '../../errors.js';
import { addTemplate, listTemplates, removeTemplate, TEMPLATE_VARIABLES } from '../../replies/templates.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { Subcommand } from './types.js';

const USAGE = 'Usage: `/earshot template add <name> <text>`, `template list`, `template remove <name>`.';

/** `template add|list|remove`: the reply templates the Reply modal offers. */
export const templateCommand: Subcommand = {
  name: 'template',
  usage: 'template add <name> <text> | list | remove <name>',
  summary: `reply templates (variables: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(' ')})`,
  permission: 'template.manage',
  run: async ({ db, actor, args }) => {
    const match = /^(\S+)\s*([\s\S]*)$/.exec(args.trim());
    const verb = match?.[1]?.toLowerCase();
    const rest = (match?.[2] ?? '').trim();
    if (verb === 'list' || verb === undefined) {
      const templates = await listTemplates(db);
      if (templates.length === 0) return { text: `No templates yet. ${USAGE}` };
      const blocks: KnownBlock[] = templates.slice(0, 49).map((t) => ({
        type: 'section',
        text: { type: 'mrkdwn', text: `*${safeMrkdwn(t.name, 40)}*\n${safeMrkdwn(t.body, 2000)}` },
      }));
      if (templates.length > 49) {
        blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${templates.length - 49} more.` }] });
      }
      return { text: `${templates.length} reply templates`, blocks };
    }
    if (verb === 'add') {
      const parts = /^(\S+)\s+([\s\S]+)$/.exec(rest);
      if (!parts) throw new AppError('invalid_input', USAGE);
      const created = await addTemplate(db, actor, { name: parts[1]!, body: parts[2]! });
      return { text: `Template *${safeMrkdwn(created.name, 40)}* added.` };
    }
    if (verb === 'remove') {
      if (!rest || /\s/.test(rest)) throw new AppError('invalid_input', USAGE);
      const removed = await removeTemplate(db, actor, { name: rest });
      return { text: `Template *${safeMrkdwn(removed.name, 40)}* removed.` };
    }
    throw new AppError('invalid_input', USAGE);
  },
};
