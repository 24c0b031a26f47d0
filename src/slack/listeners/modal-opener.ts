import { randomBytes } from 'node:crypto';
import type { ModalView, View } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { AppError } from '../../errors.js';
import { type Permission, requirePermission } from '../../tickets/permissions.js';
import type { Actor } from '../../tickets/types.js';
import type { SlackDeps } from '../deps.js';
import { type BlockActionArgs, tellTarget, ticketIdOfAction } from './actions/ticket-action.js';
import { reportFailure, type TellUserTarget, tellUser } from './tell-user.js';

/** Everything needed to open a ticket's modal for a user, whatever they clicked (a card button, the overflow menu, App Home). */
export interface ModalRequest {
  client: WebClient;
  triggerId: string;
  userId: string;
  ticketId: number;
  /** Where the user clicked, for an ephemeral refusal. */
  channelId?: string | undefined;
  respond?: TellUserTarget['respond'];
}

/** Opens one kind of modal; exported by each `open-*.ts` so the card's overflow menu can call it too. */
export type ModalOpener = (deps: SlackDeps, request: ModalRequest) => Promise<void>;

/** The modal as Slack opened it (its id and hash guard later `views.update` calls). */
export interface OpenedView {
  viewId: string;
  hash: string | undefined;
  blocks: readonly unknown[];
  privateMetadata: string | undefined;
}

export interface OpenSpec {
  /** For the log: `reply`, `tag`… */
  name: string;
  permission: Permission;
  /** Reads what the modal shows (fast database reads only: the trigger expires in ~3 s). */
  build: (actor: Actor) => Promise<ModalView>;
  /** Slow enrichment after the modal is open, through `views.update`. */
  after?: (opened: OpenedView, actor: Actor) => Promise<void>;
}

/**
 * The shape of every "open a modal" click: the caller has already acked; the role is checked first
 * (a refusal opens nothing and says why, ephemerally), the view is built from the database, opened
 * with `views.open` while the trigger is fresh, and anything slow comes after, by `views.update`.
 */
export async function openModal(deps: SlackDeps, request: ModalRequest, spec: OpenSpec): Promise<void> {
  const target: TellUserTarget = {
    client: request.client,
    userId: request.userId,
    channelId: request.channelId,
    respond: request.respond,
  };
  const context = { modal: spec.name, ticketId: request.ticketId, userId: request.userId };
  let actor: Actor;
  let opened: Awaited<ReturnType<WebClient['views']['open']>>;
  let view: ModalView;
  try {
    actor = await deps.resolveActor(request.userId);
    requirePermission(actor, spec.permission);
    view = await spec.build(actor);
    opened = await request.client.views.open({ trigger_id: request.triggerId, view });
  } catch (err) {
    await reportFailure(err, target, deps.logger, context);
    return;
  }
  if (!spec.after || !opened.view?.id) return;
  try {
    await spec.after(
      {
        viewId: opened.view.id,
        hash: opened.view.hash,
        blocks: opened.view.blocks ?? view.blocks,
        privateMetadata: opened.view.private_metadata ?? view.private_metadata,
      },
      actor,
    );
  } catch (err) {
    // The modal is open and works as it is; only what `after` adds to it is missing.
    const ref = randomBytes(4).toString('hex');
    deps.logger.error({ ...context, err, ref }, 'modal opened, but filling it in afterwards failed');
    try {
      await tellUser(
        target,
        `:warning: The ${spec.name.replace(/_/g, ' ')} form is open, but Earshot could not finish filling it in, so it may lack a suggestion or an option. You can use it as it is; nothing was saved. It is logged (ref \`${ref}\`).`,
      );
    } catch (tellErr) {
      deps.logger.error({ ...context, err: tellErr }, 'could not tell the user that their modal is incomplete');
    }
  }
}

/**
 * A Bolt listener for an element that opens a ticket's modal (a card button, an overflow option, an
 * App Home button): ack at once, find the ticket the element belongs to, open.
 */
export function modalOpenerListener(deps: SlackDeps, opener: ModalOpener) {
  return async (args: BlockActionArgs): Promise<void> => {
    await args.ack();
    const target = tellTarget(args);
    try {
      const ticketId = await ticketIdOfAction(deps.db, args);
      if (ticketId === null) throw new AppError('not_found', 'This button does not point at a ticket Earshot knows.');
      await opener(deps, {
        client: args.client,
        triggerId: args.body.trigger_id,
        userId: args.body.user.id,
        ticketId,
        channelId: args.body.channel?.id,
        respond: target.respond,
      });
    } catch (err) {
      await reportFailure(err, target, deps.logger, { action: args.action.action_id, userId: args.body.user.id });
    }
  };
}

/**
 * `views.update` guarded by the hash Slack gave the view: if the view changed since (the user typed
 * on, another update landed), Slack answers `hash_conflict` and the stale update is dropped.
 * Returns whether the update was applied; other failures are logged with the view id.
 */
export async function updateViewIfUnchanged(
  deps: Pick<SlackDeps, 'logger'>,
  client: WebClient,
  current: { id: string; hash?: string | undefined },
  next: View,
): Promise<boolean> {
  try {
    await client.views.update({ view_id: current.id, ...(current.hash ? { hash: current.hash } : {}), view: next });
    return true;
  } catch (err) {
    if ((err as { data?: { error?: string } }).data?.error === 'hash_conflict') return false;
    deps.logger.error({ err, viewId: current.id }, 'could not update a modal');
    return false;
  }
}
