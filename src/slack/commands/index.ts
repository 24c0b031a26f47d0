import { slaCommand } from '../../sla/command.js';
import { autoAckCommand } from './autoack.js';
import { closingCommand } from './closing.js';
import type { ShareableSubcommand } from './dispatch.js';
import { findCommand } from './find.js';
import { forgetCommand } from './forget.js';
import { helpSubcommand } from './help.js';
import { mineCommand } from './mine.js';
import { monitorCommand } from './monitor.js';
import { priorityCommand } from './priority.js';
import { queueCommand } from './queue.js';
import { roleCommand } from './role.js';
import { routeCommand } from './route.js';
import { sourceCommand } from './source.js';
import { summaryCommand } from './summary.js';
import { templateCommand } from './template.js';
import { ticketCommand } from './ticket.js';
import { vipCommand } from './vip.js';

/**
 * Every `/earshot` subcommand, in the order help lists them. Add yours by importing it and
 * appending it to this list (one line each).
 */
export const SUBCOMMANDS: readonly ShareableSubcommand[] = [
  helpSubcommand(() => SUBCOMMANDS),
  queueCommand,
  mineCommand,
  findCommand,
  ticketCommand,
  summaryCommand,
  roleCommand,
  templateCommand,
  slaCommand,
  sourceCommand,
  monitorCommand,
  routeCommand,
  closingCommand,
  forgetCommand,
  priorityCommand,
  vipCommand,
  autoAckCommand,
];
