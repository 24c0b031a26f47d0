import { AppError } from '../../errors.js';
import { describeClosing, setClosingMessage } from '../../privacy/closing.js';
import { TEMPLATE_VARIABLES } from '../../replies/templates.js';
import { getSourceByName } from '../../sources/sources.js';
import { safeMrkdwn } from '../mrkdwn.js';
import type { Subcommand } from './types.js';

const USAGE = 'Usage: `/earshot closing show <source>`, `closing set <source> <message>`, `closing off <source>`.';

/**
 * `closing show|set|off <source>` (leads and admins): the message a customer gets when their ticket
 * is resolved, one per source. Public sources (X) send none unless one is set here.
 */
export const closingCommand: Subcommand = {
  name: 'closing',
  usage: 'closing show <source> | set <source> <message> | off <source>',
  summary: `the message customers get when their ticket is resolved, per source (variables: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(' ')})`,
  permission: 'template.manage',
  run: async ({ db, actor, args }) => {
    const match = /^(\S+)\s+(\S+)\s*([\s\S]*)$/.exec(args.trim());
    const verb = match?.[1]?.toLowerCase();
    const name = match?.[2];
    const rest = (match?.[3] ?? '').trim();
    if (!verb || !name || !['show', 'set', 'off'].includes(verb)) throw new AppError('invalid_input', USAGE);
    if (verb !== 'set' && rest) throw new AppError('invalid_input', USAGE);
    const source = await getSourceByName(db, name);
    if (!source) throw new AppError('not_found', `There is no source named "${name.slice(0, 40)}".`);
    const label = `*${safeMrkdwn(source.name, 40)}*`;
    if (verb === 'show') {
      const { template, sends } = describeClosing(source);
      if (!template) {
        const why = source.kind === 'x' ? ' (off by default: replies on X are public)' : '';
        return { text: `${label} sends no closing message${why}. ${USAGE}` };
      }
      return {
        text: `${label} ${sends ? 'sends this closing message when a ticket is resolved' : 'has this closing message, switched off'}:\n>${safeMrkdwn(template, 2000).replace(/\n/g, '\n>')}`,
      };
    }
    if (verb === 'off') {
      await setClosingMessage(db, actor, { sourceId: source.id, template: null });
      return { text: `${label} sends no closing message now.` };
    }
    if (!rest) throw new AppError('invalid_input', USAGE);
    await setClosingMessage(db, actor, { sourceId: source.id, template: rest });
    const publicNote = source.kind === 'x' ? ' It is posted as a public reply on X.' : '';
    return {
      text: `${label} now sends this when a ticket is resolved:${publicNote}\n>${safeMrkdwn(rest, 2000).replace(/\n/g, '\n>')}`,
    };
  },
};
