/**
 * Every Slack identifier Earshot's listeners, builders and manifest share. A test checks the
 * manifest and the registered listeners against this file, so an id lives here and nowhere else.
 */

/** The slash command, as declared in manifests/. */
export const SLASH_COMMAND = '/earshot';

/** `action_id`s of interactive elements. */
export const ACTIONS = {
  // Ticket card buttons
  claim: 'ticket_claim',
  unclaim: 'ticket_unclaim',
  reply: 'ticket_reply',
  tag: 'ticket_tag',
  escalate: 'ticket_escalate',
  resolve: 'ticket_resolve',
  reopen: 'ticket_reopen',
  /** The card's overflow menu: assign, spam, copy link, correct triage, full text. */
  overflow: 'ticket_overflow',
  retryReply: 'ticket_retry_reply',
  // Modal elements that dispatch actions while the modal is open
  templatePicked: 'reply_template_picked',
  replyTextChanged: 'reply_text_changed',
  /** The card's "Full text" button, shown when the customer's text was truncated. */
  fullText: 'ticket_full_text',
  // Burst digest card, and the digest modal's paging buttons
  openDigest: 'digest_open',
  digestPage: 'digest_page',
  // Crisis alert card
  crisisAcknowledge: 'crisis_acknowledge',
  crisisIncident: 'crisis_incident',
  crisisSnooze: 'crisis_snooze',
  crisisResolve: 'crisis_resolve',
  // App Home
  homeRefresh: 'home_refresh',
  homeOpenTicket: 'home_open_ticket',
} as const;

/** Values of the card's overflow menu options. */
export const OVERFLOW_OPTIONS = {
  assign: 'assign',
  spam: 'spam',
  copyLink: 'copy_link',
  correct: 'correct',
  fullText: 'full_text',
  close: 'close',
} as const;

/** `callback_id`s of modals. */
export const VIEWS = {
  reply: 'reply_modal',
  tag: 'tag_modal',
  escalate: 'escalate_modal',
  assign: 'assign_modal',
  correct: 'correct_modal',
  fullText: 'full_text_modal',
  digest: 'digest_modal',
} as const;

/** `block_id`s of modal inputs, so `view.state.values[block][action]` reads the same everywhere. */
export const BLOCKS = {
  replyTemplate: 'reply_template',
  replyText: 'reply_text',
  replyPreview: 'reply_preview',
  tagSelect: 'tag_select',
  tagNew: 'tag_new',
  escalateTier: 'escalate_tier',
  escalateReason: 'escalate_reason',
  escalateNotify: 'escalate_notify',
  assignUser: 'assign_user',
  correctCategory: 'correct_category',
  correctSentiment: 'correct_sentiment',
  correctPriority: 'correct_priority',
  /** Escalate modal: the optional user group to page (beside the channel in escalateNotify). */
  escalateNotifyGroup: 'escalate_notify_group',
} as const;

/** `block_id`s of message and modal blocks that are not inputs. */
export const BLOCK_IDS = {
  /** Prefix of a card's actions block; the ticket id follows (`ticket_actions:42`), for the overflow menu. */
  ticketActionsPrefix: 'ticket_actions:',
  /** The Reply modal's note saying where a pre-filled reply came from. */
  replySuggestion: 'reply_suggestion',
  /** The digest modal's paging buttons. */
  digestPaging: 'digest_paging',
  /** Prefix of a crisis alert card's buttons; the alert id follows (`crisis_alert:7`). */
  crisisAlertPrefix: 'crisis_alert:',
} as const;

/**
 * `metadata.event_type` of the messages the delivery worker posts: a retry whose earlier answer was
 * lost finds its post by it (conversations.history with include_all_metadata) instead of posting twice.
 */
export const MESSAGE_METADATA = {
  /** A ticket card; `event_payload.ticket_id` says which. */
  ticketCard: 'earshot_ticket_card',
  /** Any other outbox post (thread line, digest, alert); `event_payload.outbox_id` says which row. */
  delivery: 'earshot_delivery',
} as const;

/** The one `action_id` of each modal input element (inputs dispatch nothing unless listed in ACTIONS). */
export const INPUTS = {
  value: 'value',
} as const;
